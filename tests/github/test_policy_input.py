"""The action's `policy` input, run through examples/github/plan.yml as GitHub runs it: the plan
that breaks the platform team's file shows the violations in the sticky comment and the job
summary, its outputs say exit_code 4, and the step fails; a plan that keeps the file passes."""

from __future__ import annotations

import pytest

from tests.github.conftest import WORKFLOWS, config, no_secrets, pull_request, tree

pytestmark = pytest.mark.e2e

PLAN = WORKFLOWS / "plan.yml"


def test_a_plan_that_breaks_the_policy_input_fails_with_the_violations_on_the_pull_request(gha, fake, tmp_path):
    gha.action_inputs["policy"] = "platform.jsonc"
    fake.add_pull(21, "d" * 40)
    run = gha.run(PLAN, pull_request(21, "d" * 40, tree(tmp_path / "pr", config("api", max_workers=3), {"platform.jsonc": '{"max_max_workers": 2}'})))
    job = run.job("plan")
    assert job.status == "failure"
    outputs = job.step("gpuctl").outputs
    assert outputs["exit_code"] == "4" and outputs["has_changes"] == "true"
    assert outputs["summary"].endswith("Breaks 1 policy rule.")
    (comment,) = fake.comments_on(21)
    assert "Policy (platform.jsonc): 1 violation" in comment["body"]
    assert "max_workers is 3; the policy allows at most 2 [max_max_workers, platform.jsonc]" in comment["body"]
    assert "max_workers is 3; the policy allows at most 2" in job.summary
    no_secrets(run, fake)


def test_a_plan_that_keeps_the_policy_input_passes(gha, fake, tmp_path):
    gha.action_inputs["policy"] = "platform.jsonc"
    fake.add_pull(22, "e" * 40)
    run = gha.run(PLAN, pull_request(22, "e" * 40, tree(tmp_path / "pr", config("api", max_workers=2), {"platform.jsonc": '{"max_max_workers": 2}'})))
    job = run.job("plan")
    assert job.status == "success", job.steps
    assert job.step("gpuctl").outputs["exit_code"] == "2"
    (comment,) = fake.comments_on(22)
    assert "Policy (platform.jsonc): passed" in comment["body"]


def test_a_reviewed_plan_that_broke_the_policy_is_never_applied_even_without_the_policy_at_merge(account, tmp_path):
    """The plan job's policy failed the check; a merge run that lacks the policy file (it was
    only given to plan.yml) must still refuse the plan that broke it, and write nothing."""
    checkout = tree(tmp_path / "repo", config("api", max_workers=3), {"platform.jsonc": '{"max_max_workers": 2}'})
    github = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    planned = account.gpu("github", "plan", "--no-comment", "--policy", "platform.jsonc", "--plan-dir", "plans", cwd=checkout, env=github)
    assert planned.code == 4, planned.err
    writes = account.writes()
    applied = account.gpu("github", "apply", "--no-comment", "--plan-dir", "plans", cwd=checkout, env=github)
    assert applied.code == 1, applied.out + applied.err
    assert "the reviewed plan breaks the policy: gpu.jsonc:" in applied.err
    assert "max_workers is 3; the policy allows at most 2 [max_max_workers, platform.jsonc]" in applied.err
    assert account.writes() == writes and account.endpoints() == []
