"""examples/github/plan.yml, run as GitHub runs it: the sticky comment (one per config, edited
in place, split under GitHub's limit), the job summary, the plan artifact and the outputs."""

from __future__ import annotations

import json

import pytest

from gpuctl.github.parts import COMMENT_LIMIT, read_marker
from tests.github.conftest import WORKFLOWS, config, no_secrets, pull_request, tree
from tests.github.fake_github import Canned

pytestmark = pytest.mark.e2e

PLAN = WORKFLOWS / "plan.yml"


def test_a_second_push_edits_the_one_comment(gha, fake, tmp_path):
    fake.add_pull(7, "a" * 40)
    first = gha.run(PLAN, pull_request(7, "a" * 40, tree(tmp_path / "push1", config("api"))))
    assert first.job("plan").status == "success", first.job("plan").steps
    (comment,) = [dict(c) for c in fake.comments_on(7)]
    assert read_marker(comment["body"]).key == "gpu.jsonc"
    assert "endpoint.api" in comment["body"] and "will be created" in comment["body"]

    fake.add_pull(7, "b" * 40)
    second = gha.run(PLAN, pull_request(7, "b" * 40, tree(tmp_path / "push2", config("api", max_workers=4))))
    assert second.job("plan").status == "success"
    (edited,) = fake.comments_on(7)
    assert edited["id"] == comment["id"] and edited["body"] != comment["body"]
    assert [r["method"] for r in fake.writes()] == ["POST", "PATCH"]
    no_secrets(first, fake)
    no_secrets(second, fake)


def test_the_job_summary_outputs_and_artifact_carry_the_plan(gha, fake, tmp_path):
    fake.add_pull(8, "c" * 40)
    run = gha.run(PLAN, pull_request(8, "c" * 40, tree(tmp_path / "pr", config("api"))))
    job = run.job("plan")
    outputs = job.step("gpuctl").outputs
    assert outputs["has_changes"] == "true" and outputs["exit_code"] == "2"
    assert outputs["summary"] == "gpu.jsonc: Plan: 1 to create, 0 to update, 0 to replace, 0 to delete."
    assert outputs["artifact"] == "gpuctl-plan-" + "c" * 40
    (comment,) = fake.comments_on(8)
    assert comment["body"].split("\n", 1)[1] in job.summary  # the same Markdown, less the marker
    (artifact,) = fake.artifacts
    assert artifact["name"] == outputs["artifact"] and artifact["workflow_run"]["head_sha"] == "c" * 40
    (name,) = artifact["files"]
    saved = json.loads(artifact["files"][name])
    assert name == "gpu.jsonc.plan.json" and saved["project_id"] == "ml-api" and saved["summary"]["create"] == 1
    no_secrets(run, fake)


def test_an_oversized_plan_is_split_under_the_limit_and_shrinks_back(gha, fake, tmp_path):
    names = [f"worker-{i:03d}" for i in range(150)]
    fake.add_pull(9, "1" * 40)
    big = gha.run(PLAN, pull_request(9, "1" * 40, tree(tmp_path / "big", config(*names))))
    assert big.job("plan").status == "success", big.job("plan").steps
    parts = sorted((dict(c) for c in fake.comments_on(9)), key=lambda c: read_marker(c["body"]).part)
    assert len(parts) >= 2
    assert all(len(c["body"]) <= COMMENT_LIMIT for c in parts)
    assert [read_marker(c["body"]).part for c in parts] == list(range(1, len(parts) + 1))
    assert f"Part 1 of {len(parts)}" in parts[0]["body"]
    joined = "".join(c["body"] for c in parts)
    assert all(f"endpoint.{name} " in joined for name in names)
    assert all(c["body"].count("```") % 2 == 0 for c in parts)  # every part closes what it opens

    fake.add_pull(9, "2" * 40)
    small = gha.run(PLAN, pull_request(9, "2" * 40, tree(tmp_path / "small", config("api"))))
    assert small.job("plan").status == "success"
    (left,) = fake.comments_on(9)
    assert left["id"] == parts[0]["id"] and "Part " not in left["body"] and "endpoint.api" in left["body"]
    assert sum(r["method"] == "DELETE" for r in fake.requests) == len(parts) - 1
    no_secrets(big, fake)


def test_a_broken_config_is_reported_on_the_pull_request_and_fails_the_job(gha, fake, tmp_path):
    fake.add_pull(10, "3" * 40)
    checkout = tree(tmp_path / "pr", config("api"))
    (checkout / "gpu.jsonc").write_text('{"project_id": "ml-api", "serverless": {"gpu_typo": 1}}')
    run = gha.run(PLAN, pull_request(10, "3" * 40, checkout))
    job = run.job("plan")
    assert job.status == "failure"
    assert job.step("gpuctl").outputs["exit_code"] == "1"
    (comment,) = fake.comments_on(10)
    assert "gpuctl could not plan `gpu.jsonc`" in comment["body"] and "gpu_typo" in comment["body"]
    assert "Traceback" not in run.texts()


def test_a_fork_pull_request_is_left_to_the_fork_flow(gha, fake, tmp_path):
    run = gha.run(PLAN, pull_request(11, "4" * 40, tree(tmp_path / "pr", config("api")), fork=True))
    assert run.job("plan").status == "skipped"
    assert fake.requests == []


def test_a_token_without_comment_permission_fails_with_the_permission_and_keeps_the_outputs(gha, fake, tmp_path):
    fake.add_pull(12, "5" * 40)
    fake.canned.append(Canned(403, {}, {"message": "Resource not accessible by integration"}))
    run = gha.run(PLAN, pull_request(12, "5" * 40, tree(tmp_path / "pr", config("api"))))
    job = run.job("plan")
    assert job.status == "failure" and fake.comments_on(12) == []
    assert "pull-requests: write" in job.step("run").err and "Traceback" not in job.step("run").err
    assert job.step("run").outputs["has_changes"] == "true" and job.step("run").outputs["exit_code"] == "2"
    assert "endpoint.api" in job.summary
    no_secrets(run, fake)
