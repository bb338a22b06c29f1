"""Review R6-8 (ADR 50): a gpu.jsonc that is, or sits under, a symbolic link leading out of the
checkout is never read by a `gpu github` run, as the policy file is not (ADR 33): its plan is an
error naming the link, and nothing of the file it leads to (any file of the runner) reaches
the pull request's comment, the job summary or the log."""

from __future__ import annotations

import json

import pytest

from tests.github.conftest import WORKFLOWS, config, pull_request, tree

pytestmark = pytest.mark.e2e

CANARY = "ghp_CANARYTOKEN0123456789"


@pytest.mark.parametrize("where", ["gpu.jsonc", "svc"], ids=["the-config", "its-directory"])
def test_a_config_behind_a_link_out_of_the_checkout_is_refused_naming_the_link(gha, fake, tmp_path, where):
    runner = tmp_path / "runner"
    runner.mkdir()
    (runner / "gpu.jsonc").write_text(CANARY + "\n")  # stands for any file on the runner
    checkout = tree(tmp_path / "pr", config("api"))
    config_path = "gpu.jsonc" if where == "gpu.jsonc" else "svc/gpu.jsonc"
    (checkout / "gpu.jsonc").unlink()
    (checkout / where).symlink_to(runner / "gpu.jsonc" if where == "gpu.jsonc" else runner)
    gha.action_inputs["config"] = config_path
    fake.add_pull(41, "b" * 40)
    run = gha.run(WORKFLOWS / "plan.yml", pull_request(41, "b" * 40, checkout))
    job = run.job("plan")
    assert job.status == "failure"
    assert job.step("gpuctl").outputs["exit_code"] == "1"
    (comment,) = fake.comments_on(41)
    what = "is a symbolic link" if where == "gpu.jsonc" else "is under the symbolic link svc"
    for shown in (comment["body"], job.summary, job.step("run").err):
        assert f"{config_path} {what} that leads out of the checkout" in shown, shown
        assert f"make {where} a file of the repository, or a link to one" in shown
    logs = [s.out + s.err + json.dumps(s.outputs) for s in job.steps] + [job.summary]
    left = [p.read_text(errors="replace") for p in run.directory.rglob("*") if p.is_file() and not p.is_symlink() and runner not in p.resolve().parents]
    sent = json.dumps([r["body"] for r in fake.requests])
    for text in (*logs, *left, sent):  # run.texts() would read the link itself, in the workspace
        assert "CANARY" not in text and str(runner) not in text
