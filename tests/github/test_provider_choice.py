"""A pull request may not choose the account its jobs plan and apply against (review 2 F17, ADR
31): with the action's `provider` input left empty, as the examples leave it, a gpu.jsonc that
says `"provider": "local"` turned the plan comment and the apply on merge into a green no-op
against an empty local provider while RunPod was left untouched. Every `gpu github` job now
refuses it at the key, and only the workflow's own `provider` input chooses local."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from gpuctl.github.parts import read_marker
from tests.github.actions import Runner
from tests.github.conftest import RUNPOD_KEY, TOKEN, WORKFLOWS, config, no_secrets, pull_request, push, schedule, tree

pytestmark = pytest.mark.e2e

HEAD, MERGE = "c3" * 20, "d4" * 20
WHERE = "gpu.jsonc:3:3: provider:"  # the key, as json.dumps(indent=2) writes it second


@pytest.fixture
def unset(fake, account, tmp_path) -> Runner:  # noqa: F811
    """The workflows as the examples ship them: the action's `provider` input empty, the RunPod
    key set from the repository secret, no GPU_PROVIDER."""
    env = {k: v for k, v in account.env.items() if k != "GPU_PROVIDER"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return Runner(fake, tmp_path / "actions", env, {"GITHUB_TOKEN": TOKEN, "RUNPOD_API_KEY": RUNPOD_KEY}, {})


def local_config() -> dict:
    gpu = config("api")
    return {"project_id": gpu.pop("project_id"), "provider": "local", **gpu}


def test_a_pull_request_adding_provider_local_fails_its_plan_instead_of_planning_an_empty_account(unset, fake, account, tmp_path):
    checkout = tree(tmp_path / "pr", local_config())
    assert (checkout / "gpu.jsonc").read_text().splitlines()[2] == '  "provider": "local",'
    fake.add_pull(41, HEAD)
    run = unset.run(WORKFLOWS / "plan.yml", pull_request(41, HEAD, checkout))
    job = run.job("plan")
    assert job.status == "failure", job.steps
    outputs = job.step("gpuctl").outputs
    assert outputs["exit_code"] == "1" and outputs["has_changes"] == "false", outputs
    (comment,) = fake.comments_on(41)
    assert read_marker(comment["body"]).key == "gpu.jsonc"
    for text in (comment["body"], job.summary):
        assert "gpuctl could not plan" in text and "provider `local`" not in text  # no plan against it
        assert "error: gpu.jsonc's provider key may not choose the local provider for a GitHub job" in text
        assert f'{WHERE} is "local", and in a `gpu github` job the workflow chooses the account, not gpu.jsonc' in text
        assert "remove the `provider` key from gpu.jsonc" in text and "set the workflow's `provider` input to `local`" in text
    assert account.writes() == 0 and account.endpoints() == []
    no_secrets(run, fake)


def test_its_merge_applies_nothing_and_fails_instead_of_going_green(unset, fake, account, tmp_path):
    checkout = tree(tmp_path / "main", local_config())
    fake.add_pull(42, HEAD)
    fake.merge(42, MERGE)
    run = unset.run(WORKFLOWS / "apply.yml", push(MERGE, checkout))
    job = run.job("apply")
    assert job.status == "failure", job.steps
    outputs = job.step("gpuctl").outputs
    assert outputs["exit_code"] == "1" and outputs["has_changes"] == "false", outputs
    assert "gpuctl could not apply `gpu.jsonc`" in job.summary and WHERE in job.summary
    assert "applied" not in outputs["summary"] and "nothing to apply" not in outputs["summary"]
    assert account.writes() == 0 and account.endpoints() == []
    no_secrets(run, fake)


def test_the_drift_job_refuses_it_too_and_touches_no_issue(unset, fake, account, tmp_path):
    run = unset.run(WORKFLOWS / "drift.yml", schedule(tree(tmp_path / "main", local_config())))
    job = run.job("drift")
    assert job.status == "failure", job.steps
    assert job.step("gpuctl").outputs["exit_code"] == "1"
    assert WHERE in job.summary and fake.real_issues() == []
    no_secrets(run, fake)


def test_the_workflow_s_own_provider_input_still_chooses_local(gha, fake, tmp_path):
    """The fix is that gpu.jsonc does not choose: `provider: local` in the workflow (what the
    other tests of the GitHub jobs run with) does, whatever gpu.jsonc says."""
    fake.add_pull(43, HEAD)
    run = gha.run(WORKFLOWS / "plan.yml", pull_request(43, HEAD, tree(tmp_path / "pr", local_config())))
    assert run.job("plan").status == "success", run.job("plan").steps
    (comment,) = fake.comments_on(43)
    assert "provider `local`" in comment["body"] and "endpoint.api" in comment["body"]
    saved = json.loads(next(iter(fake.artifacts[0]["files"].values())))
    assert saved["provider"] == "local"
