"""A secret never reaches an output in pieces: not folded over lines by rich at a narrow
terminal, not cut to its start by gpuctl shortening a long message (gpuctl.redact). The stream
masker replaces whole forms of a secret, so either would show it; the worker here puts its
`${TOKEN}` in what it answers, as careless handlers do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import echo_config, project
from tests.support.terminal import Terminal

pytestmark = pytest.mark.e2e

TOKEN = "sk_" + "".join(f"canary{i:02d}" for i in range(30))  # 243 characters, every piece of it telling
WORKER = (Path(__file__).parent / "workers" / "careless.py").read_text()


def pieces(text: str) -> list[str]:
    """Each run of 6 characters of TOKEN that `text` shows, line breaks taken out."""
    flat = text.replace("\r", "").replace("\n", "")
    return sorted({TOKEN[i:i + 6] for i in range(len(TOKEN) - 5) if TOKEN[i:i + 6] in flat})


def _project(tmp_path: Path, template: str, smoke: dict, pad: int = 0) -> Path:
    config = echo_config(name="careless", env={"TOKEN": "${TOKEN}", "PAD": str(pad)})
    config["serverless"]["template"] = template
    config["serverless"]["local"]["command"] = ["python", "careless.py"]
    return project(tmp_path / "p", config, {"careless.py": WORKER, "smoke.json": json.dumps(smoke)})


def test_a_secret_in_a_failed_smoke_job_is_not_folded_over_lines_on_a_narrow_terminal(account, tmp_path):
    """On a terminal, deploy's progress lines wrap at its width (40 columns here): the job's
    error, with the 243-character token in it, went out over seven lines, past the masker."""
    proj = _project(tmp_path, "custom-image", {"input": {"ping": True}})
    deploying = Terminal(["serverless", "deploy", "-y", "--wait-healthy", "--smoke", "smoke.json"], proj,
                         account.env | {"TOKEN": TOKEN, "COLUMNS": "40"})
    assert deploying.exit_code() == 5, deploying.transcript
    shown = deploying.transcript
    assert "(redacted) was refused" in shown, shown
    assert pieces(shown) == [], shown


def test_a_secret_a_long_answer_is_cut_through_shows_none_of_itself(account, tmp_path):
    """The health gate quotes the first 200 characters of an OpenAI answer with no choices;
    the token starts at character 150 of it, so the cut left its first 50 characters, which
    no whole form of the secret matches, in the error, the JSON result and the progress notes
    (on a 40-column terminal, folded over lines too)."""
    proj = _project(tmp_path, "vllm", {"messages": [{"role": "user", "content": "ping"}]}, pad=150)
    deploy = ["serverless", "deploy", "-y", "--wait-healthy", "--smoke", "smoke.json"]
    narrow = Terminal(deploy, proj, account.env | {"TOKEN": TOKEN, "COLUMNS": "40"})  # creates: notes go through the live progress
    assert narrow.exit_code() == 5, narrow.transcript
    assert "create complete" in narrow.transcript and "(redacted)…" in narrow.transcript, narrow.transcript
    assert pieces(narrow.transcript) == [], narrow.transcript
    runs = [account.gpu(*deploy, *flags, cwd=proj, env={"TOKEN": TOKEN}, timeout=300) for flags in ((), ("--json",))]
    for run in runs:
        assert run.code == 5, run.err
        assert "has no choices" in run.err and "x(redacted)…" in run.err, run.err
        assert pieces(run.out + run.err) == [], run.out + run.err
    step = runs[1].json()["health"]["endpoints"][0]["steps"][1]
    assert step["error"].endswith("x(redacted)…"), step
