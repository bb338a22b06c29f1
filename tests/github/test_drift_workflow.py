"""examples/github/drift.yml, run as the nightly schedule runs it: one issue opened on drift
(its label created), the same issue updated on the next run, closed with a comment when the
drift is gone; nothing touched when the report fails."""

from __future__ import annotations

import pytest

from gpuctl.github.parts import read_marker
from tests.e2e.conftest import project
from tests.github.conftest import WORKFLOWS, config, no_secrets, schedule, tree
from tests.github.fake_github import Canned

pytestmark = pytest.mark.e2e

DRIFT = WORKFLOWS / "drift.yml"


def console_min_workers(account, value: int) -> None:
    (endpoint,) = account.endpoints()
    assert account.server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"workers": {"min": value}}).status_code == 200


def test_drift_opens_one_issue_updates_it_and_closes_it(gha, fake, account, tmp_path):
    gpu = config("api", max_workers=4)
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", gpu)).code == 0
    checkout = tree(tmp_path / "main", gpu)

    quiet = gha.run(DRIFT, schedule(checkout))
    assert quiet.job("drift").status == "success"
    assert fake.real_issues() == [] and fake.labels == {}
    assert quiet.job("drift").step("gpuctl").outputs["has_changes"] == "false"

    console_min_workers(account, 2)
    opened = gha.run(DRIFT, schedule(checkout))
    assert opened.job("drift").status == "success", opened.job("drift").steps
    (issue,) = fake.real_issues()
    assert issue["state"] == "open" and [label["name"] for label in issue["labels"]] == ["gpuctl-drift"]
    assert "gpuctl-drift" in fake.labels
    assert read_marker(issue["body"]).key == "gpu.jsonc" and "workers.min" in issue["body"]
    assert opened.job("drift").step("gpuctl").outputs["exit_code"] == "2"
    assert "workers.min" in opened.job("drift").summary
    first_body = issue["body"]

    console_min_workers(account, 3)
    updated = gha.run(DRIFT, schedule(checkout))
    (same,) = fake.real_issues()
    assert same["number"] == issue["number"] and "<code>3</code>" in same["body"] and "<code>3</code>" not in first_body
    assert sum(r["method"] == "POST" and r["path"].endswith("/labels") for r in fake.requests) == 1

    console_min_workers(account, 0)
    closed = gha.run(DRIFT, schedule(checkout))
    assert closed.job("drift").status == "success"
    (done,) = fake.real_issues()
    assert done["state"] == "closed" and done["state_reason"] == "completed"
    (note,) = fake.comments_on(done["number"])
    assert "matches `gpu.jsonc` again" in note["body"]
    for run in (quiet, opened, updated, closed):
        no_secrets(run, fake)


def test_a_failed_report_touches_no_issue(gha, fake, account, tmp_path):
    gpu = config("api", max_workers=4)
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", gpu)).code == 0
    console_min_workers(account, 2)
    checkout = tree(tmp_path / "main", gpu)
    assert gha.run(DRIFT, schedule(checkout)).job("drift").status == "success"
    (issue,) = fake.real_issues()
    writes = len(fake.writes())

    (checkout / "gpu.jsonc").write_text("{ not json")
    failed = gha.run(DRIFT, schedule(checkout))
    assert failed.job("drift").status == "failure"
    assert failed.job("drift").step("gpuctl").outputs["exit_code"] == "1"
    assert len(fake.writes()) == writes and fake.real_issues()[0]["state"] == "open"
    assert "Traceback" not in failed.texts()


def test_github_refusing_the_issue_fails_the_step_with_its_outputs_and_the_other_configs_reported(gha, fake, account, tmp_path):
    """The drift was found, but GitHub would not take the issue (a token without issues:
    write, a rate limit longer than gpuctl waits): the step fails with exit_code 1 and
    has_changes true in its outputs, the report is in the job summary, and the next config is
    still reported and gets its issue."""
    gpu = config("api", max_workers=4)
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", gpu)).code == 0
    console_min_workers(account, 2)
    checkout = tree(tmp_path / "main", gpu)
    tree(checkout / "services" / "asr", gpu)
    gha.action_inputs |= {"config": "gpu.jsonc\nservices/asr/gpu.jsonc"}
    fake.canned.append(Canned(403, {}, {"message": "Resource not accessible by integration"}))

    run = gha.run(DRIFT, schedule(checkout))
    job = run.job("drift")
    assert job.status == "failure"
    outputs = job.step("gpuctl").outputs
    assert outputs["exit_code"] == "1" and outputs["has_changes"] == "true", (outputs, job.steps)
    first, second = outputs["summary"].splitlines()
    assert first.startswith("gpu.jsonc: drift; error: the drift issue: GitHub denied GET") and "(403)" in first
    assert second.startswith("services/asr/gpu.jsonc: drift; opened issue #")
    (issue,) = fake.real_issues()
    assert read_marker(issue["body"]).key == "services/asr/gpu.jsonc"
    assert "could not open or update the drift issue for `gpu.jsonc`" in job.summary and "workers.min" in job.summary
    assert "Traceback" not in run.texts()
    no_secrets(run, fake)
