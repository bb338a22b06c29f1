"""`gpu github plan` and `gpu github drift` hold SIGINT/SIGTERM while they write their result
(summary, comment or drift issue, outputs), as `gpu github apply` does: a cancel that comes
then leaves no output half written, and the process exits as the `exit_code` output says."""

from __future__ import annotations

import json
import re
import signal

import pytest

from tests.github.conftest import REPO, TOKEN, config, tree
from tests.github.fake_github import Gate
from tests.support.wait import until

pytestmark = pytest.mark.e2e

HEAD = "a1" * 20


def cancelled_at(account, fake, gate: Gate, checkout, env: dict, *args: str):
    """Run `gpu github ARGS`, send SIGTERM once its first request matching `gate` arrives, then
    let the request through; (stdout, stderr, exit code)."""
    fake.gates.append(gate)
    process = account.popen("github", *args, cwd=checkout, env=env)
    try:
        until(lambda: gate.arrived.is_set() or process.poll() is not None, f"a request matching {gate.pattern}")
        assert gate.arrived.is_set(), process.communicate()
        process.send_signal(signal.SIGTERM)
    finally:
        gate.release.set()
    out, err = process.communicate()
    return out, err, process.returncode


def github_env(fake, tmp_path, **more) -> dict:
    return {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
            "GITHUB_API_URL": fake.url, "GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO} | more


def test_a_cancel_while_the_plan_comment_is_written_keeps_the_outputs_and_their_exit_code(fake, account, tmp_path):
    checkout = tree(tmp_path / "pr", config("api"))
    fake.add_pull(31, HEAD)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 31, "head": {"sha": HEAD}}}))
    env = github_env(fake, tmp_path, GITHUB_EVENT_NAME="pull_request", GITHUB_EVENT_PATH=str(event))
    out, err, code = cancelled_at(account, fake, Gate(rf"\w+ /repos/{REPO}/issues/31/comments"), checkout, env, "plan", "--plan-dir", "plans")
    assert code == 0, err
    assert "the job was cancelled while its result was written; the result stands" in err
    outputs = (tmp_path / "out").read_text()
    assert re.search(r"^exit_code<<(\S+)\n2\n\1$", outputs, re.M) and re.search(r"^has_changes<<(\S+)\ntrue\n\1$", outputs, re.M), outputs
    assert out.startswith("gpu.jsonc: ") and fake.comments_on(31), (out, err)


def test_a_cancel_while_the_drift_issue_is_written_keeps_the_outputs_and_their_exit_code(fake, account, tmp_path):
    checkout = tree(tmp_path / "main", config("api"))  # never deployed: the account lacks it
    env = github_env(fake, tmp_path)
    out, err, code = cancelled_at(account, fake, Gate(rf"\w+ /repos/{REPO}/(issues|labels)"), checkout, env, "drift")
    assert code == 0, err
    assert "the job was cancelled while its result was written; the result stands" in err
    outputs = (tmp_path / "out").read_text()
    assert re.search(r"^exit_code<<(\S+)\n2\n\1$", outputs, re.M) and re.search(r"^has_changes<<(\S+)\ntrue\n\1$", outputs, re.M), outputs
    assert re.match(r"gpu\.jsonc: drift; \w+ issue #\d+\n$", out), (out, err)
