"""A lease taken from a holder that may still be running (`--break-lock`, or a holder that
stopped before its lease expired): what each side is told, and that it is true of what happened."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project
from tests.e2e.test_account_lease import plant_lease
from tests.support.terminal import Output
from tests.support.wait import until

pytestmark = pytest.mark.e2e


def test_a_change_seen_after_the_visibility_grace_is_said_to_come_during_the_grace(account, tmp_path):
    """The broken holder's create shows only during the grace this deploy waits after taking
    its lease: the note said "the account changed while this deploy waited for the lease",
    which it had already got (review L5)."""
    proj = project(tmp_path / "p", echo_config(project_id="graced"), {"handler.py": ECHO_HANDLER})
    plant_lease(account, "graced", expires_in=240)
    # the reads of endpoints: the first plan, the plan under the lease, then the one after the grace: held
    account.faults({"op": "list", "kind": "endpoint", "action": "hang", "seconds": 3600, "after": 2})
    process = account.popen("serverless", "deploy", "-y", "--break-lock", cwd=proj, env={"GPUCTL_VISIBILITY_GRACE": "1"})
    err = Output.of_pipe(process.stderr)
    try:
        err.wait_for("for what it may have just created to show")
        until(lambda: account.server.admin("GET", "faults")["rules"][0]["fired"], "the read after the grace to be held")
        body = {"name": "echo", "type": "QUEUE", "image": "ghcr.io/example/echo-worker:0.1.0", "gpu": {"pools": ["ADA_24"]},
                "env": {"GPUCTL_PROJECT": "graced"}, "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}}
        made = account.server.http.post("/v2/serverless", json=body)  # the broken holder's create, showing now
        assert made.status_code in (200, 201), made.text
    finally:
        account.clear_faults()
    said = err.rest()
    assert process.wait(timeout=120) == 0, said
    assert "note: the account changed during the 1s wait for what the lease's previous holder created to show; applying the plan as it is now" in said, said
    assert "waited for the lease" not in said, said
    assert [e["name"] for e in account.endpoints()] == ["echo"]  # updated, not created twice
