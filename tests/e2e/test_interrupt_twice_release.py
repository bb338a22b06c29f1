"""The account lease's release after a second interrupt (Ctrl-C twice, or GitHub's cancel: SIGINT,
then SIGTERM 7.5 s later and SIGKILL 2.5 s after that). It gets one attempt, but that attempt
waited for the whole HTTP timeout (30 s, GPU_HTTP_TIMEOUT) against an API that does not
answer, so the cancel's SIGKILL came first. Now a request begun after a second interrupt waits
a short time only; a lease it could not release is named, with when it goes stale and how to
take it over at once (`--break-lock`).

The local provider holds the endpoint's PATCH (so the apply is in flight for both interrupts)
and every template DELETE (the lease's release) until the test clears the rules. The HTTP
timeout is an hour: before the fix gpu waited for it."""

from __future__ import annotations

import signal

import pytest

from tests.e2e.test_interrupt_write_in_flight import _deployed_with_an_update, _leases  # the same deployed project and lease listing
from tests.support.terminal import Output
from tests.support.wait import until

pytestmark = pytest.mark.e2e

HOLD = {"action": "hang", "seconds": 3600}
LONG = {"GPU_HTTP_TIMEOUT": "3600"}


def _fired(account, rule: int) -> int:
    return account.server.admin("GET", "faults")["rules"][rule]["fired"]


def test_the_release_after_a_second_interrupt_waits_briefly_and_says_how_to_take_the_lease(account, tmp_path):
    proj = _deployed_with_an_update(account, tmp_path)
    account.faults({"op": "update", "kind": "endpoint"} | HOLD, {"op": "delete", "kind": "template"} | HOLD)
    process = account.popen("serverless", "deploy", "-y", "--provider", "local", cwd=proj, env=LONG)
    err = Output.of_pipe(process.stderr)
    with account.driving(process):
        until(lambda: _fired(account, 0) or process.poll() is not None, "the PATCH to be held")
        assert process.poll() is None, err.rest()
        process.send_signal(signal.SIGINT)
        err.wait_for("in flight")
        process.send_signal(signal.SIGTERM)
        err.wait_for("Two interrupts")
        until(lambda: _fired(account, 1) or process.poll() is not None, "the lease's release to be sent")
        until(lambda: process.poll() is not None, "gpu to exit while the release is held")
        held = _leases(account)  # before the rules are cleared: the release never got its answer
        rest = err.rest()
    assert process.returncode == 130, rest
    assert held == ["gpuctl-lock-e2e"], rest
    assert "warning: could not release the account lease gpuctl-lock-e2e" in rest, rest
    assert "it goes stale at " in rest and "--break-lock" in rest, rest
    assert "Apply stopped:" in rest and "failed:        update endpoint.echo:" in rest, rest
    assert rest.index("could not release") < rest.index("Apply stopped:"), rest  # the summary is the last word
    assert "Traceback" not in rest, rest
