"""A field's value in the text and Markdown plan is its JSON spelling, escaped once: a newline
and a backslash followed by `n` are different values and read differently; a character that
reorders a line or drives the terminal is still escaped."""

from __future__ import annotations

import json

PLAN = ["serverless", "deploy", "--plan", "--observed", "observed.json", "--provider", "runpod"]


def _plan(cli, tmp_path, fmt: str) -> str:
    env = {"NL": "a\nb", "BS": "a\\nb", "TAB": "a\tb", "RLO": "x\u202ey", "ESC": "x\x1b[2Jy"}
    block = {"name": "api", "template": "vllm", "gpu_type": "NVIDIA L4", "runpod": {"env": env}}
    (tmp_path / "gpu.jsonc").write_text(json.dumps({"project_id": "p", "serverless": block}))
    (tmp_path / "observed.json").write_text('{"provider": "runpod"}')
    result = cli([*PLAN, "--format", fmt], tmp_path)
    assert result.code == 0, result.err
    return result.out


def test_a_newline_and_a_backslash_n_read_differently(cli, tmp_path):
    for fmt in ("text", "markdown"):
        out = _plan(cli, tmp_path, fmt)
        nl = next(line for line in out.splitlines() if "env.NL" in line)
        bs = next(line for line in out.splitlines() if "env.BS" in line)
        assert r'"a\nb"' in nl and r'"a\\nb"' in bs, (nl, bs)
        tab = next(line for line in out.splitlines() if "env.TAB" in line)
        assert r'"a\tb"' in tab, tab
        assert "\u202e" not in out and "\x1b" not in out
        assert r"\u202e" in out and r"\u001b" in out
