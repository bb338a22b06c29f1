"""A write abandoned by a second interrupt (ADR 20) sends nothing more once gpu stopped waiting
for it, whichever command it belongs to. Deploy's steps already held to that; `rollback`'s write
ran on `Write.send`'s thread with no such rule, so when the PATCH answered after the second
interrupt, while gpu was still releasing its lease, that thread went on with the read-back
(GET), the releases and the last-applied record, unreported: the summary had already said the
write's outcome was unknown.

The local provider holds the write and the lease's release (a template DELETE, which gpu waits
for 2 s at most as it exits); once the release is held, the rules are cleared, so the write
answers while gpu is still alive. What the account received is read after gpu exited."""

from __future__ import annotations

import signal

import pytest

from tests.e2e.test_interrupt_one_write import LAPTOP, _two_versions
from tests.support.terminal import Output
from tests.support.wait import until

pytestmark = pytest.mark.e2e

HOLD = {"action": "hang", "seconds": 3600}  # until the rules are cleared
RELEASE = {"op": "delete", "kind": "template"}  # the account lease's release as gpu exits


def _fired(account, rule: int) -> int:
    return account.server.admin("GET", "faults")["rules"][rule]["fired"]


def _lease_release(request: dict) -> bool:
    return request["method"] == "DELETE" and "/templates/" in request["path"]


def _abandoned(account, proj, write: dict, method: str, *args: str) -> tuple[int, str, list[dict]]:
    """`gpu *args` interrupted twice while `write` is held; the write answers once gpu releases
    its lease. (exit code, stderr, the requests the account received from the write on)."""
    account.faults(write | HOLD, RELEASE | HOLD)
    seen = len(account.requests())
    process = account.popen(*args, cwd=proj, env=LAPTOP)
    err = Output.of_pipe(process.stderr)
    with account.driving(process):
        until(lambda: _fired(account, 0) or process.poll() is not None, "the write to be held")
        assert process.poll() is None, err.rest()
        process.send_signal(signal.SIGINT)
        err.wait_for("in flight to finish")
        process.send_signal(signal.SIGINT)
        until(lambda: _fired(account, 1) or process.poll() is not None, "the lease's release to be sent")
        assert process.poll() is None, err.rest()
        account.clear_faults()  # the write answers while gpu still waits for the release
        rest = err.rest()  # to the end: gpu has exited
        code = process.wait(timeout=120)
    sent = account.requests()[seen:]
    [at] = [i for i, r in enumerate(sent) if r["method"] == method and not _lease_release(r)]
    return code, rest, sent[at + 1:]


def test_a_rollback_abandoned_by_a_second_interrupt_sends_nothing_after_its_write(account, tmp_path):
    proj = _two_versions(account, tmp_path)
    code, err, after = _abandoned(account, proj, {"op": "update", "kind": "endpoint"}, "PATCH",
                                  "serverless", "rollback", "echo", "--to", "1", "-y")
    assert code == 130, err
    assert "Two interrupts" in err and "outcome is unknown" in err, err
    assert [r for r in after if not _lease_release(r)] == [], after  # the lease's release only
    assert "Traceback" not in err, err


def test_a_delete_abandoned_by_a_second_interrupt_sends_nothing_after_its_write(account, tmp_path):
    proj = _two_versions(account, tmp_path)
    code, err, after = _abandoned(account, proj, {"op": "delete", "kind": "endpoint"}, "DELETE",
                                  "serverless", "delete", "echo", "-y")
    assert code == 130, err
    assert "Two interrupts" in err and "outcome is unknown" in err, err
    assert [r for r in after if not _lease_release(r)] == [], after
    assert "Traceback" not in err, err
