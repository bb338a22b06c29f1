"""Ctrl-C (or SIGTERM) while a create is in flight and its answer never comes. The attempt on the
wire runs to the HTTP timeout; then the identity lookup decides whether the create landed. After
an interrupt that lookup used to be the whole visibility poll (`GPUCTL_VISIBILITY_GRACE`, 20 s,
a list every second) before the run could end; only a second interrupt ended it sooner. Now,
after an interrupt, it is one look: the create is reported as landed (found) or its outcome as
unknown, with `gpu serverless list` to check, and deploy exits 130.

The local provider holds the POST (a `hang`, or a `commit_then_hang` for a create that landed)
until the test clears the rules, and counts it (`fired`); the test counts the lookups (GETs of
the endpoint list) sent after the create."""

from __future__ import annotations

import signal

import pytest

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project
from tests.support.terminal import Output
from tests.support.wait import until

pytestmark = pytest.mark.e2e

SHORT = {"GPU_HTTP_TIMEOUT": "3"}  # the held attempt's wait; the visibility grace keeps its default (20 s)


def _fired(account) -> int:
    return account.server.admin("GET", "faults")["rules"][0]["fired"]


def _lists(account) -> int:
    """GETs of the endpoint list the account has answered (a held request is logged when answered)."""
    return sum(1 for r in account.requests() if r["method"] == "GET" and r["path"] == "/v2/serverless")


def _interrupted_create(account, proj, action: str, signum: int) -> tuple[int, str, int]:
    """(exit code, stderr, how many lookups gpu sent after the create was held)."""
    account.faults({"op": "create", "kind": "endpoint", "action": action, "seconds": 3600})
    process = account.popen("serverless", "deploy", "-y", "--provider", "local", cwd=proj, env=SHORT)
    err = Output.of_pipe(process.stderr)
    with account.driving(process):
        until(lambda: _fired(account) or process.poll() is not None, "the create to be held")
        assert process.poll() is None, err.rest()
        before = _lists(account)  # every lookup before the create: they come first, on the create's thread
        process.send_signal(signum)
        err.wait_for("in flight")
        rest = err.rest()  # to the end: gpu has exited, on the one interrupt
        code = process.wait(timeout=120)
        lookups = _lists(account) - before
    return code, rest, lookups


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_unanswered_create_after_an_interrupt_is_looked_up_once_and_its_outcome_is_unknown(account, tmp_path, signum):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    code, err, lookups = _interrupted_create(account, proj, "hang", signum)
    assert lookups == 1, err  # one look, not the 20 s visibility poll
    assert code == 130, err
    assert "checking for up to" not in err, err
    assert "failed:        create endpoint.echo:" in err, err
    assert "its outcome is unknown" in err, err
    assert "gpu serverless list" in err, err
    assert "Traceback" not in err, err


def test_an_unanswered_create_that_landed_is_found_by_the_one_look_after_an_interrupt(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    code, err, lookups = _interrupted_create(account, proj, "commit_then_hang", signal.SIGINT)
    assert lookups == 1, err
    assert code == 130, err
    assert "the answer was lost, but the create took effect" in err, err
    assert "done:          create endpoint.echo" in err, err
    assert [e["name"] for e in account.endpoints()] == ["echo"]
    assert "Traceback" not in err, err
