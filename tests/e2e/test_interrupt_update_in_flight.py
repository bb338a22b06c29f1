"""An update already sent when the first interrupt comes is not called back (ADR 20 lets the
changes in flight finish): what deploy then reports and journals must be exactly what became of
it. Applied, the summary lists it as done, the journal's last word on it is `done`, and the next
deploy has nothing to do. Carried out but unanswered (its answer never came within the HTTP
timeout, and the interrupt keeps it from being sent again), it is listed as failed with its
outcome unknown and `deploy --plan` as the next step, and the journal keeps it `ambiguous`, so
the next run knows it may have landed.

The local provider holds the PATCH (`hang`: before carrying it out; `commit_then_hang`: after)
until the test clears the rules; the interrupt is sent once it is held."""

from __future__ import annotations

import json
import signal

import pytest

from tests.e2e.test_interrupt_write_in_flight import _deployed_with_an_update, _leases
from tests.support.terminal import Output
from tests.support.wait import until

pytestmark = pytest.mark.e2e

HOLD = {"op": "update", "kind": "endpoint", "seconds": 3600}


def _journal(proj) -> list[dict]:
    return [json.loads(line) for line in (proj / ".gpu" / "journal.jsonl").read_text().splitlines() if line.strip()]


def _patches(account, seen: int) -> int:
    return sum(r["method"] == "PATCH" and r["path"].startswith("/v2/serverless/") for r in account.requests()[seen:])


def _interrupted_once(account, proj, action: str, let_go: bool, env: dict | None = None) -> tuple[int, str]:
    """deploy -y, its PATCH held by `action`; SIGINT once it is held; the PATCH let go at once
    (`let_go`) or left to time out. (exit code, stderr)."""
    account.faults(HOLD | {"action": action})
    process = account.popen("serverless", "deploy", "-y", cwd=proj, env=env)
    err = Output.of_pipe(process.stderr)
    with account.driving(process):
        until(lambda: account.server.admin("GET", "faults")["rules"][0]["fired"] or process.poll() is not None, "the PATCH to be held")
        assert process.poll() is None, err.rest()
        process.send_signal(signal.SIGINT)
        err.wait_for("in flight to finish")
        if let_go:
            account.clear_faults()
        rest = err.rest()
        code = process.wait(timeout=120)
    return code, rest


def test_an_update_sent_before_the_interrupt_that_lands_is_reported_and_journaled_as_done(account, tmp_path):
    proj = _deployed_with_an_update(account, tmp_path)
    [endpoint] = account.endpoints()
    seen = len(account.requests())
    code, err = _interrupted_once(account, proj, "hang", let_go=True)
    assert code == 130, err
    assert _patches(account, seen) == 1, err  # sent once: not called back, not sent again
    assert "done:          update endpoint.echo" in err and "failed:" not in err and "outcome is unknown" not in err, err
    assert "error: interrupted: every change of the plan was applied" in err, err
    assert "Traceback" not in err, err
    last = [e for e in _journal(proj) if e["address"] == "endpoint.echo"][-1]
    assert (last["op"], last["state"], last["id"]) == ("update", "done", endpoint["id"]), last
    assert account.endpoints()[0]["workers"]["max"] == 3
    assert _leases(account) == [], err
    again = account.gpu("serverless", "deploy", "-y", "--detailed-exitcode", cwd=proj)
    assert again.code == 0, again.err  # nothing left: the summary was right to call it done


def test_an_update_carried_out_but_unanswered_after_the_interrupt_is_reported_and_journaled_as_unknown(account, tmp_path):
    proj = _deployed_with_an_update(account, tmp_path)
    seen = len(account.requests())
    code, err = _interrupted_once(account, proj, "commit_then_hang", let_go=False, env={"GPU_HTTP_TIMEOUT": "4"})
    assert code == 130, err
    assert _patches(account, seen) == 1, err  # not sent again after the interrupt
    assert "failed:        update endpoint.echo" in err and "outcome is unknown" in err and "done:          update" not in err, err
    assert "gpu serverless deploy --plan" in err, err  # the next step: see what the account has
    assert "Traceback" not in err, err
    last = [e for e in _journal(proj) if e["address"] == "endpoint.echo"][-1]
    assert (last["op"], last["state"]) == ("update", "ambiguous"), last
    assert account.endpoints()[0]["workers"]["max"] == 3  # it did land: "unknown" was the honest word, not "failed"
    assert _leases(account) == [], err
