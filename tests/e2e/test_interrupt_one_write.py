"""SIGTERM or Ctrl-C while `rollback` or `delete` has its one write in flight (review 3, R9).
Both used to print a bare `error: interrupted` and exit at once, abandoning the request, which
the account then carried out seconds later: an operator mid-incident believed nothing had
changed. Now they follow deploy's rule (gpuctl.interrupts.writing): the write in flight
finishes, they say what was done, and exit 130. The signal is sent while the local provider
holds the write (until the test clears the rules), so it lands in that window and nowhere else.
A rollback is also kept as gpuctl's apply: history said the account made its release."""

from __future__ import annotations

import signal

import pytest

from tests.e2e.conftest import echo_config, project
from tests.support.terminal import Output
from tests.support.wait import until

pytestmark = pytest.mark.e2e

IMAGE_1, IMAGE_2 = "ghcr.io/example/echo-worker:0.1.0", "ghcr.io/example/echo-worker:0.2.0"
LAPTOP = {"GIT_AUTHOR_NAME": "Ada Lovelace", "USER": "ada"}


def _two_versions(account, tmp_path):
    config = echo_config()
    proj = project(tmp_path / "p", config)
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env=LAPTOP).code == 0
    config["serverless"]["runpod"]["image_name"] = IMAGE_2
    project(proj, config)
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env=LAPTOP).code == 0
    return proj


def _interrupted_while_held(account, proj, rule: dict, signum: int, *args: str) -> tuple[int, str]:
    """`gpu *args` with the write `rule` names held by the account; `signum` once it is held,
    then the write is let go. (exit code, stderr)."""
    account.faults(rule | {"action": "hang", "seconds": 3600})
    process = account.popen(*args, cwd=proj, env=LAPTOP)
    err = Output.of_pipe(process.stderr)
    try:
        until(lambda: account.server.admin("GET", "faults")["rules"][0]["fired"] or process.poll() is not None, "the write to be held")
        assert process.poll() is None, err.rest()
        process.send_signal(signum)
        err.wait_for("in flight to finish")
    finally:
        account.clear_faults()
    said = err.rest()
    process.stdout.close()
    return process.wait(timeout=120), said


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_rollback_finishes_its_write_says_so_and_exits_130(account, tmp_path, signum):
    proj = _two_versions(account, tmp_path)
    code, err = _interrupted_while_held(account, proj, {"op": "update", "kind": "endpoint"}, signum, "serverless", "rollback", "echo", "--to", "1", "-y")
    assert code == 130, err
    assert "waiting for the rollback's write in flight to finish" in err, err
    assert "after the rollback was written: endpoint echo is on the configuration of version 1 (now version 3)" in err, err
    assert "gpu serverless pull echo --write" in err, err
    assert [e["image"] for e in account.endpoints()] == [IMAGE_1]


def test_a_rollback_is_recorded_as_gpuctls_apply_in_history(account, tmp_path):
    """history's MADE BY said `account` for the release a rollback made."""
    proj = _two_versions(account, tmp_path)
    done = account.gpu("serverless", "rollback", "echo", "--to", "1", "-y", cwd=proj, env=LAPTOP)
    assert done.code == 0, done.err
    history = account.gpu("serverless", "history", "echo", "--json", cwd=proj)
    newest = history.json()["releases"][0]
    assert (newest["version"], newest["made_by"], newest["applied_by"]) == (3, "gpuctl", "Ada Lovelace"), history.out


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_delete_finishes_its_write_says_so_and_exits_130(account, tmp_path, signum):
    proj = _two_versions(account, tmp_path)
    code, err = _interrupted_while_held(account, proj, {"op": "delete", "kind": "endpoint"}, signum, "serverless", "delete", "echo", "-y")
    assert code == 130, err
    assert "waiting for the delete in flight to finish" in err, err
    assert "after the delete: endpoint echo" in err and "is deleted" in err, err
    assert account.endpoints() == []
    assert not [t for t in account.server.http.get("/v2/templates").json()["templates"] if t["name"].startswith("gpuctl-")]  # records and lease gone too


@pytest.mark.parametrize("command", [("rollback", "echo", "--to", "1", "-y"), ("delete", "echo", "-y")])
def test_an_interrupt_before_the_write_says_nothing_was_changed(account, tmp_path, command):
    """While it waits for the account lease a deploy holds: nothing was written, and it says so
    instead of a bare `interrupted`."""
    from tests.e2e.test_account_lease import plant_lease

    proj = _two_versions(account, tmp_path)
    plant_lease(account, "e2e", expires_in=300)
    process = account.popen("serverless", *command, "--lock-timeout", "5m", cwd=proj)
    err = Output.of_pipe(process.stderr)
    err.wait_for("waiting for the account lease")
    process.send_signal(signal.SIGTERM)
    said = err.rest()
    process.stdout.close()
    assert process.wait(timeout=120) == 130, said
    assert ("interrupted before the rollback was written: nothing was changed" in said if command[0] == "rollback"
            else "interrupted before the delete was sent: endpoint echo" in said), said
    assert [e["image"] for e in account.endpoints()] == [IMAGE_2]
