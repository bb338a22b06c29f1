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


@pytest.mark.parametrize("then", ["released", "held"], ids=["breaker-finished", "third-holder"])
def test_a_deploy_whose_lease_was_broken_mid_apply_is_told_and_exits_1(account, tmp_path, then):
    """Run A holds the lease, its PATCH in flight; run B breaks the lease (--break-lock),
    applies its own value and exits 0; A's write lands after B's. Both exited 0 with different
    results and A was never told (review F9). Now B says A's writes in flight may still land,
    and A, finding its lease gone (or another's) when it releases it, says so, naming the
    holder when there is one, and exits 1 with what it applied and where to look."""
    from tests.e2e.test_account_lease import checkouts

    def config(max_workers: int) -> dict:
        config = echo_config(project_id="shared", max_workers=max_workers)
        del config["serverless"]["local"]  # its working directory, which differs between checkouts, is part of the endpoint
        return config

    first, second = checkouts(tmp_path, "shared")
    project(first, config(2))
    assert account.gpu("serverless", "deploy", "-y", cwd=first).code == 0
    project(first, config(3))
    project(second, config(4))
    account.faults({"op": "update", "kind": "endpoint", "action": "hang", "seconds": 3600, "times": 1})  # A's PATCH, until the test lets it go
    victim = account.popen("serverless", "deploy", "-y", cwd=first)
    try:
        until(lambda: account.server.admin("GET", "faults")["rules"][0]["fired"] or victim.poll() is not None, "A's PATCH to be held")
        assert victim.poll() is None, victim.communicate()
        breaker = account.gpu("serverless", "deploy", "-y", "--break-lock", cwd=second)
        assert breaker.code == 0, breaker.err
        assert "breaking, as --break-lock asks, the lease held by pid" in breaker.err, breaker.err
        assert "the run whose lease was broken may still be running: writes it has in flight can land after this run's" in breaker.err, breaker.err
        if then == "held":
            plant_lease(account, "shared", expires_in=240, host="ci-runner-9")  # a third run holds it when A releases
    finally:
        account.clear_faults()
    out, err = victim.communicate(timeout=120)
    assert victim.returncode == 1, err
    assert "Applied, but the account lease was taken meanwhile:" in err and "update endpoint.echo" in err, err
    taken = "taken over by pid 4242 on ci-runner-9" if then == "held" else "deleted from the account (broken by another run's --break-lock"
    assert f"error: the account lease was {taken}" in err, err
    assert "another run may have written the account meanwhile" in err, err
    assert "hint: run `gpu serverless drift` once the other run has finished" in err, err
    assert "Traceback" not in err
    assert account.endpoints()[0]["workers"]["max"] == 3  # A's write landed last, after B reported 4
