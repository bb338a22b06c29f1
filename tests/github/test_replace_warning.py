"""A replace is a top-level warning of the plan comment (review 2 L16): the comment counted it in
its title and explained it inside the resource's section only, so a reviewer skimming the
comment did not see that the merge deletes and recreates an endpoint (a new id and URL)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import project
from tests.github.conftest import WORKFLOWS, config, no_host, no_secrets, pull_request, tree

pytestmark = pytest.mark.e2e

REPLACED = ("- ⚠️ `endpoint.api`: must be replaced: type cannot change in place: the endpoint is deleted and created again, "
            "with a new id and URL")


def test_a_replace_is_a_warning_above_the_sections_of_the_plan_comment(gha, fake, account, tmp_path):
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", config("api"))).code == 0
    (endpoint,) = account.endpoints()
    account.server.admin("POST", "seed", {"endpoints": [endpoint | {"type": "LOAD_BALANCER"}]})  # made a load balancer in the console: v2 cannot PATCH it back
    fake.add_pull(51, "e" * 40)
    run = gha.run(WORKFLOWS / "plan.yml", pull_request(51, "e" * 40, tree(tmp_path / "pr", config("api", max_workers=3))))
    assert run.job("plan").status == "success", run.job("plan").steps
    (comment,) = fake.comments_on(51)
    body = comment["body"]
    assert "1 to replace" in body.splitlines()[1]
    assert "\n**Warnings**\n\n" + REPLACED + "\n" in body
    assert body.index(REPLACED) < body.index("<details")  # before any resource's section
    assert REPLACED in run.job("plan").summary
    no_secrets(run, fake)


def test_an_update_in_place_adds_no_warning(gha, fake, account, tmp_path):
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", config("api"))).code == 0
    fake.add_pull(52, "f" * 40)
    run = gha.run(WORKFLOWS / "plan.yml", pull_request(52, "f" * 40, tree(tmp_path / "pr", config("api", max_workers=3))))
    (comment,) = fake.comments_on(52)
    warnings = [line for line in comment["body"].splitlines() if line.startswith("- ⚠️")]
    assert "will be updated in place" in comment["body"] and "must be replaced" not in comment["body"]
    assert not [w for w in warnings if "replaced" in w], warnings  # the block has no local.command: that warning stands, no replace one


def test_a_pruned_endpoint_is_a_warning_above_the_sections_of_the_plan_comment(gha, fake, account, tmp_path):
    """With `prune: true`, a block removed (or renamed) in the pull request deletes its endpoint
    on merge: its callers lose the URL for good. Like a replace, the delete was counted in the
    title and explained only inside its section; it is now a top-level warning too."""
    from tests.github.test_apply_workflow import with_input

    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", config("api", "asr"))).code == 0
    fake.add_pull(53, "a" * 40)
    run = gha.run(with_input(tmp_path, "plan.yml", 'prune: "true"'), pull_request(53, "a" * 40, tree(tmp_path / "pr", config("api"))))
    assert run.job("plan").status == "success", run.job("plan").steps
    (comment,) = fake.comments_on(53)
    body = comment["body"]
    deleted = next((line for line in body.splitlines() if line.startswith("- ⚠️ `endpoint.asr`: will be deleted")), None)
    assert deleted is not None, body
    assert body.index(deleted) < body.index("<details")  # before any resource's section


def test_a_plan_comment_made_while_another_deploy_applies_names_its_holder_above_the_sections(gha, fake, account, tmp_path):
    """Review L12: a pull request planned while the main branch's merge was being applied showed
    that apply's pending half as the pull request's own changes, and said nothing about it."""
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", config("api"))).code == 0
    account.faults({"op": "update", "kind": "endpoint", "action": "hang", "seconds": 300})  # until clear_faults lets it go
    deploy = account.popen("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "merged", config("api", max_workers=3)))
    try:
        for line in deploy.stderr:
            if "updating" in line:  # under the lease, its write held by the account
                break
        fake.add_pull(53, "d" * 40)
        run = gha.run(WORKFLOWS / "plan.yml", pull_request(53, "d" * 40, tree(tmp_path / "pr", config("api", max_workers=4))))
    finally:
        account.clear_faults()
    assert deploy.wait(timeout=120) == 0
    assert run.job("plan").status == "success", run.job("plan").steps
    (comment,) = fake.comments_on(53)
    body = comment["body"]
    assert f"\n> **Warning:** another gpuctl command of this project holds its account lease (gpuctl-lock-ml-api): pid {deploy.pid} on " in body, body
    assert f"pid {deploy.pid} on a machine outside GitHub Actions (`gpu serverless deploy`, since " in body, body  # ADR 39: never its host
    no_host(body, run.texts())
    assert "plan again once it has finished" in body
    assert body.index("**Warning:**") < body.index("<details")  # before any resource's section
    assert "**Warning:** another gpuctl command" in run.job("plan").summary
    no_secrets(run, fake)
