"""The action's `policy` input, run through examples/github/plan.yml as GitHub runs it: the plan
that breaks the platform team's file shows the violations in the sticky comment and the job
summary, its outputs say exit_code 4, and the step fails; a plan that keeps the file passes."""

from __future__ import annotations

import json

import pytest

from tests.github.conftest import WORKFLOWS, config, no_secrets, pull_request, tree

pytestmark = pytest.mark.e2e

PLAN = WORKFLOWS / "plan.yml"


def test_a_plan_that_breaks_the_policy_input_fails_with_the_violations_on_the_pull_request(gha, fake, tmp_path):
    gha.action_inputs["policy"] = "platform.jsonc"
    fake.add_pull(21, "d" * 40)
    checkout = tree(tmp_path / "pr", config("api", max_workers=3), {"platform.jsonc": '{"max_max_workers": 2}'})
    fake.add_tree("d" * 40, checkout)  # a new project: the base branch has neither file, the head has both (ADR 50)
    run = gha.run(PLAN, pull_request(21, "d" * 40, checkout))
    job = run.job("plan")
    assert job.status == "failure"
    outputs = job.step("gpuctl").outputs
    assert outputs["exit_code"] == "4" and outputs["has_changes"] == "true"
    assert outputs["summary"].endswith("Breaks 1 policy rule.")
    (comment,) = fake.comments_on(21)
    assert "Policy (platform.jsonc): 1 violation" in comment["body"], comment["body"]
    assert "max_workers is 3; the policy allows at most 2 [max_max_workers, platform.jsonc]" in comment["body"]
    assert "max_workers is 3; the policy allows at most 2" in job.summary
    no_secrets(run, fake)


def test_a_plan_that_keeps_the_policy_input_passes(gha, fake, tmp_path):
    gha.action_inputs["policy"] = "platform.jsonc"
    fake.add_pull(22, "e" * 40)
    checkout = tree(tmp_path / "pr", config("api", max_workers=2), {"platform.jsonc": '{"max_max_workers": 2}'})
    fake.add_tree("e" * 40, checkout)  # a new project: the base branch has neither file, the head has both (ADR 50)
    run = gha.run(PLAN, pull_request(22, "e" * 40, checkout))
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


@pytest.mark.parametrize("text, where, problem, fix", [
    ('{\n  "max_max_workers": @\n}\n', "platform.jsonc:2:22", "expected a value, found '@'", "a policy file is JSON with // comments"),
    ("", "platform.jsonc:1:1", "the file is empty", 'start from: {"allowed_gpu_types": ["NVIDIA L4"], "max_max_workers": 10}'),
    ("// the platform team's rules, to come\n", "platform.jsonc:1:1", "the file has only comments", '"max_max_workers": 10}'),
    ("[" * 40 + "]" * 40, "platform.jsonc:1:33", "nesting deeper than 32 levels", "a policy file never needs that depth"),
], ids=["syntax", "empty", "only-comments", "nesting"])
def test_a_damaged_policy_file_is_named_with_its_place_and_a_fix_for_a_policy_file(gha, fake, tmp_path, text, where, problem, fix):
    """The policy file is not gpu.jsonc: its error names it, where, and a fix for a policy
    file, never gpu.jsonc's (a `serverless` block to start from)."""
    gha.action_inputs["policy"] = "platform.jsonc"
    fake.add_pull(23, "c" * 40)
    checkout = tree(tmp_path / "pr", config("api"), {"platform.jsonc": text})
    fake.add_tree("c" * 40, checkout)  # a new project: the base branch has neither file, the head has both (ADR 50)
    run = gha.run(PLAN, pull_request(23, "c" * 40, checkout))
    job = run.job("plan")
    assert job.status == "failure"
    (comment,) = fake.comments_on(23)
    for shown in (comment["body"], job.step("run").err):
        assert f"{where}: invalid JSONC: {problem}" in shown or f"{where}: {problem}" in shown, shown
        assert fix in shown and "gpu.jsonc is" not in shown and "gpu.jsonc never" not in shown and '"serverless"' not in shown
    assert "Traceback" not in run.texts()


STRICT, LOOSE = '{"max_max_workers": 2}', '{"max_max_workers": 100}'


def test_a_pull_request_that_loosens_the_policy_file_is_checked_against_the_base_branch_s_version(gha, fake, tmp_path):
    """Review R7: the pull request raises platform.jsonc's limit in the same change that breaks
    it. The plan is checked against the base branch's platform.jsonc (the rules reviewed before
    this pull request), and the comment says first that the pull request changes the policy
    file, and what its version would report."""
    fake.add_tree("main", tree(tmp_path / "base", config("api", max_workers=2), {"platform.jsonc": STRICT}))
    gha.action_inputs["policy"] = "platform.jsonc"
    fake.add_pull(24, "a" * 40)
    run = gha.run(PLAN, pull_request(24, "a" * 40, tree(tmp_path / "pr", config("api", max_workers=3), {"platform.jsonc": LOOSE})))
    job = run.job("plan")
    assert job.status == "failure"
    assert job.step("gpuctl").outputs["exit_code"] == "4"
    (comment,) = fake.comments_on(24)
    body = comment["body"]
    assert "passed" not in body
    assert "Policy (platform.jsonc@main): 1 violation" in body
    assert "max_workers is 3; the policy allows at most 2 [max_max_workers, platform.jsonc@main]" in body
    warning = body.split("\n\n", 1)[0]
    assert "This pull request changes the policy file `platform.jsonc`" in warning, body
    assert "checked against the base branch's version (`main`)" in warning
    assert "this pull request's version would report no violation" in warning
    assert "This pull request changes the policy file" in job.summary
    no_secrets(run, fake)


def test_a_pull_request_that_keeps_the_base_branch_s_policy_file_says_nothing_about_it(gha, fake, tmp_path):
    fake.add_tree("main", tree(tmp_path / "base", config("api", max_workers=2), {"platform.jsonc": STRICT}))
    gha.action_inputs["policy"] = "platform.jsonc"
    fake.add_pull(25, "b" * 40)
    run = gha.run(PLAN, pull_request(25, "b" * 40, tree(tmp_path / "pr", config("api", max_workers=3), {"platform.jsonc": STRICT})))
    assert run.job("plan").step("gpuctl").outputs["exit_code"] == "4"
    (comment,) = fake.comments_on(25)
    assert "Policy (platform.jsonc): 1 violation" in comment["body"], comment["body"]
    assert "policy file" not in comment["body"]


def test_a_policy_file_new_in_the_pull_request_is_checked_and_said_to_be_new(gha, fake, tmp_path):
    """The base branch has no platform.jsonc: its rules were gpu.jsonc's own block alone, and a
    new file can only add to them (each rule the stricter of the two), so the plan is checked
    against the pull request's file, and the comment says it is new (docs/adr/0033)."""
    fake.add_tree("main", tree(tmp_path / "base", config("api", max_workers=2)))
    gha.action_inputs["policy"] = "platform.jsonc"
    fake.add_pull(26, "c" * 40)
    run = gha.run(PLAN, pull_request(26, "c" * 40, tree(tmp_path / "pr", config("api", max_workers=3), {"platform.jsonc": STRICT})))
    assert run.job("plan").step("gpuctl").outputs["exit_code"] == "4"
    (comment,) = fake.comments_on(26)
    body = comment["body"]
    assert "Policy (platform.jsonc): 1 violation" in body
    assert "This pull request adds the policy file `platform.jsonc`" in body.split("\n\n", 1)[0], body


def test_when_github_will_not_give_the_base_branch_s_policy_file_nothing_is_planned(gha, fake, tmp_path):
    """A plan shown as keeping rules the pull request may have rewritten is what the comparison
    prevents: without the base's version, each config's comment is an error naming the file and
    the branch, with a fix, and no plan goes to the artifact."""
    from tests.github.fake_github import Canned

    fake.add_tree("main", tree(tmp_path / "base", config("api", max_workers=2), {"platform.jsonc": STRICT}))
    fake.canned.append(Canned(403, {}, {"message": "Resource not accessible by integration"}))
    gha.action_inputs["policy"] = "platform.jsonc"
    fake.add_pull(27, "9" * 40)
    run = gha.run(PLAN, pull_request(27, "9" * 40, tree(tmp_path / "pr", config("api", max_workers=3), {"platform.jsonc": LOOSE})))
    job = run.job("plan")
    assert job.status == "failure"
    outputs = job.step("gpuctl").outputs
    assert (outputs["exit_code"], outputs["has_changes"], outputs["plan_json"]) == ("1", "false", "")
    (comment,) = fake.comments_on(27)
    assert "the policy file platform.jsonc was not compared with the base branch's version (platform.jsonc@main)" in comment["body"]
    assert "contents: read" in comment["body"] and "passed" not in comment["body"]
    assert "Traceback" not in run.texts()


def _link(checkout, name: str, to) -> None:
    (checkout / name).unlink(missing_ok=True)
    (checkout / name).symlink_to(to)


def test_a_pull_request_that_turns_the_policy_file_into_a_link_to_a_looser_file_is_checked_against_the_base_branch_s_version(gha, fake, tmp_path):
    """Review 5, R5-1: platform.jsonc becomes a link to loose.jsonc, new in the pull request. The
    file the workflow names is the base's platform.jsonc, whatever the pull request made of it:
    never "a new file, which can only make the rules stricter"."""
    fake.add_tree("main", tree(tmp_path / "base", config("api", max_workers=2), {"platform.jsonc": STRICT}))
    gha.action_inputs["policy"] = "platform.jsonc"
    fake.add_pull(28, "a" * 40)
    checkout = tree(tmp_path / "pr", config("api", max_workers=3), {"loose.jsonc": LOOSE})
    _link(checkout, "platform.jsonc", "loose.jsonc")
    run = gha.run(PLAN, pull_request(28, "a" * 40, checkout))
    job = run.job("plan")
    assert job.status == "failure"
    assert job.step("gpuctl").outputs["exit_code"] == "4"
    (comment,) = fake.comments_on(28)
    body = comment["body"]
    assert "passed" not in body and "adds the policy file" not in body and "stricter" not in body
    assert "max_workers is 3; the policy allows at most 2 [max_max_workers, platform.jsonc@main]" in body
    warning = body.split("\n\n", 1)[0]
    assert "This pull request changes the policy file `platform.jsonc`: in its checkout it is a symbolic link, to `loose.jsonc`" in warning, body
    assert "this pull request's version would report no violation" in warning
    no_secrets(run, fake)


def test_a_policy_file_turned_into_a_link_out_of_the_checkout_is_never_used_as_it_is(gha, fake, tmp_path):
    """R5-1: a link to a file of the runner made the policy "outside the checkout, used as it is"
    with no note. It is the pull request's change: checked against the base's version, and the
    file outside is never read."""
    fake.add_tree("main", tree(tmp_path / "base", config("api", max_workers=2), {"platform.jsonc": STRICT}))
    gha.action_inputs["policy"] = "platform.jsonc"
    fake.add_pull(29, "b" * 40)
    outside = tmp_path / "runner" / "loose.json"
    outside.parent.mkdir()
    outside.write_text(LOOSE)
    checkout = tree(tmp_path / "pr", config("api", max_workers=3))
    _link(checkout, "platform.jsonc", outside)
    run = gha.run(PLAN, pull_request(29, "b" * 40, checkout))
    assert run.job("plan").step("gpuctl").outputs["exit_code"] == "4"
    (comment,) = fake.comments_on(29)
    body = comment["body"]
    assert "Policy (platform.jsonc@main): 1 violation" in body and "passed" not in body
    warning = body.split("\n\n", 1)[0]
    assert "in its checkout it is a symbolic link, to a file outside the checkout" in warning, body
    assert "this pull request's version was not checked" in warning
    assert str(outside) not in run.texts() + json.dumps([r["body"] for r in fake.requests])


def test_a_link_above_the_policy_file_is_a_change_by_the_pull_request(gha, fake, tmp_path):
    """A directory on the way (policies/ made a link to loose/) changes the file read as much."""
    fake.add_tree("main", tree(tmp_path / "base", config("api", max_workers=2), {"policies/platform.jsonc": STRICT}))
    gha.action_inputs["policy"] = "policies/platform.jsonc"
    fake.add_pull(30, "c" * 40)
    checkout = tree(tmp_path / "pr", config("api", max_workers=3), {"loose/platform.jsonc": LOOSE})
    _link(checkout, "policies", "loose")
    run = gha.run(PLAN, pull_request(30, "c" * 40, checkout))
    assert run.job("plan").step("gpuctl").outputs["exit_code"] == "4"
    (comment,) = fake.comments_on(30)
    body = comment["body"]
    assert "Policy (policies/platform.jsonc@main): 1 violation" in body
    assert "it goes through the symbolic link `policies`, to `loose/platform.jsonc`" in body.split("\n\n", 1)[0], body


def test_a_link_where_the_base_branch_has_no_policy_file_is_refused(gha, fake, tmp_path):
    """Nothing says what rules a link with no file on the base replaced (the base may hold the
    rules behind a link of its own, which the contents API does not follow): nothing is planned."""
    fake.add_tree("main", tree(tmp_path / "base", config("api", max_workers=2)))
    gha.action_inputs["policy"] = "platform.jsonc"
    fake.add_pull(31, "d" * 40)
    checkout = tree(tmp_path / "pr", config("api", max_workers=3), {"loose.jsonc": LOOSE})
    _link(checkout, "platform.jsonc", "loose.jsonc")
    run = gha.run(PLAN, pull_request(31, "d" * 40, checkout))
    job = run.job("plan")
    assert job.status == "failure"
    outputs = job.step("gpuctl").outputs
    assert (outputs["exit_code"], outputs["plan_json"]) == ("1", "")
    (comment,) = fake.comments_on(31)
    assert "the policy file platform.jsonc was not compared with the base branch's version (platform.jsonc@main)" in comment["body"]
    assert "is a symbolic link, to loose.jsonc, and the base branch has no file at platform.jsonc" in comment["body"]
    assert "the path of the file itself" in comment["body"] and "passed" not in comment["body"]


def test_a_link_the_base_branch_also_has_to_the_same_rules_says_nothing(gha, fake, tmp_path):
    """The base keeps its rules behind the same link (GitHub answers with the file it leads to):
    the rules read are the base's, byte for byte, so there is nothing to warn about."""
    base = tree(tmp_path / "base", config("api", max_workers=2), {"policies/strict.jsonc": STRICT})
    _link(base, "platform.jsonc", "policies/strict.jsonc")
    fake.add_tree("main", base)
    gha.action_inputs["policy"] = "platform.jsonc"
    fake.add_pull(32, "e" * 40)
    checkout = tree(tmp_path / "pr", config("api", max_workers=3), {"policies/strict.jsonc": STRICT})
    _link(checkout, "platform.jsonc", "policies/strict.jsonc")
    run = gha.run(PLAN, pull_request(32, "e" * 40, checkout))
    assert run.job("plan").step("gpuctl").outputs["exit_code"] == "4"
    (comment,) = fake.comments_on(32)
    assert "Policy (platform.jsonc): 1 violation" in comment["body"], comment["body"]
    assert "policy file" not in comment["body"]
