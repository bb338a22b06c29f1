"""`deploy --plan --observed` and `drift --observed` against damaged snapshots: any value at
any key path of the fixture snapshots, or a damaged file, is planned or refused as a located
user error (the key path and `gpu serverless snapshot`), never a crash. No network."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES, run_cli
from tests.support.documents import key_paths, replaced

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
CASES = sorted(p.parent for p in FIXTURES.glob("plans/*/observed.json"))
COMMANDS = [["serverless", "deploy", "--plan", "--observed", "o.json", "--provider", "runpod"], ["serverless", "drift", "--observed", "o.json"]]
FORMATS = [[], ["--format", "markdown"], ["--json"]]


@pytest.fixture(scope="module")
def projects(tmp_path_factory) -> dict[str, Path]:
    out = {}
    for case in CASES:
        directory = tmp_path_factory.mktemp(case.name)
        shutil.copy(case / "gpu.jsonc", directory / "gpu.jsonc")
        out[case.name] = directory
    return out


_odd = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=6)
        | st.sampled_from([[], ["x"], [1], [None], {}, {"k": "v"}, {"k": 1}, "\x1b[31m", "\u202e", "x" * 5000, "[" * 200]))


def check(result) -> None:
    assert result.code in (0, 1, 2), result
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    if result.code == 1:
        assert result.err.startswith("error: ") and "hint: " in result.err, result.err  # a list of problems indents its hints


@SETTINGS
@given(data=st.data())
def test_any_value_at_any_key_path(projects, data):
    case = data.draw(st.sampled_from(CASES))
    doc = json.loads((case / "observed.json").read_text())
    path = data.draw(st.sampled_from(list(key_paths(doc))))
    directory = projects[case.name]
    (directory / "o.json").write_text(json.dumps(replaced(doc, path, data.draw(_odd))))
    check(run_cli(data.draw(st.sampled_from(COMMANDS)) + data.draw(st.sampled_from(FORMATS)), directory, {"HF_TOKEN": "hf_x"}))


@SETTINGS
@given(data=st.data())
def test_damaged_bytes(projects, data):
    case = data.draw(st.sampled_from(CASES))
    raw = bytearray((case / "observed.json").read_bytes())
    at = data.draw(st.integers(0, len(raw)))
    op = data.draw(st.sampled_from(["truncate", "replace", "insert"]))
    chunk = data.draw(st.binary(min_size=1, max_size=4) | st.sampled_from([b"\x00", b"\xff", b"NaN", b"1e400", b"9" * 5000, b"[" * 5000, b"\xef\xbb\xbf"]))
    if op == "truncate":
        del raw[at:]
    else:
        raw[at:at + (op == "replace")] = chunk
    directory = projects[case.name]
    (directory / "o.json").write_bytes(bytes(raw))
    check(run_cli(data.draw(st.sampled_from(COMMANDS)), directory, {"HF_TOKEN": "hf_x"}))


SET_LIKE_PATHS = [("gpu", "allowedCudaVersions"), ("gpu", "pools"), ("gpu", "excludedTypes"), ("ports",), ("dataCenterIds",), ("networkVolumes",)]


@pytest.mark.parametrize("member", SET_LIKE_PATHS, ids=".".join)
@pytest.mark.parametrize("value", [True, 5, "ADA_24", {"k": "v"}], ids=repr)
def test_a_set_like_field_of_another_type_is_planned_never_a_crash(projects, member, value):
    """Found by the fuzz test above in CI: `gpu.allowedCudaVersions: true` in a snapshot (or an
    answer of that shape) ended every plan in "internal error: TypeError: 'bool' object is not
    iterable", since the planner sorted any set-like field's value as a list; a string was
    compared letter by letter."""
    case = FIXTURES / "plans" / "overrides"
    doc = json.loads((case / "observed.json").read_text())
    directory = projects[case.name]
    (directory / "o.json").write_text(json.dumps(replaced(doc, ("endpoints", 0, *member), value)))
    for command in COMMANDS:
        check(run_cli(command + ["--json"], directory, {"HF_TOKEN": "hf_x"}))


def test_a_live_set_like_value_of_another_type_compares_as_it_is():
    """The same shape in a live answer, which no snapshot check reads: compared as it is (the
    plan shows it as a difference), never sorted as a list or letter by letter."""
    from gpuctl.plan import fields

    assert not fields.same("gpu.allowedCudaVersions", [], True)
    assert not fields.same("gpu.pools", ["ADA_24"], "ADA_24")
    assert fields.same("gpu.pools", ["AMPERE_24", "ADA_24"], ["ADA_24", "AMPERE_24"]) and fields.same("ports", [], None)
