"""The nightly drift issue after an apply of another gpu.jsonc (review 3, R13; ADR 37): main's
gpu.jsonc applied by the merge's workflow, then a laptop's copy (another branch) applied with
`deploy -y`. The issue said "2 fields changed in gpu.jsonc" and "apply it: `gpu serverless deploy
-y`", a pending change; it now says the fields were applied from another gpu.jsonc, by whom and
from where, and to revert through review."""

from __future__ import annotations

import socket

import pytest

from tests.e2e.conftest import project
from tests.github.conftest import WORKFLOWS, config, no_host, no_secrets, pull_request, schedule, tree

pytestmark = pytest.mark.e2e

DRIFT = WORKFLOWS / "drift.yml"
PLAN = WORKFLOWS / "plan.yml"
CI = {"GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "ana", "GITHUB_REPOSITORY": "acme/ml-api", "GITHUB_REF_NAME": "main",
      "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567", "GIT_AUTHOR_NAME": ""}
LAPTOP = {"GITHUB_ACTIONS": "", "GITHUB_ACTOR": "", "GITHUB_REPOSITORY": "", "GITHUB_REF_NAME": "", "GITHUB_SHA": "", "GIT_AUTHOR_NAME": "",
          "USER": "lee", "LOGNAME": "lee"}


def test_the_drift_issue_says_another_gpu_jsonc_applied_it(gha, fake, account, tmp_path):
    main = config("api", min_workers=1, max_workers=4)
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "merged", main), env=CI).code == 0
    laptop = project(tmp_path / "laptop", config("api", min_workers=3, max_workers=7))
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=laptop, env=LAPTOP).code == 0

    run = gha.run(DRIFT, schedule(tree(tmp_path / "main", main)))
    assert run.job("drift").status == "success", run.job("drift").steps
    assert run.job("drift").step("gpuctl").outputs["exit_code"] == "2"
    (issue,) = fake.real_issues()
    body = issue["body"]
    assert "2 fields applied from another gpu.jsonc" in body and "changed in gpu.jsonc" not in body, body
    assert "apply it: `gpu serverless deploy -y`" not in body and "revert through review" in body, body
    # The issue is public in a public repository: it says the apply ran outside GitHub Actions,
    # never the machine's host name (ADR 39); the terminal and --json keep the whole place.
    assert "**Last applied from another gpu.jsonc** by lee from a machine outside GitHub Actions (gpu.jsonc)" in body, body
    assert "no commit recorded" in body, body
    no_secrets(run, fake)

    fake.add_pull(12, "c" * 40)  # a pull request off main (a README edit): its plan puts main's values back over the laptop's
    planned = gha.run(PLAN, pull_request(12, "c" * 40, tree(tmp_path / "pr", main)))
    assert planned.job("plan").status == "success", planned.job("plan").steps
    (comment,) = fake.comments_on(12)
    # the issue, the comment, the job summaries, and every log, output and file the runs left (the plan artifact too)
    public = (body, comment["body"], run.job("drift").summary, planned.job("plan").summary, run.texts(), planned.texts())
    no_host(*public)
    assert not any("lee@" in text for text in public)
    host = socket.gethostname()
    terminal = account.gpu("serverless", "drift", "--provider", "local", cwd=tree(tmp_path / "mine", main), env=LAPTOP)
    assert terminal.code == 2 and f"from lee@{host.split('.')[0]} (gpu.jsonc)" in terminal.out, terminal.out
