"""The job input (`invoke --input`, `@file`, stdin, and deploy's `--smoke FILE`): whatever
parse_input accepts can be sent, and whatever it refuses is a usage error with a place and a
hint. Python's json reads more than JSON can carry: 1e400 as inf, "\\ud800" as half a UTF-16
pair, 5000 digits as a ValueError; each was an internal error when httpx encoded the body."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpuctl.cli.job_input import job_payload, parse_input
from gpuctl.errors import UsageError
from tests.conftest import run_cli
from tests.e2e.conftest import echo_config, project

REFUSED = {
    "lone-high-surrogate": ('"\\ud800"', "half of a UTF-16 surrogate pair"),
    "lone-low-surrogate-key": ('{"\\udc00": 1}', "half of a UTF-16 surrogate pair"),
    "number-too-large": ("1e400", "too large for a JSON number"),
    "number-too-small": ('{"x": [-1e999]}', "too large for a JSON number"),
    "too-many-digits": ("1" * 5000, "a number of 5000 digits"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_input_json_reads_but_cannot_send_is_a_usage_error(tmp_path, case):
    text, words = REFUSED[case]
    (tmp_path / "input.json").write_text(text)
    for given, where in ((text, "--input"), ("@input.json", "input.json")):
        # refused before any provider is looked for: GPUCTL_LOCAL_DIR names nothing
        result = run_cli(["serverless", "invoke", "echo", "--input", given], tmp_path, {"GPUCTL_LOCAL_DIR": str(tmp_path / "none")})
        assert result.code == 1 and "internal error" not in result.err, result.err
        assert words in result.err and f"in {where}" in result.err and "\nhint: " in result.err, result.err


def test_invalid_json_in_a_file_says_how_to_fix_it(tmp_path):
    """The literal --input got a shell-quoting hint; a file or stdin got no hint at all."""
    (tmp_path / "input.json").write_text('{"prompt": "hi" "x"}')
    result = run_cli(["serverless", "invoke", "echo", "--input", "@input.json"], tmp_path, {"GPUCTL_LOCAL_DIR": str(tmp_path / "none")})
    assert result.code == 1 and "input.json:1:17: " in result.err, result.err
    assert "hint: fix the JSON at input.json:1:17; a job input is standard JSON" in result.err, result.err


def test_a_trailing_comma_in_a_file_is_named_at_the_comma(tmp_path):
    """json.loads says "Expecting property name enclosed in double quotes" at the brace, and
    the hint then spoke of quoting: gpu.jsonc allows trailing commas, so people write them."""
    (tmp_path / "input.json").write_text('{\n  "prompt": "hi",\n}')
    result = run_cli(["serverless", "invoke", "echo", "--input", "@input.json"], tmp_path, {"GPUCTL_LOCAL_DIR": str(tmp_path / "none")})
    assert result.code == 1 and "input.json:2:17: a trailing comma before '}'" in result.err, result.err
    assert "hint: remove the comma" in result.err and "double quotes" not in result.err, result.err


def test_a_smoke_file_is_read_the_same_way(tmp_path):
    project(tmp_path, echo_config())
    (tmp_path / "smoke.json").write_text('{"input": {"n": 1e400}}')
    # checked before anything is planned: GPUCTL_LOCAL_DIR names no provider
    result = run_cli(["serverless", "deploy", "--wait-healthy", "--smoke", "smoke.json", "--provider", "local", "-y"], tmp_path,
                     {"GPUCTL_LOCAL_DIR": str(tmp_path / "none")})
    assert result.code == 1 and "too large for a JSON number" in result.err and "in smoke.json" in result.err, result.err


_text = st.recursive(
    st.sampled_from(["0", "-1", "1e400", "-1e400", "1.5e308", "1e-400", "1" * 4301, "1" * 4300, "true", "null", '"x"', '"\\ud800"', '"\\udfff"',
                     '"\\ud83d\\ude80"', '"\\u0000"', "NaN", '"é"', '""']),
    lambda inner: st.lists(inner, max_size=3).map(lambda xs: "[" + ",".join(xs) + "]")
    | st.lists(st.tuples(st.sampled_from(['"a"', '"\\ud800"', '"input"', '""']), inner), max_size=3).map(lambda kv: "{" + ",".join(f"{k}:{v}" for k, v in kv) + "}"),
    max_leaves=6,
) | st.text(max_size=20)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(text=_text)
def test_what_parse_input_accepts_httpx_can_send(text):
    try:
        value = parse_input(text, "--input")
    except UsageError as error:
        assert error.hint, error.format()
        return
    httpx.Request("POST", "http://127.0.0.1/run", json=job_payload(value)).read()
