"""apply.yml run by hand with its `pr` input: a maintainer names the merged pull request to
apply the reviewed plan of (or, with `replan`, whose comment says what was applied), when it is
not the one merged as main's head, because another was merged since."""

from __future__ import annotations

import pytest

from gpuctl.github.parts import read_marker
from tests.github.conftest import WORKFLOWS, config, dispatch, no_secrets, pull_request, push, tree
from tests.github.test_apply_workflow import deployed

pytestmark = pytest.mark.e2e

APPLY = WORKFLOWS / "apply.yml"
HEAD31, MERGE31 = "a1" * 20, "b1" * 20
HEAD32, MERGE32 = "a2" * 20, "b2" * 20


def apply_comments(fake, number: int) -> list[dict]:
    return [c for c in fake.comments_on(number) if read_marker(c["body"]).kind == "apply"]


def two_merged(gha, fake, account, tmp_path, readme: str = "docs\n"):
    """#31 (workers.max 2 → 4) and #32 (a README change) planned against one base, then merged
    in that order, close together: main is at #32's merge. The checkout of main."""
    deployed(account, tmp_path, config("api"))
    main = tree(tmp_path / "main", config("api", max_workers=4), {"README.md": readme})
    fake.add_pull(31, HEAD31)
    fake.add_pull(32, HEAD32)
    assert gha.run(APPLY.parent / "plan.yml", pull_request(31, HEAD31, tree(tmp_path / "pr31", config("api", max_workers=4)))).job("plan").status == "success"
    assert gha.run(APPLY.parent / "plan.yml", pull_request(32, HEAD32, tree(tmp_path / "pr32", config("api"), {"README.md": readme}))).job("plan").status == "success"
    fake.merge(31, MERGE31)
    fake.merge(32, MERGE32)
    return main


def test_a_merge_whose_run_was_skipped_is_applied_by_hand_naming_its_pull_request(gha, fake, account, tmp_path):
    """GitHub keeps only the newest pending run of apply.yml's concurrency group, so #31's merge
    run can be dropped when #32 merges close behind it. #32's run then finds #31's writes in
    its fresh plan, which #32's review did not show, and refuses. Run by hand with `pr: 31`, the
    workflow applies #31's reviewed plan (it is still the plan) and says so on #31."""
    main = two_merged(gha, fake, account, tmp_path)
    refused = gha.run(APPLY, push(MERGE32, main))
    assert refused.job("apply").status == "failure"
    assert [e["workers"]["max"] for e in account.endpoints()] == [2]

    run = gha.run(APPLY, dispatch(MERGE32, main, replan=False, pr="31"))
    job = run.job("apply")
    assert job.status == "success", job.steps
    assert job.step("find").outputs | {"run_id": ""} == {"found": "true", "pr": "31", "head_sha": HEAD31, "run_id": "", "artifact": f"gpuctl-plan-{HEAD31}"}
    assert [e["workers"]["max"] for e in account.endpoints()] == [4]
    (comment,) = apply_comments(fake, 31)
    assert "Applied the reviewed plan: 0 created, 1 updated" in comment["body"] and read_marker(comment["body"]).wrote
    assert len(apply_comments(fake, 32)) == 1  # #32's refusal is its merge run's, left as it was
    no_secrets(run, fake)


def test_replan_with_pr_updates_that_pull_request_s_refusal_not_the_one_at_main_s_head(gha, fake, account, tmp_path):
    """#31's merge run refused (the account moved), then #32 merged. A run by hand with replan
    used to tell only the pull request merged as main's head (#32, which has nothing to hear);
    with `pr: 31` it edits #31's refusal to say what was applied, by whom, the refusal kept."""
    main = two_merged(gha, fake, account, tmp_path)
    (endpoint,) = account.endpoints()
    assert account.server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"workers": {"min": 1}}).status_code == 200
    fake.branches["main"] = MERGE31  # #31's run, before #32 merged
    refused = gha.run(APPLY, push(MERGE31, tree(tmp_path / "main31", config("api", max_workers=4))))
    assert refused.job("apply").status == "failure"
    fake.branches["main"] = MERGE32
    (refusal,) = apply_comments(fake, 31)
    assert not read_marker(refusal["body"]).wrote

    before = len(fake.requests)
    run = gha.run(APPLY, dispatch(MERGE32, main, replan=True, pr="31"))
    job = run.job("apply")
    assert job.status == "success", job.steps
    assert job.step("find").outputs["pr"] == "31" and job.step("find").outputs["found"] == "false"  # replan: no artifact looked for
    assert not any(r["path"].endswith("/actions/artifacts") for r in fake.requests[before:])
    (endpoint,) = account.endpoints()
    assert (endpoint["workers"]["min"], endpoint["workers"]["max"]) == (0, 4)
    (applied,) = apply_comments(fake, 31)
    assert applied["id"] == refusal["id"] and read_marker(applied["body"]).wrote
    assert "run by hand by `ana` with `replan`" in applied["body"] and "did not apply `gpu.jsonc`" in applied["body"]
    assert apply_comments(fake, 32) == []
    no_secrets(run, fake)


def test_replan_without_pr_still_tells_the_pull_request_merged_as_main_s_head(gha, fake, account, tmp_path):
    """The default is kept: no `pr`, the pull request merged as the run's commit."""
    main = two_merged(gha, fake, account, tmp_path)
    assert gha.run(APPLY, push(MERGE32, main)).job("apply").status == "failure"  # #32's run refuses #31's writes
    run = gha.run(APPLY, dispatch(MERGE32, main, replan=True, pr=""))
    assert run.job("apply").status == "success", run.job("apply").steps
    assert run.job("apply").step("find").code is None  # skipped, as before the input existed
    (comment,) = apply_comments(fake, 32)
    assert "run by hand by `ana` with `replan`" in comment["body"]
    assert apply_comments(fake, 31) == []


@pytest.mark.parametrize(("value", "said", "replan"), [
    ("abc", 'the `pr` input is "abc", not a pull request number', False),
    ("0", 'the `pr` input is "0", not a pull request number', True),
    ("31; rm -rf /", 'the `pr` input is "31; rm -rf /", not a pull request number', False),
    ("99", "the `pr` input names pull request #99, which acme/ml-api does not have", True),
    ("33", "the `pr` input names pull request #33, which is open: nothing of it is on main to apply", False),
    ("34", "the `pr` input names pull request #34, which is closed without being merged", True),
    ("35", "the `pr` input names pull request #35, which was merged into release, not main, which this run applies", False),
])
def test_a_pr_input_that_is_not_a_pull_request_merged_into_main_applies_nothing_and_says_what_to_give(gha, fake, account, tmp_path, value, said, replan):
    main = tree(tmp_path / "main", config("api"))
    fake.add_pull(32, HEAD32)
    fake.merge(32, MERGE32)
    fake.add_pull(33, "a3" * 20)
    fake.add_pull(34, "a4" * 20)
    fake.pulls[34]["state"] = "closed"
    fake.add_pull(35, "a5" * 20)
    fake.pulls[35]["base"]["ref"] = "release"
    fake.merge(35, "b5" * 20)
    fake.branches["main"] = MERGE32

    run = gha.run(APPLY, dispatch(MERGE32, main, replan=replan, pr=value))
    job = run.job("apply")
    assert job.status == "failure" and job.step("run").code is None  # the apply never ran
    assert account.writes() == 0 and fake.writes() == []
    err = job.step("find").err
    assert said in err and "Traceback" not in err, err
    assert "hint: give the number of a pull request merged into main (`31` for #31) in the apply workflow's `pr` input" in err
    assert said in job.summary and "Nothing was applied." in job.summary
    assert job.step("gpuctl").outputs["exit_code"] == "1"
    no_secrets(run, fake)
