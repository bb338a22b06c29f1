"""Ctrl-C while a create that WAS answered is being read back, and the object is not visible yet
(RunPod shows a new object a moment after its create). The read-back waits for it for the
visibility grace (`GPUCTL_VISIBILITY_GRACE`, 20 s, a GET every second); after an interrupt it
used to keep waiting the whole grace, holding the user (and a CI cancel, whose SIGKILL comes
10 s after its SIGINT). Now, after an interrupt, the read-back looks once: the change is listed
as created (with its id) but not read back, and deploy exits 130.

The local provider hides the created endpoint for an hour (`delay_visibility`); the test waits
for the create's answer and the first read-back GET on the server, then counts the GETs after
the interrupt."""

from __future__ import annotations

import json
import signal

import pytest

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project
from tests.support.terminal import Output
from tests.support.wait import until

pytestmark = pytest.mark.e2e


def _created(account) -> list[str]:
    """The endpoint creates the account has answered."""
    return [r["path"] for r in account.requests() if r["method"] == "POST" and r["path"] == "/v2/serverless"]


def _journal(proj) -> list[dict]:
    path = proj / ".gpu" / "journal.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def _created_id(proj) -> str | None:
    """The id the create's answer gave, as the journal keeps it."""
    return next((e["id"] for e in _journal(proj) if e["address"] == "endpoint.echo" and e["op"] == "create" and e["state"] == "done"), None)


def _reads(account, endpoint_id: str) -> int:
    """GETs of the endpoint the account has answered (the read-back after its create)."""
    return sum(1 for r in account.requests() if r["method"] == "GET" and r["path"] == f"/v2/serverless/{endpoint_id}")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_during_the_read_back_of_a_created_endpoint_looks_once_and_exits_130(account, tmp_path, signum):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    account.faults({"op": "create", "kind": "endpoint", "action": "delay_visibility", "seconds": 3600})
    process = account.popen("serverless", "deploy", "-y", "--provider", "local", cwd=proj)
    err = Output.of_pipe(process.stderr)
    with account.driving(process):
        until(lambda: _created(account) or process.poll() is not None, "the create to be answered")
        assert process.poll() is None, err.rest()
        until(lambda: _created_id(proj) or process.poll() is not None, "the create's outcome in the journal")
        endpoint_id = _created_id(proj)
        assert endpoint_id, err.rest()
        until(lambda: _reads(account, endpoint_id) >= 1 or process.poll() is not None, "the read-back to begin")
        assert process.poll() is None, err.rest()
        before = _reads(account, endpoint_id)
        process.send_signal(signum)
        rest = err.rest()  # to the end: gpu exits on the one interrupt
        code = process.wait(timeout=120)
        after = _reads(account, endpoint_id) - before
    assert after <= 1, (after, rest)  # one look (or the GET on the wire as the interrupt came), not a GET a second for 20 s
    assert code == 130, rest
    assert f"failed:        create endpoint.echo: created ({endpoint_id}), but not read back" in rest, rest
    assert "gpu serverless list" in rest, rest
    assert "Traceback" not in rest, rest
    entries = [(e["op"], e["state"]) for e in _journal(proj) if e["address"] == "endpoint.echo"]
    assert entries == [("create", "intent"), ("create", "done"), ("create", "unseen")], entries  # the next run looks for it before any create
    assert [e["id"] for e in account.endpoints()] == [endpoint_id]  # clear_faults showed it: created once


def test_the_deploy_after_an_interrupted_read_back_finds_the_endpoint_still_hidden_instead_of_creating_a_second(account, tmp_path):
    """The next deploy may come while the endpoint is still not visible: it plans a create, and
    the journal's `unseen` makes that create look for the earlier one first (for the grace)."""
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    account.faults({"op": "create", "kind": "endpoint", "action": "delay_visibility", "seconds": 3600})
    process = account.popen("serverless", "deploy", "-y", "--provider", "local", cwd=proj)
    err = Output.of_pipe(process.stderr)
    try:
        until(lambda: _created_id(proj) or process.poll() is not None, "the create's outcome in the journal")
        endpoint_id = _created_id(proj)
        assert endpoint_id, err.rest()
        until(lambda: _reads(account, endpoint_id) >= 1 or process.poll() is not None, "the read-back to begin")
        process.send_signal(signal.SIGINT)
        rest = err.rest()
        assert process.wait(timeout=120) == 130, rest
    except BaseException:
        process.kill()
        raise
    process.stdout.close()
    again = account.popen("serverless", "deploy", "-y", "--provider", "local", cwd=proj)  # the endpoint is still hidden: it plans a create
    out = Output.of_pipe(again.stderr)
    with account.driving(again):
        out.wait_for("an earlier create may not be visible yet")
        account.clear_faults()  # it shows now, as it would a moment later on RunPod
        rest = out.rest()
        assert again.wait(timeout=120) == 0, rest
    assert "found from an earlier run" in rest, rest
    assert [e["id"] for e in account.endpoints()] == [endpoint_id]  # not a second endpoint


def test_an_interrupt_while_waiting_for_another_projects_claim_on_the_name_ends_the_wait(account, tmp_path):
    """Project pb creates endpoint `api` while project pa's create of `api` holds the claim on
    the name (its POST held by a `hang`). pb's step waits for the claim on a thread no Ctrl-C
    reaches: after an interrupt it kept waiting, up to CLAIM_WAIT_S (over 2 minutes) while pa
    renewed the claim. Now the wait ends at the interrupt and pb's create is not sent."""
    first = project(tmp_path / "a", echo_config(name="api", project_id="pa"), {"handler.py": ECHO_HANDLER})
    second = project(tmp_path / "b", echo_config(name="api", project_id="pb"), {"handler.py": ECHO_HANDLER})
    account.faults({"op": "create", "kind": "endpoint", "action": "hang", "seconds": 3600})
    holder = account.popen("serverless", "deploy", "-y", "--provider", "local", cwd=first, env={"GPU_HTTP_TIMEOUT": "3600"})  # its create waits as long as the hang
    waiter = None
    try:
        until(lambda: account.server.admin("GET", "faults")["rules"][0]["fired"] or holder.poll() is not None, "pa's create to be held under its claim")
        assert holder.poll() is None, holder.stderr.read()
        waiter = account.popen("serverless", "deploy", "-y", "--provider", "local", cwd=second)
        err = Output.of_pipe(waiter.stderr)
        err.wait_for("waiting for the claim on the endpoint name 'api'")
        waiter.send_signal(signal.SIGINT)
        rest = err.rest()
        code = waiter.wait(timeout=300)
        assert holder.poll() is None  # pa still holds the claim: pb's wait ended at the interrupt, not with pa
        assert account.server.admin("GET", "faults")["rules"][0]["fired"] == 1, rest  # pb's create was not sent
    except BaseException:
        holder.kill()
        if waiter is not None:
            waiter.kill()
        raise
    finally:
        account.clear_faults()
    holder.wait(timeout=120)
    holder.stdout.close()
    waiter.stdout.close()
    assert code == 130, rest
    assert "failed:        create endpoint.api: interrupted while waiting for the claim on the endpoint name 'api'" in rest, rest
    assert "the create was not sent" in rest, rest
    assert "Traceback" not in rest, rest
