"""What an interrupt (Ctrl-C, or SIGTERM as CI cancels a job) says, by where it came: each
message must be true of what the run did, and end as an `error:` with a hint."""

from __future__ import annotations

import signal

import pytest

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project, terminated_while_creating
from tests.e2e.test_account_lease import plant_lease

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_while_waiting_for_the_account_lease_says_nothing_was_changed(account, tmp_path, signum):
    """Another runner applies; CI cancels a queued apply job exactly here. It printed a bare
    `interrupted`: the flow counted the wait for the lease as its first write (review F13)."""
    proj = project(tmp_path / "p", echo_config(project_id="queued"))
    plant_lease(account, "queued", expires_in=300)  # another machine's deploy holds it
    waiting = account.popen("serverless", "deploy", "-y", "--lock-timeout", "5m", cwd=proj)
    seen = ""
    while "waiting for the account lease" not in seen:  # the event: deploy says whom it waits for
        line = waiting.stderr.readline()
        assert line, (seen, waiting.wait(timeout=30))
        seen += line
    waiting.send_signal(signum)
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 130, err
    assert "error: interrupted before the apply: nothing was changed in the account" in err, err
    assert "hint: run deploy again to apply the plan" in err, err
    assert "Traceback" not in err
    assert account.endpoints() == []
    names = [t["name"] for t in account.server.http.get("/v2/templates").json()["templates"]]
    assert names == ["gpuctl-lock-queued"], names  # the other holder's lease stands; this deploy took none


def test_an_interrupt_while_the_plans_only_change_is_in_flight_says_every_change_was_applied(account, tmp_path):
    """The one create finishes after SIGTERM: nothing is left to apply, and deploy said "the
    changes in flight finished; nothing else was started" and "run deploy again to apply the
    rest", although the next deploy has no changes (review L10)."""
    proj = project(tmp_path / "p", echo_config(project_id="only"), {"handler.py": ECHO_HANDLER})
    code, said = terminated_while_creating(account, "serverless", "deploy", "-y", creating="endpoint.echo: creating", cwd=proj)
    assert code == 130, said
    assert "done:          create endpoint.echo" in said, said
    assert "error: interrupted: every change of the plan was applied" in said, said
    assert "the checks after the apply did not run" in said, said
    assert "apply the rest" not in said and "nothing else was started" not in said, said
    assert "hint: run deploy again: it plans again, changes nothing that is in place" in said, said
    assert [e["name"] for e in account.endpoints()] == ["echo"]
    again = account.gpu("serverless", "deploy", "-y", "--detailed-exitcode", cwd=proj)
    assert again.code == 0, again.err  # nothing was left


def _terminated_in_its_read(account, tmp_path, project_id: str, *command: str) -> tuple[int, str, str]:
    """`gpu serverless <command>`, its endpoints read held by the account until SIGTERM comes."""
    from tests.support.wait import until

    proj = project(tmp_path / "p", echo_config(project_id=project_id))
    account.faults({"op": "list", "kind": "endpoint", "action": "hang", "seconds": 3600})  # the read, until the signal was taken
    process = account.popen("serverless", *command, cwd=proj)
    try:
        until(lambda: account.server.admin("GET", "faults")["rules"][0]["fired"] or process.poll() is not None, f"{command[0]}'s read to be held")
        assert process.poll() is None, process.communicate()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=120)
    finally:
        account.clear_faults()
    return process.returncode, out, err


@pytest.mark.parametrize("args", [(), ("--json",)], ids=["text", "json"])
def test_an_interrupt_during_drift_is_an_error_saying_nothing_was_changed(account, tmp_path, args):
    """It printed a blank line, then a bare `interrupted`: no `error:`, no hint (review L7)."""
    code, out, err = _terminated_in_its_read(account, tmp_path, "drifting", "drift", *args)
    assert code == 130, err
    assert out == "", out
    assert err.splitlines() == ["error: interrupted before the drift report was made: drift only reads, so nothing was changed",
                                "hint: run `gpu serverless drift` again"], err


def test_an_interrupt_a_command_does_not_report_itself_is_still_an_error(account, tmp_path):
    """`gpu serverless list`, its read held: the same `error:` line every other end has, and no
    blank line before it (click's own handling printed one, then a bare `interrupted`)."""
    code, _, err = _terminated_in_its_read(account, tmp_path, "listing", "list")
    assert code == 130, err
    assert err.splitlines() == ["error: interrupted"], err
