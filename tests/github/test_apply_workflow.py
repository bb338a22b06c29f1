"""examples/github/apply.yml after plan.yml, run as GitHub runs them: the merge run applies the
plan reviewed on the pull request while it is still the plan, and refuses, writing nothing, when
it is not (docs/adr/0016-apply-the-reviewed-plan.md)."""

from __future__ import annotations

import re
import signal

import pytest

from gpuctl.github.parts import read_marker
from tests.e2e.conftest import project, terminated_while_creating
from tests.github.conftest import REPO, WORKFLOWS, config, dispatch, no_secrets, pull_request, push, tree, TWO_CONFIGS, refused_first_comment, two_projects
from tests.github.fake_github import Canned

pytestmark = pytest.mark.e2e

HEAD, MERGE = "a1" * 20, "b2" * 20


def reviewed(gha, fake, checkout, number: int = 31):
    """A pull request whose plan job ran on `checkout`, then merged as MERGE."""
    fake.add_pull(number, HEAD)
    run = gha.run(WORKFLOWS / "plan.yml", pull_request(number, HEAD, checkout))
    assert run.job("plan").status == "success", run.job("plan").steps
    fake.merge(number, MERGE)
    return run


def deployed(account, tmp_path, gpu: dict) -> None:
    result = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", gpu))
    assert result.code == 0, result.err


def apply_comment(fake, number: int = 31) -> str:
    (comment,) = [c for c in fake.comments_on(number) if read_marker(c["body"]).kind == "apply"]
    return comment["body"]


def test_the_reviewed_plan_is_applied_on_merge(gha, fake, account, tmp_path):
    checkout = tree(tmp_path / "main", config("api"))
    plan_run = reviewed(gha, fake, checkout)
    run = gha.run(WORKFLOWS / "apply.yml", push(MERGE, checkout))
    job = run.job("apply")
    assert job.status == "success", job.steps
    assert job.step("find").outputs == {"found": "true", "pr": "31", "head_sha": HEAD, "run_id": str(plan_run.run_id), "artifact": f"gpuctl-plan-{HEAD}"}
    assert [e["name"] for e in account.endpoints()] == ["api"]
    outputs = job.step("gpuctl").outputs
    assert outputs["has_changes"] == "true" and outputs["summary"] == "gpu.jsonc: applied: 1 created, 0 updated, 0 replaced, 0 deleted"
    assert "Applied the reviewed plan: 1 created" in apply_comment(fake)
    assert "gpuctl applied `gpu.jsonc`" in job.summary
    no_secrets(run, fake)


def test_the_apply_comment_links_each_gpu_jsonc_key_to_its_line_at_the_merge_commit(gha, fake, account, tmp_path):
    """The plan comment links each key at the pull request's head; the comment saying what was
    applied links the same keys at the merge commit the apply run checked out, so it reads as
    the plan that was reviewed and its links show the config that was applied."""
    deployed(account, tmp_path, config("api"))
    checkout = tree(tmp_path / "main", config("api", max_workers=4))
    reviewed(gha, fake, checkout)
    run = gha.run(WORKFLOWS / "apply.yml", push(MERGE, checkout))
    assert run.job("apply").status == "success", run.job("apply").steps
    lines = (checkout / "gpu.jsonc").read_text().splitlines()
    (line,) = [i for i, text in enumerate(lines, 1) if '"max_workers"' in text]
    key = f"[`serverless.scaling.max_workers`](https://github.com/{REPO}/blob/{MERGE}/gpu.jsonc#L{line}) gpu.jsonc:{line}"
    body = apply_comment(fake)
    assert "Applied the reviewed plan: 0 created, 1 updated" in body and f"| `workers.max` | {key} |" in body, body
    assert f"| `workers.max` | {key} |" in run.job("apply").summary
    no_secrets(run, fake)


def test_a_plan_that_changed_since_review_is_refused_then_applied_by_a_person(gha, fake, account, tmp_path):
    deployed(account, tmp_path, config("api"))
    checkout = tree(tmp_path / "main", config("api", max_workers=4))
    reviewed(gha, fake, checkout)
    (endpoint,) = account.endpoints()
    assert account.server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"workers": {"min": 1}}).status_code == 200
    writes = account.writes()

    refused = gha.run(WORKFLOWS / "apply.yml", push(MERGE, checkout))
    assert refused.job("apply").status == "failure"
    assert account.writes() == writes
    body = apply_comment(fake)
    assert "did not apply `gpu.jsonc`" in body and "endpoint.api: the update now differs from the reviewed update" in body
    assert "workers.min" in body  # the new plan, for the person who decides
    assert refused.job("apply").step("gpuctl").outputs["exit_code"] == "1"

    (refusal,) = [c for c in fake.comments_on(31) if read_marker(c["body"]).kind == "apply"]
    replanned = gha.run(WORKFLOWS / "apply.yml", dispatch(MERGE, checkout, replan=True))
    assert replanned.job("apply").status == "success", replanned.job("apply").steps
    (endpoint,) = account.endpoints()
    assert (endpoint["workers"]["min"], endpoint["workers"]["max"]) == (0, 4)
    # The merged pull request no longer reads as refused: its one apply comment, edited, says who
    # applied it by hand and in which run, and still holds all the refusal said, folded.
    (applied,) = [c for c in fake.comments_on(31) if read_marker(c["body"]).kind == "apply"]
    assert applied["id"] == refusal["id"] and read_marker(applied["body"]).wrote
    body = applied["body"]
    assert body.index("### gpuctl applied `gpu.jsonc`") < body.index("did not apply `gpu.jsonc`"), body
    assert "run by hand by `ana` with `replan`" in body
    assert body.index(f"[run {replanned.run_id}](https://github.com/{REPO}/actions/runs/{replanned.run_id})") < body.index("did not apply `gpu.jsonc`")
    said = refusal["body"].split("\n", 1)[1]  # less its marker
    assert said.strip() in body, body
    assert f"[run {refused.run_id}]" in body  # the refused run's own footer, kept
    no_secrets(refused, fake)
    no_secrets(replanned, fake)


def test_the_second_of_two_pull_requests_planned_on_one_base_is_refused_naming_what_differs(gha, fake, account, tmp_path):
    """Two pull requests planned against the same base, merged one after the other. The second's
    field diff reads the same in its review and after the first merge (workers.min 0 → 1), yet
    the body it would write now carries the first one's workers.max: the refusal names that
    field with both values, instead of leaving the person to compare two identical-looking plans."""
    deployed(account, tmp_path, config("api"))
    first, second = tree(tmp_path / "pr-31", config("api", max_workers=3)), tree(tmp_path / "pr-32", config("api", min_workers=1))
    fake.add_pull(31, "a1" * 20)
    fake.add_pull(32, "a2" * 20)
    assert gha.run(WORKFLOWS / "plan.yml", pull_request(31, "a1" * 20, first)).job("plan").status == "success"
    assert gha.run(WORKFLOWS / "plan.yml", pull_request(32, "a2" * 20, second)).job("plan").status == "success"
    fake.merge(31, "b1" * 20)
    assert gha.run(WORKFLOWS / "apply.yml", push("b1" * 20, first)).job("apply").status == "success"
    fake.merge(32, "b2" * 20)
    writes = account.writes()

    refused = gha.run(WORKFLOWS / "apply.yml", push("b2" * 20, tree(tmp_path / "main", config("api", max_workers=3, min_workers=1))))
    assert refused.job("apply").status == "failure" and account.writes() == writes
    assert ("endpoint.api: the update now differs from the reviewed update (workers.max: reviewed 2, now 3)"
            in refused.job("apply").summary)
    assert "workers.max: reviewed 2, now 3" in apply_comment(fake, 32)
    no_secrets(refused, fake)


def with_input(tmp_path, workflow: str, line: str):
    """A copy of an example workflow whose gpuctl step has one more `with:` input, as a team edits it."""
    text = (WORKFLOWS / workflow).read_text()
    command = next(l for l in text.splitlines() if l.strip().startswith("command: "))
    copy = tmp_path / "workflows" / workflow
    copy.parent.mkdir(exist_ok=True)
    copy.write_text(text.replace(command, f"{command}\n{command[:len(command) - len(command.lstrip())]}{line}", 1))
    return copy


def test_an_endpoint_removed_in_a_pull_request_is_deleted_on_merge_with_prune(gha, fake, account, tmp_path):
    """Removing (or renaming) a block in a reviewed pull request: with `prune: true` in plan.yml
    and apply.yml, the comment shows the deletion and the merge applies it, instead of leaving
    an orphan that bills until someone runs `deploy --prune` by hand. The same merge without
    prune in apply.yml is refused as not the plan reviewed."""
    deployed(account, tmp_path, config("api", "asr"))
    plan, apply, apply_without = (with_input(tmp_path, "plan.yml", 'prune: "true"'), with_input(tmp_path, "apply.yml", 'prune: "true"'),
                                  WORKFLOWS / "apply.yml")
    checkout = tree(tmp_path / "main", config("api", "speech"))  # asr renamed to speech
    fake.add_pull(31, HEAD)
    assert gha.run(plan, pull_request(31, HEAD, checkout)).job("plan").status == "success"
    (comment,) = fake.comments_on(31)
    assert "endpoint.asr" in comment["body"] and "will be deleted" in comment["body"] and "orphan" not in comment["body"]
    fake.merge(31, MERGE)

    refused = gha.run(apply_without, push(MERGE, checkout))
    assert refused.job("apply").status == "failure"
    assert "prune: reviewed true, now false" in refused.job("apply").summary
    assert sorted(e["name"] for e in account.endpoints()) == ["api", "asr"]

    run = gha.run(apply, push(MERGE, checkout))
    assert run.job("apply").status == "success", run.job("apply").steps
    assert run.job("apply").step("gpuctl").outputs["summary"] == "gpu.jsonc: applied: 1 created, 0 updated, 0 replaced, 1 deleted"
    assert sorted(e["name"] for e in account.endpoints()) == ["api", "speech"]
    no_secrets(run, fake)


def test_a_change_elsewhere_in_the_account_does_not_make_the_reviewed_plan_stale(gha, fake, account, tmp_path):
    deployed(account, tmp_path, config("api"))
    checkout = tree(tmp_path / "main", config("api", max_workers=3))
    reviewed(gha, fake, checkout)
    account.server.create_endpoint("someone-elses", worker=None)
    run = gha.run(WORKFLOWS / "apply.yml", push(MERGE, checkout))
    assert run.job("apply").status == "success", run.job("apply").steps
    assert {e["name"]: e["workers"]["max"] for e in account.endpoints()} == {"api": 3, "someone-elses": 1}


def test_a_push_no_pull_request_reviewed_is_refused_unless_there_is_nothing_to_apply(gha, fake, account, tmp_path):
    checkout = tree(tmp_path / "main", config("api"))
    run = gha.run(WORKFLOWS / "apply.yml", push("c3" * 20, checkout))
    job = run.job("apply")
    assert job.status == "failure" and job.step("find").outputs["found"] == "false"
    assert account.endpoints() == [] and fake.comments == {}
    assert "no reviewed plan was found for this config (no plan artifact for the merged pull request" in job.summary
    assert "does not exist" not in job.summary  # the action gives no --plan-dir when it found no artifact

    deployed(account, tmp_path, config("api"))
    again = gha.run(WORKFLOWS / "apply.yml", push("c3" * 20, checkout))
    assert again.job("apply").status == "success"
    assert again.job("apply").step("gpuctl").outputs["summary"].startswith("gpu.jsonc: nothing to apply")


def test_a_plan_artifact_uploaded_by_a_fork_s_own_run_is_never_the_reviewed_plan(gha, fake, account, tmp_path):
    checkout = tree(tmp_path / "main", config("api"))
    fake.add_pull(32, HEAD, head_repo="mallory/ml-api", head_repo_id=99)
    fake.add_artifact(f"gpuctl-plan-{HEAD}", {"id": 4242, "head_sha": HEAD, "head_repository_id": 99}, {"gpu.jsonc.plan.json": b"{}"})
    fake.merge(32, MERGE)
    run = gha.run(WORKFLOWS / "apply.yml", push(MERGE, checkout))
    assert run.job("apply").step("find").outputs["found"] == "false"
    assert run.job("apply").status == "failure" and account.endpoints() == []


SMOKE_WORKER = '''import os

import runpod


def handler(job):
    if os.environ.get("RELEASE") == "broken":
        raise ValueError("this release cannot answer")
    return {"ok": True}


runpod.serverless.start({"handler": handler})
'''


def _smoky(directory, release: str):
    gpu = config("api", env={"RELEASE": release})
    gpu["serverless"]["local"] = {"command": ["python", "handler.py"]}
    return tree(directory, gpu, {"handler.py": SMOKE_WORKER, "smoke.json": '{"input": {"prompt": "ping"}}'})


def test_the_action_s_health_gate_fails_the_merge_with_exit_5_and_rolls_back(gha, fake, account, tmp_path):
    """action.yml's wait-healthy, smoke and rollback-on-failure inputs reach `gpu github apply`:
    the applied release fails its smoke input on a real worker, the step fails with exit_code
    5, and the endpoint is back on the configuration of the version before."""
    checkout = _smoky(tmp_path / "main", "good")
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=checkout).code == 0
    (before,) = account.endpoints()
    _smoky(tmp_path / "main", "broken")
    gha.action_inputs |= {"wait-healthy": "true", "smoke": "smoke.json", "rollback-on-failure": "true", "parallelism": "1"}
    # Dispatched with replan: local.command's working directory differs between the runner's
    # checkouts, so a reviewed plan of a config with local.command never matches on merge.
    run = gha.run(WORKFLOWS / "apply.yml", dispatch(MERGE, checkout, replan=True))
    job = run.job("apply")
    assert job.status == "failure"
    outputs = job.step("gpuctl").outputs
    assert outputs["exit_code"] == "5" and outputs["summary"].endswith("failed the health gate"), (outputs, job.steps)
    assert "failed the health gate" in job.summary and "smoke failed" in job.summary and "rolled back to the configuration of version" in job.summary
    (after,) = account.endpoints()
    assert before["env"]["RELEASE"] == after["env"]["RELEASE"] == "good"
    no_secrets(run, fake)


def test_a_reviewed_plan_made_without_a_variable_is_refused_naming_it(account, tmp_path):
    """The plan job did not get ${HF_TOKEN}, so the reviewed plan shows the value as unknown;
    the merge run has it, so its plan differs, and the refusal says which variable to give the
    plan job instead of only 'differs'."""
    checkout = tree(tmp_path / "repo", config("api", env={"HF_TOKEN": "${HF_TOKEN}"}))
    github = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    assert account.gpu("github", "plan", "--no-comment", "--plan-dir", "plans", cwd=checkout, env=github).code == 0
    applied = account.gpu("github", "apply", "--no-comment", "--plan-dir", "plans", cwd=checkout, env=github | {"HF_TOKEN": "hf_canary0123456789"})
    assert applied.code == 1
    assert "the reviewed plan was made without $HF_TOKEN (shown as unknown): give the plan job the same variables" in applied.err
    assert "hf_canary0123456789" not in applied.out + applied.err + (tmp_path / "summary").read_text()
    assert account.endpoints() == []


def test_an_unset_variable_in_the_apply_job_says_how_to_pass_it_in_the_workflow(account, tmp_path):
    """The apply job's step does not pass ${HF_TOKEN} (and the reviewed plan was made without it
    too): the apply stops before writing, and its hint was the terminal's (`export HF_TOKEN=...
    before running gpu`), which nobody can do on a runner. It says to pass the variable from a
    repository secret in the step's `env:`, and to re-run the job, as the drift job does."""
    checkout = tree(tmp_path / "repo", config("api", env={"HF_TOKEN": "${HF_TOKEN}"}))
    github = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    assert account.gpu("github", "plan", "--no-comment", "--plan-dir", "plans", cwd=checkout, env=github).code == 0
    applied = account.gpu("github", "apply", "--no-comment", "--plan-dir", "plans", cwd=checkout, env=github)
    summary = (tmp_path / "summary").read_text()
    assert applied.code == 1, applied.err
    assert "environment variable HF_TOKEN is not set" in summary
    assert "export HF_TOKEN" not in applied.err + summary
    assert "HF_TOKEN: ${{ secrets.HF_TOKEN }}" in summary and "re-run this workflow job" in summary
    assert account.endpoints() == []


SECOND_CREATE_FAILS = {"op": "create", "kind": "endpoint", "action": "status", "status": 400, "after": 1, "times": 1}


def test_a_merge_apply_that_stops_part_way_says_what_it_did_and_a_rerun_applies_the_rest(gha, fake, account, tmp_path):
    """The second of two reviewed creates fails: the step fails (exit_code 1) but has_changes
    is true and the summary and comment name the endpoint that was created. Running the job
    again applies the rest of the reviewed plan (the create already in place is not a reason
    to refuse, and is not repeated): two endpoints, no duplicate, no person needed."""
    checkout = tree(tmp_path / "main", config("api", "asr"))
    reviewed(gha, fake, checkout)
    gha.action_inputs |= {"parallelism": "1"}
    account.faults(SECOND_CREATE_FAILS)

    stopped = gha.run(WORKFLOWS / "apply.yml", push(MERGE, checkout))
    job = stopped.job("apply")
    assert job.status == "failure"
    outputs = job.step("gpuctl").outputs
    assert (outputs["exit_code"], outputs["has_changes"]) == ("1", "true"), outputs
    assert "applied part of the plan first: 1 created" in outputs["summary"]
    (first,) = account.endpoints()
    for text in (job.summary, apply_comment(fake)):
        assert "applied part of `gpu.jsonc`, then stopped" in text and f"done: create `endpoint.{first['name']}` ({first['id']})" in text
        assert "rejected (400)" in text and "Run the job again" in text

    rerun = gha.run(WORKFLOWS / "apply.yml", push(MERGE, checkout))
    job = rerun.job("apply")
    assert job.status == "success", job.steps
    assert job.step("gpuctl").outputs["summary"] == "gpu.jsonc: applied: 1 created, 0 updated, 0 replaced, 0 deleted"
    assert sorted(e["name"] for e in account.endpoints()) == ["api", "asr"]
    assert first["id"] in [e["id"] for e in account.endpoints()]
    assert f"Already in place, so not applied again: endpoint.{first['name']} (create)" in apply_comment(fake)
    no_secrets(stopped, fake)
    no_secrets(rerun, fake)


def test_two_applies_of_one_merge_at_once_apply_it_once_and_both_succeed(account, tmp_path):
    """Two runners apply the same merge (a re-run while the first still runs): the second made
    its fresh plan before the first applied, so its --from-plan is stale. It plans again, finds
    nothing to apply, and succeeds, instead of failing with a refusal that asks a person to
    replan a plan that is already applied."""
    from gpuctl.engine.lock import ProjectLock

    gpu = config("api", "asr")
    first, second = tree(tmp_path / "runner-1", gpu), tree(tmp_path / "runner-2", gpu)
    plans = str(tmp_path / "reviewed")
    github = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    assert account.gpu("github", "plan", "--no-comment", "--plan-dir", plans, cwd=first, env=github).code == 0

    held = ProjectLock(second / ".gpu" / "deploy.lock", "the test")
    held.acquire(0)  # the second runner plans, then waits here, as if the first held the account
    try:
        waiting = account.popen("github", "apply", "--no-comment", "--plan-dir", plans, cwd=second, env=github)
        for line in waiting.stderr:
            if "waiting for the lock" in line:
                break
        assert account.gpu("github", "apply", "--no-comment", "--plan-dir", plans, cwd=first, env=github).code == 0
        writes = account.writes()
    finally:
        held.release()
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert out == "gpu.jsonc: nothing to apply: No changes. The account matches gpu.jsonc.\n"
    assert "planning again" in err
    assert sorted(e["name"] for e in account.endpoints()) == ["api", "asr"] and account.writes() == writes


def test_a_rerun_of_an_applied_merge_keeps_the_comment_that_says_what_was_applied(gha, fake, account, tmp_path):
    """GitHub's "Re-run jobs" of a merge that applied finds nothing to apply: it succeeds and
    leaves the pull request's comment saying what was applied (with the endpoints' URLs)
    instead of replacing it with "nothing to apply"."""
    checkout = tree(tmp_path / "main", config("api"))
    reviewed(gha, fake, checkout)
    assert gha.run(WORKFLOWS / "apply.yml", push(MERGE, checkout)).job("apply").status == "success"
    applied = apply_comment(fake)
    rerun = gha.run(WORKFLOWS / "apply.yml", push(MERGE, checkout))
    assert rerun.job("apply").status == "success"
    assert rerun.job("apply").step("gpuctl").outputs["summary"].startswith("gpu.jsonc: nothing to apply")
    assert "nothing to apply for `gpu.jsonc`" in rerun.job("apply").summary
    assert apply_comment(fake) == applied and "Applied the reviewed plan: 1 created" in applied


@pytest.mark.parametrize("content", [b"", b"{ not json", b"[]", b'{"format_version": "0"}'])
def test_a_damaged_reviewed_plan_is_refused_with_the_plan_and_what_to_do(account, tmp_path, content):
    """The downloaded artifact's plan file is damaged (or of another gpuctl's format): nothing
    is written, the refusal shows the plan as it is now and says to re-run the plan job; not
    `deploy --out`'s hint about a file the user never made."""
    checkout = tree(tmp_path / "repo", config("api"))
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "gpu.jsonc.plan.json").write_bytes(content)
    summary = tmp_path / "summary"
    applied = account.gpu("github", "apply", "--no-comment", "--plan-dir", str(tmp_path / "plans"), cwd=checkout,
                          env={"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(summary)})
    assert applied.code == 1 and applied.out == "gpu.jsonc: refused: the plan is not the one reviewed\n"
    assert "the reviewed plan in the plan artifact cannot be used" in applied.err and "run the pull request's plan job again" in applied.err
    assert "deploy --plan --out" not in applied.err + summary.read_text()
    assert "endpoint.api will be created" in summary.read_text()
    assert account.endpoints() == []


def test_github_failing_the_search_for_the_reviewed_plan_fails_the_job_saying_why(gha, fake, account, tmp_path):
    """GitHub refuses the look-up of the merged pull request (a token without the permission,
    a rate limit): the apply step never runs, and the job summary and the action's outputs
    (exit_code 1) say what went wrong, not only the step log."""
    checkout = tree(tmp_path / "main", config("api"))
    reviewed(gha, fake, checkout)
    fake.canned.append(Canned(403, {}, {"message": "Resource not accessible by integration"}))
    run = gha.run(WORKFLOWS / "apply.yml", push(MERGE, checkout))
    job = run.job("apply")
    assert job.status == "failure" and job.step("run").code is None
    outputs = job.step("gpuctl").outputs
    assert (outputs["exit_code"], outputs["has_changes"]) == ("1", "false"), outputs
    assert outputs["summary"].startswith("error: GitHub denied GET") and "(403)" in outputs["summary"]
    assert "could not find the reviewed plan of this merge" in job.summary and "Nothing was applied." in job.summary
    assert account.endpoints() == []
    no_secrets(run, fake)


def test_a_rerun_after_a_failed_health_gate_checks_again_rather_than_passing(account, tmp_path):
    """The merge applied a release that fails its smoke input (exit 5, no rollback). Running
    the job again finds nothing to apply: with --wait-healthy it still runs the gate, as
    `deploy --wait-healthy` does with nothing to change, and fails again with exit 5, instead
    of turning the job green with the endpoint still broken. (The CLI in one checkout: the
    runner's checkouts differ in local.command's directory, which is a change.)"""
    checkout = _smoky(tmp_path / "main", "broken")
    github = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    args = ("github", "apply", "--no-comment", "--replan", "--wait-healthy", "--smoke", "smoke.json", "--parallelism", "1")
    first = account.gpu(*args, cwd=checkout, env=github)
    assert first.code == 5, first.err
    (endpoint,) = account.endpoints()
    writes = account.writes()

    (tmp_path / "summary").write_text("")
    rerun = account.gpu(*args, cwd=checkout, env=github)
    assert rerun.code == 5, rerun.err
    assert rerun.out == "gpu.jsonc: nothing to apply; failed the health gate\n"
    summary = (tmp_path / "summary").read_text()
    assert "failed the health gate" in summary and "smoke failed" in summary
    assert [e["id"] for e in account.endpoints()] == [endpoint["id"]] and account.writes() == writes


def test_an_apply_comment_github_refuses_fails_the_step_and_the_other_configs_are_still_commented(gha, fake, account, tmp_path):
    """Both configs are applied; GitHub refuses the first one's apply comment (a 502 on the
    write, which is not retried): the second config's comment is still written, the job summary
    names the comment that failed and why, and exit_code is the step's result (1), with
    has_changes true: the changes are in the account."""
    gha.action_inputs["config"] = TWO_CONFIGS
    checkout = two_projects(tmp_path / "main")
    reviewed(gha, fake, checkout)
    fake.comment_refusals.append(Canned(502, {}, {"message": "Server Error"}))
    run = gha.run(WORKFLOWS / "apply.yml", push(MERGE, checkout))
    job = run.job("apply")
    first, second = refused_first_comment(job)
    assert first.startswith("gpu.jsonc: applied: 1 created") and "error: the pull request comment: GitHub rejected POST" in first and "(502)" in first
    assert second == "services/asr/gpu.jsonc: applied: 1 created, 0 updated, 0 replaced, 0 deleted"
    assert sorted(e["name"] for e in account.endpoints()) == ["api", "asr"]
    (comment,) = [c for c in fake.comments_on(31) if read_marker(c["body"]).kind == "apply"]
    assert read_marker(comment["body"]).key == "services/asr/gpu.jsonc"
    assert "gpuctl could not write the apply comment for `gpu.jsonc` on pull request #31" in job.summary
    assert "gpuctl applied `gpu.jsonc`" in job.summary  # what was applied is still said
    assert "Traceback" not in run.texts()
    no_secrets(run, fake)


def test_a_reviewed_plan_that_is_not_json_is_named_with_its_place(account, tmp_path):
    """The refusal names the damaged file itself, and where in it the JSON breaks."""
    checkout = tree(tmp_path / "repo", config("api"))
    (tmp_path / "plans").mkdir()
    damaged = tmp_path / "plans" / "gpu.jsonc.plan.json"
    damaged.write_bytes(b'{"format_version": "1",\n  "project_id": ml-api}')
    applied = account.gpu("github", "apply", "--no-comment", "--plan-dir", str(tmp_path / "plans"), cwd=checkout,
                          env={"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")})
    assert applied.code == 1
    assert f"{damaged}:2:17: it is not a saved plan: it is not valid JSON (Expecting value)" in applied.err, applied.err


def test_a_merge_apply_cancelled_by_sigterm_exits_130_and_says_to_re_run_the_job_not_to_deploy(fake, account, tmp_path):
    """GitHub cancels a job with SIGTERM (after SIGINT). The apply lets the change in flight
    finish and stops, as deploy does, and exits 130 as deploy does, not 1 (an error of its own).
    The error it quotes says what to do in a GitOps workflow: re-run the job, which plans again
    and applies the rest of the reviewed plan while it is still the plan (ADR 16), never "run
    deploy again", which would apply by hand what nobody reviewed."""
    from tests.github.conftest import REPO, TOKEN

    checkout = tree(tmp_path / "main", config("api", "asr", "tts"))
    github = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
              "GITHUB_API_URL": fake.url, "GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO}
    assert account.gpu("github", "plan", "--no-comment", "--plan-dir", "plans", cwd=checkout, env=github).code == 0
    fake.add_pull(31, HEAD)
    code, said = terminated_while_creating(account, "github", "apply", "--plan-dir", "plans", "--pr", "31", "--parallelism", "1",
                                           creating=": creating…", cwd=checkout, env=github)
    assert code == 130, said
    assert len(account.endpoints()) == 1  # the create in flight finished; nothing else started
    summary, comment = (tmp_path / "summary").read_text(), apply_comment(fake)
    for text in (said, summary, comment):
        assert "interrupted: the changes in flight finished; nothing else was started" in text, text
        assert "deploy again" not in text, text
        assert "re-run this workflow job: it plans again and applies the rest of the reviewed plan" in text, text
    assert re.search(r"^exit_code<<(\S+)\n130\n\1$", (tmp_path / "out").read_text(), re.M), (tmp_path / "out").read_text()


@pytest.mark.parametrize("fault, cause", [
    # the second create is accepted but its workers.max is not kept: the read-back differs
    ({"op": "create", "kind": "endpoint", "action": "drop_field", "field": "workers.max", "after": 1, "times": 1},
     "endpoint.asr: the local provider did not honour"),
    # every create after the first answers 500
    ({"op": "create", "kind": "endpoint", "action": "status", "status": 500, "after": 1}, "endpoint.asr"),
], ids=["read-back-differs", "500"])
def test_a_merge_apply_that_fails_says_to_re_run_the_job_never_to_deploy(account, tmp_path, fault, cause):
    """Whatever stops a merge apply (a write the provider did not keep, a 500), the step's error, the job summary and the
    comment name the cause, and their advice is the workflow's: fix the cause and re-run the
    job, which applies the rest of the reviewed plan while it is still the plan (ADR 16). The
    causes' own hints are deploy's ("run deploy again", "deploying again is safe"): a GitOps
    user following them would apply by hand a plan nobody reviewed."""
    checkout = tree(tmp_path / "main", config("api", "asr"))
    # a 500 to a create is a lost answer: each of the three creates is looked for during the
    # visibility grace before it is sent again; 1 s, not 20 s, each
    github = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"), "GPUCTL_VISIBILITY_GRACE": "1"}
    assert account.gpu("github", "plan", "--no-comment", "--plan-dir", "plans", cwd=checkout, env=github).code == 0
    account.faults(fault)
    applied = account.gpu("github", "apply", "--no-comment", "--plan-dir", "plans", "--parallelism", "1", cwd=checkout, env=github)
    assert applied.code == 1, applied.err
    summary = (tmp_path / "summary").read_text()
    for text in (applied.err, summary):
        assert cause in text, text
        assert "deploy" not in text.replace("gpu github apply", ""), text
        assert "hint: fix the cause (or wait for it to pass), then re-run this workflow job: it plans again and applies the rest" in text, text


SLOW_WORKER = '''import time

import runpod


def handler(job):
    time.sleep(600)  # the smoke input never answers while the test runs: the job is cancelled meanwhile
    return {"ok": True}


runpod.serverless.start({"handler": handler})
'''


def _cancelled(account, tmp_path, checkout, args: tuple, wait_for: str) -> tuple[str, str, str]:
    """`gpu github apply ARGS` sent SIGTERM (how GitHub cancels a job) once its stderr shows
    `wait_for`: (stderr, job summary, step outputs), after it exited 130."""
    import signal

    from tests.support.terminal import Output

    github = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    process = account.popen("github", "apply", "--no-comment", *args, cwd=checkout, env=github)
    err = Output.of_pipe(process.stderr)
    err.wait_for(wait_for)
    process.send_signal(signal.SIGTERM)
    said = err.rest()
    assert process.wait() == 130, said
    return said, (tmp_path / "summary").read_text(), (tmp_path / "out").read_text()


def test_a_merge_apply_cancelled_in_its_health_gate_writes_what_it_applied_and_exit_130(account, tmp_path):
    """GitHub cancels the job while the health gate waits for the smoke input: the apply is
    done, so the job summary and the step outputs still say what was applied (with its id),
    that the job was cancelled, and to re-run it; the step exits 130 (exit_code 130)."""
    gpu = config("api")
    gpu["serverless"]["local"] = {"command": ["python", "handler.py"]}
    checkout = tree(tmp_path / "main", gpu, {"handler.py": SLOW_WORKER, "smoke.json": '{"input": {"prompt": "ping"}}'})
    said, summary, out = _cancelled(account, tmp_path, checkout, ("--replan", "--wait-healthy", "--smoke", "smoke.json", "--timeout", "10m"),
                                    "health of api: sending the smoke input")
    (endpoint,) = account.endpoints()
    for text in (said, summary):
        assert "interrupted after the apply: every change listed as done was applied" in text, text
        assert "hint: re-run this workflow job: it plans again and applies the rest of the reviewed plan" in text, text
    assert "gpuctl applied `gpu.jsonc`, then the job was cancelled" in summary and f"done: create `endpoint.api` ({endpoint['id']})" in summary
    assert re.search(r"^exit_code<<(\S+)\n130\n\1$", out, re.M) and re.search(r"^has_changes<<(\S+)\ntrue\n\1$", out, re.M), out


def test_a_merge_apply_cancelled_while_waiting_for_the_lease_writes_its_summary_and_exit_130(account, tmp_path):
    """Another deploy of the project holds the account lease; the merge apply waits for it and
    GitHub cancels the job meanwhile: nothing was written by the apply, and the job summary and
    the step outputs say it was cancelled, with nothing written, and to re-run the job."""
    checkout = tree(tmp_path / "main", config("api"))
    github = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    assert account.gpu("github", "plan", "--no-comment", "--plan-dir", "plans", cwd=checkout, env=github).code == 0
    from tests.support.terminal import Output

    account.faults({"op": "create", "kind": "endpoint", "action": "hang", "seconds": 3600})  # until the other deploy is killed
    other = account.popen("serverless", "deploy", "-y", cwd=tree(tmp_path / "other", config("other")))
    try:
        Output.of_pipe(other.stderr).wait_for(": creating…")  # it holds the lease until its create answers
        said, summary, out = _cancelled(account, tmp_path, checkout, ("--plan-dir", "plans", "--lock-timeout", "10m"), "waiting for ")
    finally:
        other.kill()
        other.wait()
    for text in (said, summary):
        assert "interrupted: the job was cancelled before anything was written" in text, text
        assert "hint: re-run this workflow job: it plans again and applies the rest of the reviewed plan" in text, text
    assert "gpuctl could not apply `gpu.jsonc`" in summary
    assert re.search(r"^exit_code<<(\S+)\n130\n\1$", out, re.M) and re.search(r"^has_changes<<(\S+)\nfalse\n\1$", out, re.M), out
    assert account.endpoints() == []


def test_a_cancel_while_the_result_is_reported_keeps_the_exit_status_the_outputs_give(fake, account, tmp_path):
    """The apply is done and its result decided; GitHub cancels the job while gpuctl writes the
    result comment (signals are held until the summary, comments and outputs are written). The
    process exits as the `exit_code` output says (2, changes applied: the step succeeds), not
    130: the cancel came after the outcome, and an output of 2 with a step ended by 130 would
    contradict each other."""
    import signal

    from tests.github.conftest import REPO, TOKEN
    from tests.github.fake_github import Gate
    from tests.support.wait import until

    checkout = tree(tmp_path / "main", config("api"))
    github = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
              "GITHUB_API_URL": fake.url, "GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO}
    assert account.gpu("github", "plan", "--no-comment", "--plan-dir", "plans", cwd=checkout, env=github).code == 0
    fake.add_pull(31, HEAD)
    gate = Gate(rf"\w+ /repos/{REPO}/issues/31/comments")  # the first request of the result comment
    fake.gates.append(gate)
    process = account.popen("github", "apply", "--plan-dir", "plans", "--pr", "31", cwd=checkout, env=github)
    try:
        until(lambda: gate.arrived.is_set() or process.poll() is not None, "the apply's comment request")
        assert gate.arrived.is_set(), process.communicate()
        process.send_signal(signal.SIGTERM)
    finally:
        gate.release.set()
    out, err = process.communicate()
    outputs = (tmp_path / "out").read_text()
    assert re.search(r"^exit_code<<(\S+)\n2\n\1$", outputs, re.M), outputs
    assert process.returncode == 0, err
    assert "the job was cancelled while its result was written; the result stands" in err  # the signal came while it was held
    assert out == "gpu.jsonc: applied: 1 created, 0 updated, 0 replaced, 0 deleted\n"
    assert "Applied the reviewed plan: 1 created" in apply_comment(fake)
    assert [e["name"] for e in account.endpoints()] == ["api"]


def test_a_merge_apply_cancelled_while_planning_writes_its_summary_and_exit_130(account, tmp_path):
    """GitHub cancels the job while gpuctl reads the account for its fresh plan (the read is held
    by the local provider, and the signal is sent once the provider has it): nothing was
    written, and the job summary and the step outputs say the job was cancelled, with nothing
    written, and to re-run the job; the step exits 130 (exit_code 130)."""
    import signal

    from tests.support.wait import until

    checkout = tree(tmp_path / "main", config("api"))
    github = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    assert account.gpu("github", "plan", "--no-comment", "--plan-dir", "plans", cwd=checkout, env=github).code == 0
    (tmp_path / "summary").write_text("")
    writes = account.writes()
    account.faults({"op": "list", "kind": "endpoint", "action": "hang", "seconds": 3600})  # every list held (a retry too) until the test ends
    process = account.popen("github", "apply", "--no-comment", "--plan-dir", "plans", cwd=checkout, env=github)
    until(lambda: account.server.admin("GET", "faults")["rules"][0]["fired"] or process.poll() is not None, "the fresh plan's read of the account")
    assert process.poll() is None, process.communicate()
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)  # it stops at once: the held read is abandoned, not waited for
    account.clear_faults()
    assert process.returncode == 130, err
    summary, outputs = (tmp_path / "summary").read_text(), (tmp_path / "out").read_text()
    assert out == "gpu.jsonc: error: interrupted: the job was cancelled before anything was written\n"
    for text in (err, summary):
        assert "interrupted: the job was cancelled before anything was written" in text, text
        assert "hint: re-run this workflow job: it plans again and applies the rest of the reviewed plan" in text, text
    assert "gpuctl did not apply `gpu.jsonc`: the job was cancelled" in summary
    assert re.search(r"^exit_code<<(\S+)\n130\n\1$", outputs, re.M) and re.search(r"^has_changes<<(\S+)\nfalse\n\1$", outputs, re.M), outputs
    assert account.writes() == writes and account.endpoints() == []


# RunPod's list of endpoints stops showing a field the apply wrote, from the fifth list on: the
# fresh plan's read, the flow's read under the lock, its read again under the account lease and
# the name claim's check come first; the fifth is the read that checks what was applied.
FINAL_READ_DIFFERS = {"op": "list", "kind": "endpoint", "action": "omit_field", "field": "workers.max", "after": 4}


def test_a_merge_apply_whose_final_read_differs_says_what_it_applied_and_to_re_run_the_job(account, tmp_path):
    """The apply wrote the reviewed create, and the engine's own read-back of it was right, but
    the plan made after the apply still differs (RunPod's list no longer shows workers.max):
    the step fails (exit 1), the summary and the log name the inconsistent result and the field
    that differs (`endpoint.api: workers.max`), what was
    applied (with its id: has_changes is true, the endpoint is in the account), and say to
    re-run the job, never to deploy by hand."""
    checkout = tree(tmp_path / "main", config("api"))
    github = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    assert account.gpu("github", "plan", "--no-comment", "--plan-dir", "plans", cwd=checkout, env=github).code == 0
    (tmp_path / "summary").write_text("")
    account.faults(FINAL_READ_DIFFERS)
    applied = account.gpu("github", "apply", "--no-comment", "--plan-dir", "plans", cwd=checkout, env=github)
    assert applied.code == 1, applied.err
    account.clear_faults()
    (endpoint,) = account.endpoints()
    summary, outputs = (tmp_path / "summary").read_text(), (tmp_path / "out").read_text()
    for text in (applied.err, summary):
        assert "inconsistent result after apply, still different from gpu.jsonc: endpoint.api: workers.max" in text, text
        assert "deploy" not in text.replace("gpu github apply", ""), text
        assert "hint: fix the cause (or wait for it to pass), then re-run this workflow job: it plans again and applies the rest" in text, text
    assert "gpuctl applied `gpu.jsonc`, then stopped" in summary and f"done: create `endpoint.api` ({endpoint['id']})" in summary, summary
    assert "error: inconsistent result after apply, still different from gpu.jsonc: endpoint.api: workers.max; applied the plan first: 1 created" in outputs
    assert re.search(r"^exit_code<<(\S+)\n1\n\1$", outputs, re.M) and re.search(r"^has_changes<<(\S+)\ntrue\n\1$", outputs, re.M), outputs


def test_run_by_hand_on_another_branch_applies_nothing(gha, fake, account, tmp_path):
    """workflow_dispatch runs on whichever branch the person picks in GitHub's "Run workflow"
    menu, and with `replan` the apply takes gpu.jsonc as it is in that checkout: a feature
    branch nobody reviewed (nor merged) would be applied to the account. apply.yml applies the
    branch pull requests merge into, and fails saying so on any other."""
    from tests.github.actions import Event
    from tests.github.conftest import REPO

    checkout = tree(tmp_path / "feature", config("api", max_workers=7))
    event = Event("workflow_dispatch", {"inputs": {"replan": True}, "ref": "refs/heads/feature", "repository": {"full_name": REPO}},
                  sha="c3" * 20, tree=checkout, ref="refs/heads/feature")
    run = gha.run(WORKFLOWS / "apply.yml", event)
    job = run.job("apply")
    assert job.status == "failure"
    assert account.endpoints() == [] and account.writes() == 0
    (guard,) = [s for s in job.steps if s.code not in (None, 0)]
    assert "apply.yml applies main only" in guard.err and "hint: run it on main" in guard.err


def test_githubs_cancel_sequence_ends_a_merge_apply_with_a_write_in_flight_before_its_sigkill(fake, account, tmp_path):
    """GitHub cancels with SIGINT, then SIGTERM about 7.5 s later, then SIGKILL 2.5 s after that.
    A create the API does not answer kept the apply waiting for its 30 s timeout (and a PATCH
    for its retries, minutes): SIGKILLed, with no summary, no comment and the lease held. The
    SIGTERM now stops the wait: exit 130, `exit_code` 130, the summary says the write's outcome
    is unknown and to re-run the job, and the lease is released (review 5, R5-2)."""
    from tests.github.conftest import REPO, TOKEN
    from tests.support.terminal import Output
    from tests.support.wait import until

    checkout = tree(tmp_path / "main", config("api", "asr"))
    github = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
              "GITHUB_API_URL": fake.url, "GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO}
    assert account.gpu("github", "plan", "--no-comment", "--plan-dir", "plans", cwd=checkout, env=github).code == 0
    fake.add_pull(31, HEAD)
    account.faults({"op": "create", "kind": "endpoint", "action": "hang", "seconds": 3600})
    process = account.popen("github", "apply", "--plan-dir", "plans", "--pr", "31", "--parallelism", "1", cwd=checkout, env=github)
    err = Output.of_pipe(process.stderr)
    try:
        until(lambda: account.server.admin("GET", "faults")["rules"][0]["fired"] or process.poll() is not None, "the create to be held")
        process.send_signal(signal.SIGINT)
        err.wait_for("in flight to finish")
        process.send_signal(signal.SIGTERM)
        said = err.rest()
        code = process.wait(timeout=120)
        leases = [t["name"] for t in account.server.http.get("/v2/templates").json()["templates"] if t["name"].startswith("gpuctl-lock-")]
    finally:
        account.clear_faults()
    process.stdout.close()
    assert code == 130, said
    assert leases == [], said
    summary = (tmp_path / "summary").read_text()
    for text in (said, summary, apply_comment(fake)):
        assert "outcome of 1 write in flight is unknown" in text, text
        assert "re-run this workflow job" in text, text
    assert re.search(r"^exit_code<<(\S+)\n130\n\1$", (tmp_path / "out").read_text(), re.M), (tmp_path / "out").read_text()


def test_a_merge_apply_refused_by_a_laptop_s_lease_names_no_host_in_the_summary(account, tmp_path):
    """A laptop's deploy holds the project's account lease: the merge apply exits 3 naming the
    holder. The refusal reached the job summary with the laptop's host name ("pid 4242 on
    lees-laptop"), public in a public repository; it says "a machine outside GitHub Actions"
    there (ADR 39). So does the job log (stderr): a public repository's job logs are public
    too, and it named the host by the terminal's rule (ADR 48)."""
    import time

    from gpuctl.engine.lease import EXPIRES, HOLDER, HOST, PID, PID_SPACE, TOKEN, lease_name

    checkout = tree(tmp_path / "main", config("api"))
    github = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    assert account.gpu("github", "plan", "--no-comment", "--plan-dir", "plans", cwd=checkout, env=github).code == 0
    env = {"GPUCTL_PROJECT": "ml-api", HOLDER: "pid 4242 on lees-laptop (`gpu serverless deploy`, since 2026-12-07T06:00:00Z)",
           EXPIRES: f"{time.time() + 240:.0f}", TOKEN: "0123456789abcdef", HOST: "lees-laptop", PID: "4242", PID_SPACE: "0123456789abcdef"}
    body = {"name": lease_name("project", "ml-api"), "image": "gpuctl/lease:none", "env": env, "category": "CPU",
            "serverless": False, "startSsh": False, "startJupyter": False}
    assert account.server.http.post("/v2/templates", json=body).status_code == 201
    refused = account.gpu("github", "apply", "--no-comment", "--plan-dir", "plans", "--lock-timeout", "0s", cwd=checkout, env=github)
    summary = (tmp_path / "summary").read_text()
    assert refused.code == 1 and "pid 4242 on a machine outside GitHub Actions" in refused.err, refused.err
    assert "lees-laptop" not in refused.err + refused.out, refused.err
    assert "pid 4242 on a machine outside GitHub Actions" in summary and "lees-laptop" not in summary, summary
    assert "lees-laptop" not in (tmp_path / "out").read_text()
    assert account.endpoints() == []


def test_a_merge_apply_workflow_refused_by_a_held_lease_names_the_host_nowhere(gha, fake, account, tmp_path):
    """The apply workflow, run on the merge while a laptop's deploy holds the project's account
    lease: refused (exit 3, the step fails). Every lease holder a message names, in whatever
    words (the refusal's `held by pid 4242 on HOST (...)`, deploy's hint `if you are sure pid
    4242 on HOST is gone`), goes through `author.public_holders`: the laptop's host is in none
    of the step's stdout, its stderr (the job log), the apply comment or the job summary."""
    import time

    from gpuctl.engine.lease import EXPIRES, HOLDER, HOST, PID, PID_SPACE, TOKEN, lease_name

    checkout = tree(tmp_path / "main", config("api"))
    reviewed(gha, fake, checkout)
    env = {"GPUCTL_PROJECT": "ml-api", HOLDER: "pid 4242 on lees-laptop (`gpu serverless deploy`, since 2026-12-07T06:00:00Z)",
           EXPIRES: f"{time.time() + 240:.0f}", TOKEN: "0123456789abcdef", HOST: "lees-laptop", PID: "4242", PID_SPACE: "0123456789abcdef"}
    body = {"name": lease_name("project", "ml-api"), "image": "gpuctl/lease:none", "env": env, "category": "CPU",
            "serverless": False, "startSsh": False, "startJupyter": False}
    assert account.server.http.post("/v2/templates", json=body).status_code == 201
    run = gha.run(with_input(tmp_path, "apply.yml", 'lock-timeout: "0s"'), push(MERGE, checkout))
    job = run.job("apply")
    outputs, log = job.step("gpuctl").outputs, job.step("run")  # the action's step that runs gpu
    assert job.status == "failure" and outputs["exit_code"] == "1", outputs
    assert "pid 4242 on a machine outside GitHub Actions" in log.err, log.err
    for text in (*(s.out + s.err for s in job.steps), apply_comment(fake), job.summary, *outputs.values()):
        assert "lees-laptop" not in text, text
    assert account.endpoints() == []


def test_a_merge_apply_that_takes_over_a_laptop_s_stale_lease_names_no_host_in_its_log(account, tmp_path):
    """A laptop's deploy was killed and left the project's account lease, long expired: the
    merge apply takes it over with a note naming its holder. The note went to the job log with
    the laptop's host name (the terminal's rule); a public repository's job log is public, so
    it says "a machine outside GitHub Actions" there (ADR 48)."""
    import time

    from gpuctl.engine.lease import EXPIRES, HOLDER, HOST, PID, PID_SPACE, TOKEN, lease_name

    checkout = tree(tmp_path / "main", config("api"))
    github = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    assert account.gpu("github", "plan", "--no-comment", "--plan-dir", "plans", cwd=checkout, env=github).code == 0
    env = {"GPUCTL_PROJECT": "ml-api", HOLDER: "pid 4242 on lees-laptop (`gpu serverless deploy`, since 2026-12-07T06:00:00Z)",
           EXPIRES: f"{time.time() - 3600:.0f}", TOKEN: "0123456789abcdef", HOST: "lees-laptop", PID: "4242", PID_SPACE: "0123456789abcdef"}
    body = {"name": lease_name("project", "ml-api"), "image": "gpuctl/lease:none", "env": env, "category": "CPU",
            "serverless": False, "startSsh": False, "startJupyter": False}
    assert account.server.http.post("/v2/templates", json=body).status_code == 201
    applied = account.gpu("github", "apply", "--no-comment", "--plan-dir", "plans", "--lock-timeout", "0s", cwd=checkout, env=github)
    assert applied.code == 0, applied.err
    assert "taking over the stale lease of pid 4242 on a machine outside GitHub Actions (" in applied.err, applied.err
    assert "lees-laptop" not in applied.err + applied.out + (tmp_path / "summary").read_text(), applied.err
    assert [e["name"] for e in account.endpoints()] == ["api"]


def test_the_apply_comment_s_marker_names_the_project_and_replaces_one_an_earlier_gpuctl_wrote(gha, fake, account, tmp_path):
    """ADR 43: markers name the project. The apply comment's did not, unlike the plan comment's
    on the same pull request. It does now; a refusal an earlier gpuctl posted (its marker
    without the project) is still found by its key: replaced by what this run applied, folded
    under it, never left beside it."""
    from gpuctl.github.parts import marker
    from tests.github.fake_github import BOT

    checkout = tree(tmp_path / "main", config("api"))
    reviewed(gha, fake, checkout)
    older = fake.add_comment(31, marker("apply", "gpu.jsonc", 1, 1) + "\n### gpuctl refused to apply `gpu.jsonc`\n\nan earlier run's refusal\n", BOT)["id"]
    run = gha.run(WORKFLOWS / "apply.yml", push(MERGE, checkout))
    assert run.job("apply").status == "success", run.job("apply").steps
    (comment,) = [c for c in fake.comments_on(31) if read_marker(c["body"]).kind == "apply"]
    mark = read_marker(comment["body"])
    assert (comment["id"], mark.key, mark.project, mark.wrote) == (older, "gpu.jsonc", "ml-api", True), comment["body"]
    assert "Applied the reviewed plan: 1 created" in comment["body"] and "an earlier run's refusal" in comment["body"], comment["body"]
    (plan,) = [c for c in fake.comments_on(31) if read_marker(c["body"]).kind == "plan"]
    assert read_marker(plan["body"]).project == "ml-api"
