"""Ctrl-C or SIGTERM while a write is in flight against an API that does not answer (review 5,
R5-2). The HTTP client's retry loop used to send the write again after the interrupt (up to 6
attempts of one read timeout each, about 3 minutes at the default 30 s), a second Ctrl-C did
nothing, and the exit was 1 (the write's timeout), not 130: GitHub's cancel (SIGINT, SIGTERM
7.5 s later, SIGKILL 2.5 s after that) killed the job with the account lease held.

Now, after an interrupt, no attempt is sent again and no backoff is slept: the attempt on the
wire may finish or time out, the write's outcome is reported as unknown, and the command exits
130. A second interrupt stops waiting for it at once.

The local provider holds the write (a `hang` until the test clears the rules) and counts each
attempt (`fired`); GPU_HTTP_TIMEOUT keeps the attempt short where the test waits for it."""

from __future__ import annotations

import signal

import pytest

from tests.e2e.conftest import echo_config, project
from tests.support.terminal import Output
from tests.support.wait import until

pytestmark = pytest.mark.e2e

HOLD = {"action": "hang", "seconds": 3600}  # until the rules are cleared, however often it is sent
UPDATE, DELETE = {"op": "update", "kind": "endpoint"}, {"op": "delete", "kind": "endpoint"}
SHORT = {"GPU_HTTP_TIMEOUT": "4"}  # one attempt's wait, where a test waits for the attempt to time out


def _fired(account) -> int:
    return account.server.admin("GET", "faults")["rules"][0]["fired"]


def _leases(account) -> list[str]:
    return [t["name"] for t in account.server.http.get("/v2/templates").json()["templates"] if str(t.get("name", "")).startswith("gpuctl-lock-")]


def _deployed_with_an_update(account, tmp_path):
    config = echo_config()
    proj = project(tmp_path / "p", config)
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    config["serverless"]["scaling"]["max_workers"] = 3
    project(proj, config)
    return proj


def _interrupted(account, proj, rule: dict, signals: list[int], args: tuple[str, ...], env: dict | None = None, said: str = "in flight") -> tuple[int, str, int]:
    """`gpu *args` with the write `rule` names held; once it is held, `signals` are sent one
    after the other (each once gpu has said `said` for the one before). Returns (exit code,
    stderr, how often the write was sent), the count read before the rules are cleared."""
    account.faults(rule | HOLD)
    process = account.popen(*args, cwd=proj, env=env)
    err = Output.of_pipe(process.stderr)
    with account.driving(process):
        until(lambda: _fired(account) or process.poll() is not None, "the write to be held")
        assert process.poll() is None, err.rest()
        for signum in signals:
            process.send_signal(signum)
            err.wait_for(said)
        rest = err.rest()  # to the end: gpu has exited
        code = process.wait(timeout=120)
        fired = _fired(account)
    return code, rest, fired


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_deploy_never_sends_its_write_again_and_exits_130(account, tmp_path, signum):
    proj = _deployed_with_an_update(account, tmp_path)
    code, err, fired = _interrupted(account, proj, UPDATE, [signum], ("serverless", "deploy", "-y"), SHORT)
    assert fired == 1, f"the PATCH was sent {fired} times\n{err}"
    assert code == 130, err
    assert "update endpoint.echo" in err and "outcome is unknown" in err, err
    assert "gpu serverless deploy --plan" in err, err
    assert _leases(account) == [], err
    assert "Traceback" not in err, err


@pytest.mark.parametrize("second", [signal.SIGINT, signal.SIGTERM])
def test_a_second_interrupt_stops_waiting_for_the_write_in_flight(account, tmp_path, second):
    """The attempt on the wire would wait the client's whole timeout (30 s here): the second
    interrupt ends the wait at once, says the write's outcome is unknown, and releases the lease."""
    proj = _deployed_with_an_update(account, tmp_path)
    code, err, fired = _interrupted(account, proj, UPDATE, [signal.SIGINT, second], ("serverless", "deploy", "-y"), said="interrupted")
    assert code == 130, err
    assert fired == 1, err
    assert "Two interrupts" in err and "outcome is unknown" in err, err
    assert "gpu serverless deploy --plan" in err, err
    assert _leases(account) == [], err
    assert "Traceback" not in err, err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_delete_never_sends_its_delete_again_and_exits_130(account, tmp_path, signum):
    proj = _deployed_with_an_update(account, tmp_path)
    code, err, fired = _interrupted(account, proj, DELETE, [signum], ("serverless", "delete", "echo", "-y"), SHORT)
    assert fired == 1, f"the DELETE was sent {fired} times\n{err}"
    assert code == 130, err
    assert "outcome is unknown" in err, err
    assert "deploying again" not in err, err  # deploy's hint: it does not fit a delete
    assert "gpu serverless list" in err, err
    assert _leases(account) == [], err
    assert "Traceback" not in err, err


def test_a_second_interrupt_stops_waiting_for_the_delete_in_flight(account, tmp_path):
    proj = _deployed_with_an_update(account, tmp_path)
    code, err, fired = _interrupted(account, proj, DELETE, [signal.SIGTERM, signal.SIGINT], ("serverless", "delete", "echo", "-y"), said="interrupted")
    assert code == 130, err
    assert fired == 1, err
    assert "Two interrupts" in err and "outcome is unknown" in err, err
    assert _leases(account) == [], err
    assert "Traceback" not in err, err
