"""Re-running the apply job of an older merge after a newer merge applied must not put the
account back to the older commit's gpu.jsonc without a word."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import project
from tests.github.conftest import WORKFLOWS, no_secrets, config, pull_request, push, tree

pytestmark = pytest.mark.e2e


def merged_and_applied(gha, fake, number: int, checkout, listed: bool = False):
    """Pull request `number` (head a<n>…, merge b<n>… for its last digit) planned on `checkout`,
    merged and applied by its merge run; `listed`: the fake GitHub lists the merge commit's tree
    (what the newer-commit check reads at the branch head)."""
    head, merge = f"a{number % 10}" * 20, f"b{number % 10}" * 20
    fake.add_pull(number, head)
    assert gha.run(WORKFLOWS / "plan.yml", pull_request(number, head, checkout)).job("plan").status == "success"
    fake.merge(number, merge)
    if listed:
        fake.add_tree(merge, checkout)
    run = gha.run(WORKFLOWS / "apply.yml", push(merge, checkout))
    assert run.job("apply").status == "success", run.job("apply").steps
    return run


def test_a_rerun_of_an_older_merge_after_a_newer_one_applied_does_not_roll_the_account_back(gha, fake, account, tmp_path):
    """PR 31 raises workers.max 2 → 3 and is applied; PR 32 reverts it (3 → 2), planned after
    that apply, and is applied. Then someone re-runs PR 31's apply job (GitHub's "Re-run jobs"
    keeps the run's commit): its fresh plan, 2 → 3, is exactly the plan reviewed on PR 31, so
    without knowing which commit the account was last applied from it would apply it."""
    deployed = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", config("api")))
    assert deployed.code == 0, deployed.err
    old = tree(tmp_path / "pr-31", config("api", max_workers=3))
    merged_and_applied(gha, fake, 31, old)
    new = tree(tmp_path / "pr-32", config("api", max_workers=2))
    merged_and_applied(gha, fake, 32, new, listed=True)
    (endpoint,) = account.endpoints()
    assert endpoint["workers"]["max"] == 2
    writes = account.writes()

    rerun = gha.run(WORKFLOWS / "apply.yml", push("b1" * 20, old))
    (endpoint,) = account.endpoints()
    assert endpoint["workers"]["max"] == 2, "the re-run of the older merge rolled the account back"
    assert account.writes() == writes
    job = rerun.job("apply")
    assert job.status == "failure"
    outputs = job.step("gpuctl").outputs
    assert (outputs["exit_code"], outputs["summary"]) == ("1", "gpu.jsonc: refused: a newer commit changed this config"), outputs
    why = (f"gpu.jsonc was changed on main after this run's commit {'b1' * 6} (main is at {'b2' * 6} now): "
           "applying this run's gpu.jsonc would put the account back to an older one")
    assert why in job.summary and why in job.step("run").err
    assert "re-run that one, not this one" in job.summary
    no_secrets(rerun, fake)


def test_the_run_of_an_older_merge_applies_when_the_newer_merges_left_its_config_as_it_is(gha, fake, account, tmp_path):
    """Back to back: PR 31 changes gpu.jsonc, PR 32 (merged before PR 31's apply ran) changes
    only the README. gpu.jsonc on main is PR 31's, so its run applies it."""
    checkout = tree(tmp_path / "pr-31", config("api", max_workers=3))
    fake.add_pull(31, "a1" * 20)
    assert gha.run(WORKFLOWS / "plan.yml", pull_request(31, "a1" * 20, checkout)).job("plan").status == "success"
    fake.merge(31, "b1" * 20)
    fake.add_pull(32, "a2" * 20)
    fake.merge(32, "b2" * 20)
    fake.add_tree("b2" * 20, tree(tmp_path / "main", config("api", max_workers=3), {"README.md": "docs"}))
    run = gha.run(WORKFLOWS / "apply.yml", push("b1" * 20, checkout))
    assert run.job("apply").status == "success", run.job("apply").steps
    (endpoint,) = account.endpoints()
    assert endpoint["workers"]["max"] == 3


def test_a_config_outside_the_checkout_is_not_taken_for_one_deleted_on_the_branch(fake, account, tmp_path):
    """A config given by a path outside the repository's checkout has no version on the branch
    to compare with: the branch having moved is no reason to refuse it (the contents API has no
    such path, which read as 'deleted on main')."""
    from tests.github.conftest import REPO, TOKEN

    outside = tree(tmp_path / "elsewhere", config("api"))
    workspace = tree(tmp_path / "workspace", config("other"))
    fake.branches["main"] = "b2" * 20
    github = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"), "GITHUB_API_URL": fake.url,
              "GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO, "GITHUB_SHA": "b1" * 20, "GITHUB_REF": "refs/heads/main",
              "GITHUB_WORKSPACE": str(workspace)}
    applied = account.gpu("github", "apply", "--no-comment", "--replan", "--config", str(outside / "gpu.jsonc"), cwd=workspace, env=github)
    assert applied.code == 0, applied.err
    assert [e["name"] for e in account.endpoints()] == ["api"]


def test_an_older_run_that_waited_for_the_lock_while_a_newer_merge_landed_checks_again_before_writing(fake, account, tmp_path):
    """The run of merge b1 (workers.max 3 → 2) finds main at its own commit, plans, and waits
    for the lock (another run holds it). Meanwhile merge b2 puts workers.max back to 3 on main,
    and its run finds nothing to apply, so the account does not move and b1's saved plan is
    still current when it gets the lock. Asked only before the wait, b1 would then write 2: the
    question is asked again under the account lease, right before the writes."""
    from gpuctl.engine.lock import ProjectLock
    from tests.github.conftest import REPO, TOKEN

    deployed = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", config("api", max_workers=3)))
    assert deployed.code == 0, deployed.err
    checkout = tree(tmp_path / "b1", config("api", max_workers=2))
    github = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"), "GITHUB_API_URL": fake.url,
              "GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO, "GITHUB_SHA": "b1" * 20, "GITHUB_REF": "refs/heads/main",
              "GITHUB_WORKSPACE": str(checkout)}
    assert account.gpu("github", "plan", "--no-comment", "--plan-dir", str(tmp_path / "plans"), cwd=checkout, env=github).code == 0
    fake.branches["main"] = "b1" * 20

    held = ProjectLock(checkout / ".gpu" / "deploy.lock", "the test")
    held.acquire(0)
    try:
        waiting = account.popen("github", "apply", "--no-comment", "--plan-dir", str(tmp_path / "plans"), "--lock-timeout", "10m", cwd=checkout, env=github)
        for line in waiting.stderr:
            if "waiting for the lock" in line:
                break
        fake.branches["main"] = "b2" * 20  # merged meanwhile: gpu.jsonc back to workers.max 3
        fake.add_tree("b2" * 20, tree(tmp_path / "b2", config("api", max_workers=3)))
    finally:
        held.release()
    out, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 1, err
    assert out == "gpu.jsonc: refused: a newer commit changed this config\n", out
    assert f"gpu.jsonc was changed on main after this run's commit {'b1' * 6} (main is at {'b2' * 6} now)" in err
    (endpoint,) = account.endpoints()
    assert endpoint["workers"]["max"] == 3  # only the lease was written (taken and given back)


WHISPER = "runpod/ai-api-faster-whisper:1.0.10"  # state/templates.json


def _image(account) -> str:
    """The image the account's one endpoint runs (its template's)."""
    (endpoint,) = account.endpoints()
    return endpoint["image"]


def _auto(name: str = "api") -> dict:
    """A gpu.jsonc whose template is `auto`: the files beside it choose it (requirements.txt)."""
    return {"project_id": "ml-api", "serverless": {"name": name, "gpu_type": "NVIDIA GeForce RTX 4090",
                                                   "scaling": {"min_workers": 0, "max_workers": 2, "idle_timeout": 5}}}


def test_a_rerun_of_an_older_merge_does_not_roll_back_a_newer_merge_that_changed_only_a_file_template_auto_reads(gha, fake, account, tmp_path):
    """gpu.jsonc is not all the plan reads: with `template: auto` the files beside it choose the
    template (requirements.txt naming vllm or faster-whisper). PR 31 switches requirements.txt
    to vllm and is applied; PR 32 switches it back to faster-whisper (gpu.jsonc untouched by
    both) and is applied. A re-run of PR 31's apply finds gpu.jsonc on main as its own, and its
    fresh plan is exactly PR 31's reviewed plan: only comparing every input of the plan keeps
    it from putting vllm back."""
    whisper, vllm = {"requirements.txt": "faster-whisper==1.0\n"}, {"requirements.txt": "vllm==0.6\n"}
    deployed = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", _auto(), whisper))
    assert deployed.code == 0, deployed.err
    old = tree(tmp_path / "pr-31", _auto(), vllm)
    merged_and_applied(gha, fake, 31, old, listed=True)
    new = tree(tmp_path / "pr-32", _auto(), whisper)
    merged_and_applied(gha, fake, 32, new, listed=True)
    assert _image(account) == WHISPER
    writes = account.writes()

    rerun = gha.run(WORKFLOWS / "apply.yml", push("b1" * 20, old))
    assert account.writes() == writes, "the re-run of the older merge rolled the account back"
    assert _image(account) == WHISPER
    job = rerun.job("apply")
    assert job.status == "failure"
    outputs = job.step("gpuctl").outputs
    assert (outputs["exit_code"], outputs["summary"]) == ("1", "gpu.jsonc: refused: a newer commit changed this config"), outputs
    why = f"requirements.txt, which template auto reads for gpu.jsonc, was changed on main after this run's commit {'b1' * 6}"
    assert why in job.summary and why in job.step("run").err
    no_secrets(rerun, fake)


def test_a_rerun_that_writes_nothing_leaves_the_comment_saying_what_was_applied(gha, fake, account, tmp_path):
    """PR 31's merge run applied it and said so on the pull request (ids, URLs, the plan
    applied). A later re-run of that job that writes nothing (here refused: a newer commit
    changed gpu.jsonc; or the account drifted since, or RunPod refuses the key) must not
    replace that comment with "gpuctl did not apply": the pull request would then say it was
    never applied. Its result goes to the job summary and the log."""
    from gpuctl.github.parts import read_marker

    fake.add_pull(31, "a1" * 20)
    old = tree(tmp_path / "pr-31", config("api", max_workers=3))
    assert gha.run(WORKFLOWS / "plan.yml", pull_request(31, "a1" * 20, old)).job("plan").status == "success"
    fake.merge(31, "b1" * 20)
    assert gha.run(WORKFLOWS / "apply.yml", push("b1" * 20, old)).job("apply").status == "success"
    (applied,) = [dict(c) for c in fake.comments_on(31) if read_marker(c["body"]).kind == "apply"]
    assert "### gpuctl applied `gpu.jsonc`" in applied["body"]

    fake.branches["main"] = "b2" * 20  # a newer merge changed gpu.jsonc
    fake.add_tree("b2" * 20, tree(tmp_path / "main", config("api", max_workers=5)))
    account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "moved", config("api", max_workers=5)))
    rerun = gha.run(WORKFLOWS / "apply.yml", push("b1" * 20, old))
    job = rerun.job("apply")
    assert job.status == "failure"
    assert "gpuctl did not apply `gpu.jsonc`: a newer commit changed it" in job.summary
    (comment,) = [c for c in fake.comments_on(31) if read_marker(c["body"]).kind == "apply"]
    assert comment == applied, "the comment saying what was applied was replaced"
    assert "pull request #31 keeps the apply comment of the run that applied it" in job.step("run").err


@pytest.mark.parametrize("head_link, head_files, changed", [
    ("policies/b.jsonc", {}, "platform.jsonc, the policy file gpu.jsonc is planned with, was changed"),
    ("policies/a.jsonc", {"policies/a.jsonc": '{"max_max_workers": 1}'}, "policies/a.jsonc, read for the policy file gpu.jsonc is planned with, was changed"),
], ids=["link-moved", "target-changed"])
def test_a_newer_commit_that_changed_where_the_policy_link_leads_is_a_reason(fake, account, tmp_path, head_link, head_files, changed):
    """Review 5, R5-1 (the apply's side): the policy file the workflow names, platform.jsonc, is a
    link. A newer commit that points it elsewhere changed the rules as much as one that edits the
    file: the link is compared as itself (by the path named, never its target's alone), and the
    file it leads to too."""
    from tests.github.conftest import REPO, TOKEN

    files = {"policies/a.jsonc": '{"max_max_workers": 5}', "policies/b.jsonc": '{"max_max_workers": 1}'}
    run = tree(tmp_path / "run", config("api"), files)
    (run / "platform.jsonc").symlink_to("policies/a.jsonc")
    head = tree(tmp_path / "head", config("api"), files | head_files)
    (head / "platform.jsonc").symlink_to(head_link)
    fake.branches["main"] = "b2" * 20
    fake.add_tree("b2" * 20, head)
    github = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"), "GITHUB_API_URL": fake.url,
              "GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO, "GITHUB_SHA": "b1" * 20, "GITHUB_REF": "refs/heads/main",
              "GITHUB_WORKSPACE": str(run)}
    applied = account.gpu("github", "apply", "--no-comment", "--replan", "--policy", "platform.jsonc", cwd=run, env=github)
    assert applied.code == 1, applied.out + applied.err
    assert changed + f" on main after this run's commit {'b1' * 6}" in applied.err
    assert account.endpoints() == []
