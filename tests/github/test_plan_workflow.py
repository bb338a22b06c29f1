"""examples/github/plan.yml, run as GitHub runs it: the sticky comment (one per config, edited
in place, split under GitHub's limit), the job summary, the plan artifact and the outputs."""

from __future__ import annotations

import json

import pytest

from gpuctl.github.parts import COMMENT_LIMIT, read_marker
from tests.github.conftest import REPO, WORKFLOWS, config, no_secrets, pull_request, tree, TWO_CONFIGS, refused_first_comment, two_projects
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
    # each plan names the commit it is for, so one left from an earlier push (a cancelled run) says so
    assert "Planned `gpu.jsonc` at commit aaaaaaaaaaaa with gpuctl" in comment["body"]
    assert "Planned `gpu.jsonc` at commit bbbbbbbbbbbb with gpuctl" in edited["body"]
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
    assert job.step("run").outputs["has_changes"] == "true" and job.step("run").outputs["exit_code"] == "1"  # the step's result
    assert "endpoint.api" in job.summary
    no_secrets(run, fake)


def test_a_comment_github_refuses_fails_that_config_and_the_others_are_still_commented(gha, fake, tmp_path):
    """GitHub refuses the first config's comment (403): the other config's comment is still
    written, the job summary names the comment that failed and why, and the exit_code output is
    the step's result (1), not the plan's 2."""
    fake.add_pull(16, "d" * 40)
    fake.comment_refusals.append(Canned(403, {}, {"message": "Resource not accessible by integration"}))
    gha.action_inputs["config"] = TWO_CONFIGS
    checkout = two_projects(tmp_path / "pr")
    run = gha.run(PLAN, pull_request(16, "d" * 40, checkout))
    job = run.job("plan")
    first, second = refused_first_comment(job)
    assert first.startswith("gpu.jsonc: Plan: 1 to create") and "error: the pull request comment: GitHub denied POST" in first and "(403)" in first
    assert second == "services/asr/gpu.jsonc: Plan: 1 to create, 0 to update, 0 to replace, 0 to delete."
    (comment,) = fake.comments_on(16)
    assert read_marker(comment["body"]).key == "services/asr/gpu.jsonc"
    assert "gpuctl could not write the plan comment for `gpu.jsonc` on pull request #16" in job.summary and "pull-requests: write" in job.summary
    assert "endpoint.api will be created" in job.summary  # the plan itself is still there
    assert "Traceback" not in run.texts()
    no_secrets(run, fake)


MALLORY = {"login": "mallory", "id": 666, "type": "User"}
OTHER_APP = {"login": "helpful-app[bot]", "id": 9001, "type": "Bot"}  # any GitHub App installed on the repository
ACTIONS_BOT = {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"}  # the Actions token: gpuctl's, or another workflow's
APP_TOKEN = {"login": "acme-deployer[bot]", "id": 777, "type": "Bot"}  # a GitHub App's installation token
FAKE_PLAN = '<!-- gpuctl:plan key="gpu.jsonc" part=1/1 -->\n### gpuctl plan: No changes. The account matches gpu.jsonc.\n'


@pytest.mark.parametrize("who", [MALLORY, OTHER_APP], ids=["a-person", "another-bot"])
def test_a_comment_that_imitates_the_plan_is_never_taken_for_gpuctl_s(gha, fake, tmp_path, who):
    """Anyone may comment on a pull request, and so may any GitHub App installed on the
    repository: being a bot does not make a comment gpuctl's. A comment that starts with
    gpuctl's marker is not edited into the plan (its author could edit it back to a fake one)
    nor deleted: gpuctl posts its own, which names the impostor, and a push later edits only
    its own."""
    fake.add_pull(13, "6" * 40)
    impostor = fake.add_comment(13, FAKE_PLAN, who)
    stale = fake.add_comment(13, FAKE_PLAN.replace("part=1/1", "part=2/2"), who)
    run = gha.run(PLAN, pull_request(13, "6" * 40, tree(tmp_path / "pr", config("api"))))
    assert run.job("plan").status == "success", run.job("plan").steps
    assert fake.comments[impostor["id"]]["body"] == FAKE_PLAN and stale["id"] in fake.comments  # untouched
    (ours,) = [c for c in fake.comments_on(13) if c["user"] == ACTIONS_BOT]
    assert "will be created" in ours["body"] and f"by @{who['login']}" in ours["body"] and "gpuctl did not write them" in ours["body"]
    assert f"comment {impostor['id']} by @{who['login']} starts with gpuctl's marker" in run.job("plan").step("run").err
    fake.add_pull(13, "7" * 40)
    again = gha.run(PLAN, pull_request(13, "7" * 40, tree(tmp_path / "push2", config("api", max_workers=4))))
    assert again.job("plan").status == "success"
    assert len(fake.comments_on(13)) == 3 and fake.comments[impostor["id"]]["body"] == FAKE_PLAN
    assert [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in fake.writes()] == [("POST", "comments"), ("PATCH", str(ours["id"]))]


def test_a_personal_token_finds_its_own_comment_by_its_user(gha, fake, tmp_path):
    """With a person's token the comments are that person's, not a bot's: gpuctl asks GitHub who
    the token is and edits that user's comment in place; another person's imitation stays."""
    fake.token_user = {"login": "release-bot-pat", "id": 4242, "type": "User"}
    fake.add_pull(14, "8" * 40)
    first = gha.run(PLAN, pull_request(14, "8" * 40, tree(tmp_path / "push1", config("api"))))
    assert first.job("plan").status == "success", first.job("plan").steps
    (mine,) = fake.comments_on(14)
    impostor = fake.add_comment(14, FAKE_PLAN, MALLORY)
    fake.add_pull(14, "9" * 40)
    second = gha.run(PLAN, pull_request(14, "9" * 40, tree(tmp_path / "push2", config("api", max_workers=4))))
    assert second.job("plan").status == "success"
    assert fake.comments[impostor["id"]]["body"] == FAKE_PLAN
    assert "workers.max" in fake.comments[mine["id"]]["body"] and len(fake.comments_on(14)) == 2
    no_secrets(second, fake)


def test_an_app_token_edits_its_own_comment_and_not_the_actions_bot_s(gha, fake, tmp_path):
    """With a GitHub App's installation token gpuctl writes as `<app-slug>[bot]`, which GitHub
    names when asked (GraphQL viewer; REST `GET /user` refuses such a token). Its own comment
    is edited in place; one by github-actions[bot] (another workflow of the repository, with a
    copied marker) is someone else's and stays as it was."""
    fake.token_user = APP_TOKEN
    fake.add_pull(17, "1" * 40)
    other_workflow = fake.add_comment(17, FAKE_PLAN, ACTIONS_BOT)
    first = gha.run(PLAN, pull_request(17, "1" * 40, tree(tmp_path / "push1", config("api"))))
    assert first.job("plan").status == "success", first.job("plan").steps
    (mine,) = [c for c in fake.comments_on(17) if c["user"] == APP_TOKEN]
    fake.add_pull(17, "2" * 40)
    second = gha.run(PLAN, pull_request(17, "2" * 40, tree(tmp_path / "push2", config("api", max_workers=4))))
    assert second.job("plan").status == "success"
    assert fake.comments[other_workflow["id"]]["body"] == FAKE_PLAN and len(fake.comments_on(17)) == 2
    assert "workers.max" in fake.comments[mine["id"]]["body"]
    assert [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in fake.writes()] == [("POST", "comments"), ("PATCH", str(mine["id"]))]


def test_when_github_will_not_say_who_the_token_is_no_marked_comment_is_touched(gha, fake, tmp_path):
    """gpuctl never guesses whose a marked comment is: when GitHub will not say which account
    the token writes as, the comment is not written (the step fails, naming the github-login
    input), and nothing is edited or deleted. With github-login given, it is gpuctl's again."""
    fake.add_pull(18, "3" * 40)
    first = gha.run(PLAN, pull_request(18, "3" * 40, tree(tmp_path / "push1", config("api"))))
    assert first.job("plan").status == "success"
    (mine,) = [dict(c) for c in fake.comments_on(18)]
    foreign = fake.add_comment(18, FAKE_PLAN.replace("part=1/1", "part=2/2"), OTHER_APP)
    fake.viewer_errors = [{"type": "FORBIDDEN", "message": "Resource not accessible by integration"}]
    fake.add_pull(18, "4" * 40)
    refused = gha.run(PLAN, pull_request(18, "4" * 40, tree(tmp_path / "push2", config("api", max_workers=4))))
    job = refused.job("plan")
    assert job.status == "failure" and job.step("gpuctl").outputs["exit_code"] == "1"
    assert "GitHub did not say which account the token writes as" in job.step("run").err and "github-login" in job.step("run").err
    assert fake.comments[mine["id"]] == mine and foreign["id"] in fake.comments and not fake.writes()[1:]
    assert "Traceback" not in refused.texts()

    gha.action_inputs["github-login"] = "github-actions[bot]"
    given = gha.run(PLAN, pull_request(18, "4" * 40, tree(tmp_path / "push3", config("api", max_workers=4))))
    assert given.job("plan").status == "success", given.job("plan").steps
    assert "workers.max" in fake.comments[mine["id"]]["body"] and fake.comments[foreign["id"]]["body"] == foreign["body"]


def test_a_github_login_that_is_not_the_token_s_is_reported(gha, fake, tmp_path):
    """A github-login input naming another account would leave gpuctl unable to find its own
    comment again: GitHub's answer to the comment it just posted shows the real author, and the
    job log says which login to give."""
    gha.action_inputs["github-login"] = "helpful-app[bot]"
    fake.add_pull(19, "5" * 40)
    run = gha.run(PLAN, pull_request(19, "5" * 40, tree(tmp_path / "pr", config("api"))))
    assert run.job("plan").status == "success"
    err = run.job("plan").step("run").err
    assert "the plan comment gpuctl just wrote is by @github-actions[bot], but GPU_GITHUB_LOGIN" in err and "says @helpful-app[bot]" in err


def test_configs_that_would_share_a_plan_file_are_refused_and_a_repeated_one_is_planned_once(gha, fake, tmp_path):
    """`a b/gpu.jsonc` and `a_b/gpu.jsonc` flatten to one plan file name: the artifact would
    hold one plan for both, and apply would compare the other config's plan. The second is an
    error of its own; `./gpu.jsonc` after `gpu.jsonc` is the same config, with one comment."""
    fake.add_pull(15, "e" * 40)
    gha.action_inputs["config"] = "gpu.jsonc\na b/gpu.jsonc\na_b/gpu.jsonc\n./gpu.jsonc\n"
    files = {"a b/gpu.jsonc": json.dumps(config("spaced", project_id="spaced")), "a_b/gpu.jsonc": json.dumps(config("under", project_id="under"))}
    run = gha.run(PLAN, pull_request(15, "e" * 40, tree(tmp_path / "pr", config("api"), files)))
    job = run.job("plan")
    assert job.status == "failure"
    outputs = job.step("gpuctl").outputs
    assert outputs["exit_code"] == "1"
    assert outputs["summary"].splitlines() == [
        "gpu.jsonc: Plan: 1 to create, 0 to update, 0 to replace, 0 to delete.",
        "a b/gpu.jsonc: Plan: 1 to create, 0 to update, 0 to replace, 0 to delete.",
        "a_b/gpu.jsonc: error: a_b/gpu.jsonc and a b/gpu.jsonc would share the plan file a_b__gpu.jsonc.plan.json in the plan artifact"]
    assert len(outputs["plan_json"].splitlines()) == 2
    bodies = {read_marker(c["body"]).key: c["body"] for c in fake.comments_on(15)}
    assert sorted(bodies) == ["a b/gpu.jsonc", "a_b/gpu.jsonc", "gpu.jsonc"] and len(fake.comments_on(15)) == 3
    assert "endpoint.spaced" in bodies["a b/gpu.jsonc"] and "would share the plan file" in bodies["a_b/gpu.jsonc"]


def test_the_comment_links_each_gpu_jsonc_key_to_its_line_in_the_commit_the_plan_read(gha, fake, account, tmp_path):
    """The plan names RunPod's fields; the comment names the gpu.jsonc key behind each one and
    links it to its line, by the config's path from the repository root (a config in a
    subdirectory), in the commit whose file the plan read: a pull_request run checks out the
    merge commit (GITHUB_SHA), not the head. Here main changed the config since the branch
    (three lines added at its top), so the head's line numbers are not the ones planned."""
    from tests.e2e.conftest import project

    deployed = project(tmp_path / "deployed", config("asr", project_id="asr"))
    assert (done := account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=deployed)).code == 0, done.err
    head = "9" * 40
    fake.add_pull(17, head)
    gha.action_inputs["config"] = "services/asr/gpu.jsonc"
    merged = "// main added these lines\n// after the branch was made\n\n" + json.dumps(config("asr", project_id="asr", max_workers=4), indent=2)
    checkout = tree(tmp_path / "pr", config("api"), {"services/asr/gpu.jsonc": merged})
    event = pull_request(17, head, checkout)
    assert event.sha != head  # GITHUB_SHA: the merge commit, which the job checked out
    run = gha.run(PLAN, event)
    assert run.job("plan").status == "success", run.job("plan").steps
    (comment,) = fake.comments_on(17)
    lines = merged.splitlines()
    (line,) = [i for i, text in enumerate(lines, 1) if '"max_workers"' in text]
    url = f"https://github.com/{REPO}/blob/{event.sha}/services/asr/gpu.jsonc#L{line}"
    assert f"| `workers.max` | [`serverless.scaling.max_workers`]({url}) services/asr/gpu.jsonc:{line} |" in comment["body"], comment["body"]
    assert f"/blob/{head}/" not in comment["body"]
    assert f"at commit {head[:12]}" in comment["body"]  # the footer still names the pull request's commit
    saved = json.loads(next(iter(fake.artifacts[0]["files"].values())))
    (change,) = [c for r in saved["resource_changes"] for c in r["changes"]]
    assert change["config_keys"] == [{"key": "serverless.scaling.max_workers", "file": "services/asr/gpu.jsonc", "line": line}]

    again = gha.run(PLAN, event, rerun=run)  # a re-run of the same run: the comment is not edited
    assert again.job("plan").status == "success", again.job("plan").steps
    assert [r["method"] for r in fake.writes()] == ["POST"]
    no_secrets(run, fake)


def _planned_update(account, tmp_path, gha, fake, head: str, merged_text: str, head_text: str | None):
    """A pull request (#18, head `head`) of services/asr/gpu.jsonc, planned on a checkout
    whose config is `merged_text` (GitHub's merge); the fake's head commit holds `head_text`
    there (None: GitHub has no tree for it). The comment, and the changed key's line."""
    from tests.e2e.conftest import project

    deployed = project(tmp_path / "deployed", config("asr", project_id="asr"))
    assert (done := account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=deployed)).code == 0, done.err
    fake.add_pull(18, head)
    gha.action_inputs["config"] = "services/asr/gpu.jsonc"
    checkout = tree(tmp_path / "pr", config("api"), {"services/asr/gpu.jsonc": merged_text})
    if head_text is not None:
        fake.add_tree(head, tree(tmp_path / "head", config("api"), {"services/asr/gpu.jsonc": head_text}))
    event = pull_request(18, head, checkout)
    run = gha.run(PLAN, event)
    assert run.job("plan").status == "success", run.job("plan").steps
    (comment,) = fake.comments_on(18)
    (line,) = [i for i, text in enumerate(merged_text.splitlines(), 1) if '"max_workers"' in text]
    no_secrets(run, fake)
    return event, comment["body"], line, run


def test_the_comment_links_keys_at_the_head_commit_when_its_config_is_the_one_planned(gha, fake, account, tmp_path):
    """The merge commit a pull_request run reads (refs/pull/N/merge) is GitHub's to rewrite and
    may be garbage-collected once the pull request is closed, so links to it rot. When the
    config at the pull request's head is the very blob the plan read, the head commit has the
    same lines and stays: the keys link there (and the summary too)."""
    head = "8" * 40
    text = json.dumps(config("asr", project_id="asr", max_workers=4), indent=2)
    event, body, line, run = _planned_update(account, tmp_path, gha, fake, head, text, text)
    url = f"https://github.com/{REPO}/blob/{head}/services/asr/gpu.jsonc#L{line}"
    assert f"| `workers.max` | [`serverless.scaling.max_workers`]({url}) services/asr/gpu.jsonc:{line} |" in body, body
    assert f"/blob/{event.sha}/" not in body and f"/blob/{event.sha}/" not in run.job("plan").summary
    asked = [r for r in fake.requests if r["path"].startswith(f"/repos/{REPO}/contents")]
    assert [(r["path"], r["query"]) for r in asked] == [(f"/repos/{REPO}/contents/services/asr", {"ref": head})]  # one listing, no file content


def test_the_comment_keeps_the_merge_commit_when_the_head_s_config_differs(gha, fake, account, tmp_path):
    """main changed the config since the branch: the head's blob is not the one planned (its
    lines differ), so the keys link at the merge commit, whose lines are the planned ones."""
    head = "7" * 40
    text = json.dumps(config("asr", project_id="asr", max_workers=4), indent=2)
    event, body, line, _ = _planned_update(account, tmp_path, gha, fake, head, "// main added this\n" + text, text)
    assert f"/blob/{event.sha}/services/asr/gpu.jsonc#L{line})" in body, body
    assert f"/blob/{head}/" not in body


def test_github_failing_the_head_listing_keeps_the_merge_commit_links_and_the_plan(gha, fake, account, tmp_path):
    head = "6" * 40
    text = json.dumps(config("asr", project_id="asr", max_workers=4), indent=2)
    original = fake._contents
    fake._contents = lambda query, path: (403, {}, {"message": "Resource not accessible by integration"})
    try:
        event, body, line, run = _planned_update(account, tmp_path, gha, fake, head, text, text)
    finally:
        fake._contents = original
    assert f"/blob/{event.sha}/services/asr/gpu.jsonc#L{line})" in body, body
    assert "links each key at the merge commit" in run.job("plan").step("run").err


def test_characters_that_hide_or_reorder_text_reach_no_comment_summary_or_output(gha, fake, tmp_path):
    """A pull request's gpu.jsonc whose names hold a bidi override or a zero-width space, in a
    plan and in an error quoting them: the comment, the job summary and the outputs show each
    as an escape, so nothing reverses or hides what a reviewer reads."""
    import unicodedata

    def hidden(text: str) -> list[str]:
        return sorted({hex(ord(c)) for c in text if unicodedata.category(c) in ("Cf", "Zl", "Zp") or (unicodedata.category(c) == "Zs" and c != " ")})

    broken = config("api\u202eetadpu", "api\u202eetadpu")  # the same name twice: an error that quotes it
    planned = config("api\u200b", env={"NOTE": "x\u2066y"})
    fake.add_pull(31, "3" * 40)
    run = gha.run(PLAN, pull_request(31, "3" * 40, tree(tmp_path / "pr", planned)))
    job = run.job("plan")
    assert job.status == "success", job.steps
    (comment,) = fake.comments_on(31)
    assert "endpoint.api\\u200b" in comment["body"] and hidden(comment["body"]) == []
    assert hidden(job.summary) == [] and hidden(json.dumps(job.step("gpuctl").outputs, ensure_ascii=False)) == []

    fake.add_pull(32, "4" * 40)
    run = gha.run(PLAN, pull_request(32, "4" * 40, tree(tmp_path / "pr2", broken)))
    job = run.job("plan")
    assert job.status == "failure"
    (comment,) = fake.comments_on(32)
    assert '"api\\u202eetadpu" is used twice' in comment["body"], comment["body"]
    assert hidden(comment["body"]) == [] and hidden(job.summary) == [] and hidden(json.dumps(job.step("gpuctl").outputs, ensure_ascii=False)) == []


def test_a_plan_too_large_for_ten_comments_is_cut_and_says_so_rather_than_flooding_the_pull_request(gha, fake, tmp_path):
    """A pull request's gpu.jsonc may be 5 MiB (thousands of endpoints, or a huge env): split
    whole, its plan was a hundred comments, each a notification and a write on the repository's
    rate limit. The comments stop at MAX_PARTS, the last one saying how much is left out and
    naming each deletion; the plan file holds all of it."""
    from gpuctl.github.parts import MAX_PARTS

    big = {f"VAR_{i:02d}": "v" * 400 for i in range(40)}  # ~17 KB of plan per endpoint
    names = [f"worker-{i:03d}" for i in range(60)]
    fake.add_pull(33, "5" * 40)
    run = gha.run(PLAN, pull_request(33, "5" * 40, tree(tmp_path / "huge", config(*names, env=big))))
    job = run.job("plan")
    assert job.status == "success", job.steps
    parts = sorted((dict(c) for c in fake.comments_on(33)), key=lambda c: read_marker(c["body"]).part)
    assert 1 < len(parts) <= MAX_PARTS and all(len(c["body"]) <= COMMENT_LIMIT for c in parts)
    assert "more resources not shown" in parts[-1]["body"] and "Planned `gpu.jsonc` at commit 555555555555" in parts[-1]["body"]
    assert all(c["body"].count("```") % 2 == 0 for c in parts)
    (artifact,) = fake.artifacts
    assert json.loads(artifact["files"]["gpu.jsonc.plan.json"])["summary"]["create"] == 60  # the plan file holds all of it


def test_a_pull_request_into_another_branch_gets_no_plan(gha, fake, tmp_path):
    """A pull request stacked on a feature branch (or into a release branch) is merged where
    nothing is applied: a plan comment would tell its reviewer what merging it does to the
    account, which it does not. plan.yml (and the fork flow) plan pull requests into main,
    the branch apply.yml applies."""
    fake.add_pull(12, "d" * 40)
    for workflow, fork in (("plan.yml", False), ("fork-configs.yml", True)):
        event = pull_request(12, "d" * 40, tree(tmp_path / "stacked", config("api")), fork=fork)
        event.payload["pull_request"]["base"]["ref"] = "feature/base"
        assert gha.run(WORKFLOWS / workflow, event).jobs == [], workflow
    assert fake.comments_on(12) == [] and fake.artifacts == []
