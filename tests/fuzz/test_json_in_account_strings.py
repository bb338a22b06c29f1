"""JSON that gpuctl finds inside strings of the account (a record template's GPUCTL_APPLIED,
an endpoint's GPUCTL_LOCAL_COMMAND, a job's error) is read with gpuctl.files.json_in: anyone can
edit those strings, and JSON nested deeper than Python reads raises RecursionError, which is
no ValueError. A deploy --plan against such a snapshot was an internal error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gpuctl.config.from_account import local_command
from gpuctl.jobs import error_parts
from tests.conftest import FIXTURES, run_cli

DEEP = "[" * 100_000 + "]" * 100_000
CASE = FIXTURES / "plans" / "drift-origins"


@pytest.fixture
def project(tmp_path) -> Path:
    (tmp_path / "gpu.jsonc").write_bytes((CASE / "gpu.jsonc").read_bytes())
    doc = json.loads((CASE / "observed.json").read_text())
    records = [t for t in doc["templates"] if t["name"].startswith("gpuctl-applied-")]
    assert records
    for record in records:
        record["env"]["GPUCTL_APPLIED"] = DEEP
    (tmp_path / "observed.json").write_text(json.dumps(doc))
    return tmp_path


@pytest.mark.parametrize("command", [["serverless", "deploy", "--plan", "--observed", "observed.json", "--provider", "runpod"],
                                     ["serverless", "drift", "--observed", "observed.json"]])
def test_a_record_nested_too_deeply_is_a_record_that_cannot_be_read(project, command):
    """read_record's contract: a record someone edited into nonsense classifies nothing."""
    result = run_cli(command, project, {"HF_TOKEN": "hf_x"})
    assert "internal error" not in result.err and "Traceback" not in result.err, result.err
    assert result.code in (0, 2), result.err


def test_a_job_error_nested_too_deeply_is_shown_as_its_text():
    assert error_parts({"error": DEEP}) == (None, DEEP, None)


def test_a_local_command_nested_too_deeply_is_no_local_block(tmp_path):
    assert local_command({"env": {"GPUCTL_LOCAL_COMMAND": DEEP}}, tmp_path) is None


@pytest.mark.parametrize("text, expected", [('{"a": 1}', (True, {"a": 1})), ("null", (True, None)), ("nope", (False, None)), (DEEP, (False, None))])
def test_json_in(text, expected):
    from gpuctl.files import json_in

    assert json_in(text) == expected


# --- files of ours and lines others write: the same reader, or RecursionError caught ---------

def test_a_deploy_lock_nested_too_deeply_names_nobody(tmp_path):
    """The lock file only names the holder: a damaged one is taken over (it was a crash of
    every deploy)."""
    from gpuctl.engine.lock import ProjectLock

    (tmp_path / ".gpu").mkdir()
    (tmp_path / ".gpu" / "deploy.lock").write_text(DEEP)
    lock = ProjectLock(tmp_path / ".gpu" / "deploy.lock", "gpu serverless deploy")
    lock.acquire(0)
    assert lock.interrupted is None
    lock.release()


def test_a_journal_line_nested_too_deeply_is_damage_with_the_way_out(tmp_path):
    from gpuctl.engine.journal import Journal
    from gpuctl.engine.statedir import StateDirError

    (tmp_path / "journal.jsonl").write_text(DEEP + "\n")
    with pytest.raises(StateDirError) as caught:
        Journal(tmp_path / "journal.jsonl").unfinished()
    assert "line 1 is not a journal entry" in caught.value.format() and "deleting .gpu/ is always safe" in caught.value.format()


def test_a_saved_plan_nested_too_deeply_is_not_a_saved_plan(tmp_path):
    from gpuctl.errors import GpuctlError
    from gpuctl.render.document import read_saved

    (tmp_path / "plan.json").write_text(DEEP)
    with pytest.raises(GpuctlError) as caught:
        read_saved(tmp_path / "plan.json")
    assert "is not a saved plan" in caught.value.format() and "--plan --out" in (caught.value.hint or "")


def test_a_github_event_file_nested_too_deeply(tmp_path):
    from gpuctl.errors import GpuctlError
    from gpuctl.github.env import read_event

    (tmp_path / "event.json").write_text(DEEP)
    with pytest.raises(GpuctlError) as caught:
        read_event(tmp_path / "event.json")
    assert "cannot read the GitHub event payload" in caught.value.format() and caught.value.hint


def test_a_downloader_line_nested_too_deeply_is_other_output():
    from gpuctl.warm.cpu import _event
    from gpuctl.warm.download import PREFIX

    assert _event(PREFIX + DEEP) is None


def test_a_server_sent_event_whose_data_is_no_object_is_kept_as_its_line():
    """`event.update(json.loads(data))` crashed on `data: 5` (TypeError) and on deep nesting."""
    import httpx

    from gpuctl.provider.http import ApiClient

    body = "".join(f"id: {i}\ndata: {data}\n\n" for i, data in enumerate(["5", DEEP, '{"line": "ok"}', "plain text"]))
    answer = lambda request: httpx.Response(200, headers={"content-type": "text/event-stream"}, text=body)  # noqa: E731
    client = ApiClient("https://api.runpod.io", "k" * 20, transport=httpx.MockTransport(answer))
    events = list(client.events("/v2/pods/abc/logs"))
    assert [e["line"] for e in events] == ["5", DEEP, "ok", "plain text"]


@pytest.mark.parametrize("raw", [b"\xff\xfe12", "١٢".encode(), b"12\x00", b""])
def test_a_fork_artifact_pull_request_number_that_is_not_digits(tmp_path, raw):
    """The fork flow's artifact is the fork's to write: bytes that are not UTF-8 were an
    internal UnicodeDecodeError."""
    from gpuctl.errors import GpuctlError
    from gpuctl.github.plan_flow import _number_in

    (tmp_path / "pr").write_bytes(raw)
    with pytest.raises(GpuctlError) as caught:
        _number_in(tmp_path / "pr")
    assert "does not hold a pull request number" in caught.value.format() and caught.value.hint
