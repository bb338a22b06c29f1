"""Review 5, R5-4: the project's account lease was `gpuctl-lock-<project_id>` and the claim on
an endpoint name `gpuctl-lock-endpoint-<name>`, one namespace. A project whose id starts with
`endpoint-` (or `volume-`) held, as its lease, the claim on one of its own names: its deploy
waited 2¼ minutes for itself and exited 3, blaming its own pid and a false clock skew; while it
deployed, another project could not create an endpoint of that name. Such a project's lease now
has a name no claim can have (ADR 44). These tests drive the real CLI against the local provider."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project
from tests.support.wait import until

pytestmark = pytest.mark.e2e

WAITED = "waiting for the claim on the endpoint name"


def templates(account) -> list[dict]:
    return account.server.http.get("/v2/templates").json()["templates"]


def lease_templates(account) -> list[str]:
    return sorted(t["name"] for t in templates(account) if t["name"].startswith(("gpuctl-lock-", "gpuctl-lease-")))


def stderr_until(process, text: str) -> tuple[list[str], bool]:
    """The lines `process` writes on stderr until one holds `text` (True) or it ends (False)."""
    seen = []
    for line in process.stderr:
        seen.append(line)
        if text in line:
            return seen, True
    return seen, False


def test_a_project_whose_id_starts_with_endpoint_deploys_without_waiting_for_itself(account, tmp_path):
    """Project `endpoint-e5` creating its endpoint `e5` waited for "the claim on the endpoint
    name 'e5' held by pid <its own pid>" and exited 3 after 2¼ minutes."""
    proj = project(tmp_path / "p", echo_config(name="e5", project_id="endpoint-e5"), {"handler.py": ECHO_HANDLER})
    deploy = account.popen("serverless", "deploy", "-y", "--provider", "local", cwd=proj)
    try:
        seen, waited = stderr_until(deploy, WAITED)
    finally:
        if deploy.poll() is None and waited:
            deploy.kill()
    code, rest = deploy.wait(timeout=120), deploy.stderr.read()
    err = "".join(seen) + rest
    assert not waited and code == 0, err
    assert [e["name"] for e in account.endpoints()] == ["e5"]
    again = account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", "--provider", "local", cwd=proj)
    assert again.code == 0, again.out + again.err  # converged
    assert lease_templates(account) == []  # every lease and claim was released


def test_a_project_named_like_a_claim_does_not_block_another_projects_create(account, tmp_path):
    """While project `endpoint-api2` deployed, holding `gpuctl-lock-endpoint-api2`, project
    `projy` creating its endpoint `api2` waited for that "claim" until the other deploy ended
    (exit 3 after 2¼ minutes when it ran longer)."""
    holder = project(tmp_path / "x", echo_config(name="other", project_id="endpoint-api2"), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=holder).code == 0
    project(holder, echo_config(name="other", project_id="endpoint-api2", max_workers=3))
    creator = project(tmp_path / "y", echo_config(name="api2", project_id="projy"), {"handler.py": ECHO_HANDLER})
    account.faults({"op": "update", "kind": "endpoint", "action": "hang", "seconds": 3600})  # let go by clear_faults
    first = account.popen("serverless", "deploy", "-y", "--provider", "local", cwd=holder)
    second = None
    try:
        until(lambda: account.server.admin("GET", "faults")["rules"][0]["fired"] or first.poll() is not None,
              "endpoint-api2's update to be held under its lease")
        assert first.poll() is None, first.stderr.read()
        second = account.popen("serverless", "deploy", "-y", "--provider", "local", cwd=creator)
        seen, waited = stderr_until(second, WAITED)
        if waited:
            second.kill()
        code, theirs = second.wait(timeout=120), "".join(seen) + second.stderr.read()
        assert not waited and code == 0, theirs
        assert first.poll() is None  # projy created api2 while endpoint-api2 still held its lease
    finally:
        account.clear_faults()
        if second is not None and second.poll() is None:
            second.kill()
    assert first.wait(timeout=120) == 0, first.stderr.read()
    assert sorted(e["name"] for e in account.endpoints()) == ["api2", "other"]
    assert lease_templates(account) == []
