"""A gpu.jsonc moved to another directory (review 5, R5-8; ADR 43): its drift issue and its plan
comment were found by the config's path only, so after a pull request moved `old/gpu.jsonc` to
`new/gpu.jsonc` the next drift run opened a second issue and the first stayed open for ever, and
the pull request showed the stale plan beside the new one. Both markers now name the project:
the run for the new path closes (or marks superseded) what the same project left under a path
whose file is gone, and nothing else."""

from __future__ import annotations

import json

import pytest

from gpuctl.github.parts import marker, read_marker
from tests.e2e.conftest import project
from tests.github.conftest import WORKFLOWS, config, no_secrets, pull_request, schedule, tree
from tests.github.fake_github import BOT

pytestmark = pytest.mark.e2e

DRIFT = WORKFLOWS / "drift.yml"
PLAN = WORKFLOWS / "plan.yml"
SOMEONE = {"login": "mallory", "id": 7, "type": "User"}


def _drifted_account(account, tmp_path, gpu: dict) -> None:
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", gpu)).code == 0
    (endpoint,) = account.endpoints()
    assert account.server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"workers": {"min": 2}}).status_code == 200


def _checkout(directory, where: str, gpu: dict, also: dict[str, dict] | None = None):
    directory.mkdir(parents=True)
    for path, doc in {where: gpu, **(also or {})}.items():
        (directory / path).parent.mkdir(parents=True, exist_ok=True)
        (directory / path).write_text(json.dumps(doc, indent=2))
    return directory


def _issue(fake, key: str, title: str, user: dict, project: str | None) -> int:
    number = max([0, *fake.issues]) + 1
    fake.issues[number] = {"number": number, "title": title, "body": marker("drift", key, project=project) + "\nreport", "state": "open",
                           "state_reason": None, "labels": [{"name": "gpuctl-drift"}], "user": user}
    return number


def test_a_drift_run_for_the_moved_config_closes_the_issue_left_under_the_old_path(gha, fake, account, tmp_path):
    gpu = config("api", max_workers=4)
    _drifted_account(account, tmp_path, gpu)
    gha.action_inputs |= {"config": "old/gpu.jsonc"}
    first = gha.run(DRIFT, schedule(_checkout(tmp_path / "before", "old/gpu.jsonc", gpu, {"keep/gpu.jsonc": config("k", project_id="ml-api")})))
    assert first.job("drift").status == "success", first.job("drift").steps
    (old,) = fake.real_issues()
    assert read_marker(old["body"]).key == "old/gpu.jsonc" and read_marker(old["body"]).project == "ml-api"

    # What a run for the new path must leave alone: another project's issue, an issue of this
    # project whose file is still there (two configs may name one project in two workflows),
    # an issue someone else wrote with the marker, and one of an earlier gpuctl under a path
    # that is gone but of another project by its title.
    other = _issue(fake, "gone/gpu.jsonc", "gpuctl drift: project asr (gone/gpu.jsonc) no longer matches the account", BOT, "asr")
    present = _issue(fake, "keep/gpu.jsonc", "gpuctl drift: project ml-api (keep/gpu.jsonc) no longer matches the account", BOT, "ml-api")
    forged = _issue(fake, "forged/gpu.jsonc", "gpuctl drift: project ml-api (forged/gpu.jsonc) no longer matches the account", SOMEONE, "ml-api")
    legacy_other = _issue(fake, "older/gpu.jsonc", "gpuctl drift: project asr (older/gpu.jsonc) no longer matches the account", BOT, None)
    untouched = {n: dict(fake.issues[n]) for n in (other, present, forged, legacy_other)}

    gha.action_inputs |= {"config": "new/gpu.jsonc"}
    moved = gha.run(DRIFT, schedule(_checkout(tmp_path / "after", "new/gpu.jsonc", gpu, {"keep/gpu.jsonc": config("k", project_id="ml-api")})))
    job = moved.job("drift")
    assert job.status == "success", job.steps
    new = next(i for i in fake.real_issues() if i["state"] == "open" and read_marker(i["body"]).key == "new/gpu.jsonc")
    closed = fake.issues[old["number"]]
    assert closed["state"] == "closed", closed
    (note,) = fake.comments_on(old["number"])
    assert "`new/gpu.jsonc`" in note["body"] and f"#{new['number']}" in note["body"] and "`old/gpu.jsonc`" in note["body"], note["body"]
    summary = job.step("gpuctl").outputs["summary"]
    assert f"closed #{old['number']}" in summary and "old/gpu.jsonc" in summary, summary
    for number, before in untouched.items():
        assert fake.issues[number] == before and not fake.comments_on(number), number
    no_secrets(moved, fake)


def test_an_in_sync_run_for_the_moved_config_closes_the_old_issue_and_so_does_one_of_an_earlier_gpuctl(gha, fake, account, tmp_path):
    gpu = config("api", max_workers=4)
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", gpu)).code == 0
    # An issue an earlier gpuctl opened: its marker has no project, its title names it.
    legacy = _issue(fake, "old/gpu.jsonc", "gpuctl drift: project ml-api (old/gpu.jsonc) no longer matches the account", BOT, None)
    gha.action_inputs |= {"config": "new/gpu.jsonc"}
    run = gha.run(DRIFT, schedule(_checkout(tmp_path / "after", "new/gpu.jsonc", gpu)))
    assert run.job("drift").status == "success", run.job("drift").steps
    assert fake.issues[legacy]["state"] == "closed" and fake.issues[legacy]["state_reason"] == "completed"
    (note,) = fake.comments_on(legacy)
    assert "`new/gpu.jsonc`" in note["body"] and "matches" in note["body"], note["body"]
    assert len(fake.real_issues()) == 1  # no issue opened for the new path: the account is in sync


def test_a_failed_or_issue_less_drift_run_closes_nothing(gha, fake, account, tmp_path):
    gpu = config("api", max_workers=4)
    _drifted_account(account, tmp_path, gpu)
    legacy = _issue(fake, "old/gpu.jsonc", "gpuctl drift: project ml-api (old/gpu.jsonc) no longer matches the account", BOT, "ml-api")
    gha.action_inputs |= {"config": "new/gpu.jsonc"}
    checkout = _checkout(tmp_path / "after", "new/gpu.jsonc", gpu)
    (checkout / "new/gpu.jsonc").write_text("{ not json")
    failed = gha.run(DRIFT, schedule(checkout))
    assert failed.job("drift").status == "failure"
    assert fake.issues[legacy]["state"] == "open" and not fake.comments_on(legacy)


def test_a_plan_comment_left_under_the_old_path_says_it_is_superseded(gha, fake, tmp_path):
    fake.add_pull(7, "a" * 40)
    first = gha.run(PLAN, pull_request(7, "a" * 40, tree(tmp_path / "push1", config("api"))))
    assert first.job("plan").status == "success", first.job("plan").steps
    (old,) = [dict(c) for c in fake.comments_on(7)]
    assert read_marker(old["body"]).project == "ml-api"
    # Left alone: another project's plan under a path that is gone, this project's plan of a
    # file still in the checkout, and a comment someone else wrote with the marker.
    other = fake.add_comment(7, marker("plan", "gone/gpu.jsonc", 1, 1, project="asr") + "\nasr's plan", BOT)["id"]
    present = fake.add_comment(7, marker("plan", "keep/gpu.jsonc", 1, 1, project="ml-api") + "\nkept plan", BOT)["id"]
    forged = fake.add_comment(7, marker("plan", "forged/gpu.jsonc", 1, 1, project="ml-api") + "\nforged", SOMEONE)["id"]
    untouched = {i: dict(fake.comments[i]) for i in (other, present, forged)}

    fake.add_pull(7, "b" * 40)
    push2 = _checkout(tmp_path / "push2", "svc/gpu.jsonc", config("api"), {"keep/gpu.jsonc": config("k")})
    gha.action_inputs |= {"config": "svc/gpu.jsonc"}
    second = gha.run(PLAN, pull_request(7, "b" * 40, push2))
    assert second.job("plan").status == "success", second.job("plan").steps
    stale = fake.comments[old["id"]]
    assert read_marker(stale["body"]).key == "gpu.jsonc", stale["body"]
    assert "superseded" in stale["body"].lower() and "`svc/gpu.jsonc`" in stale["body"] and "will be created" not in stale["body"], stale["body"]
    (new,) = [c for c in fake.comments_on(7) if read_marker(c["body"]).key == "svc/gpu.jsonc"]
    assert "will be created" in new["body"]
    assert f"[its plan comment]({new['html_url']})" in stale["body"], stale["body"]
    for i, before in untouched.items():
        assert fake.comments[i] == before, i
    assert "superseded" in second.texts()

    writes = len(fake.writes())
    again = gha.run(PLAN, pull_request(7, "b" * 40, push2))  # a re-run: the note stands as it is
    assert again.job("plan").status == "success"
    assert [r["method"] for r in fake.writes()[writes:]] in ([], ["PATCH"]) and fake.comments[old["id"]]["body"] == stale["body"]
    no_secrets(second, fake)


def test_the_marker_keeps_reading_what_an_earlier_gpuctl_wrote():
    assert read_marker('<!-- gpuctl:plan key="gpu.jsonc" part=1/2 wrote=true -->\nx') == read_marker(marker("plan", "gpu.jsonc", 1, 2, wrote=True))
    mark = read_marker(marker("drift", 'a "b"/gpu.jsonc', project='p "-->" q'))
    assert (mark.kind, mark.key, mark.project) == ("drift", 'a "b"/gpu.jsonc', 'p "-->" q')
    assert read_marker('<!-- gpuctl:drift key="gpu.jsonc" -->').project is None


def test_a_plan_comment_an_earlier_gpuctl_left_under_the_old_path_is_superseded_when_one_project_is_planned(gha, fake, tmp_path):
    """A pull request planned by an earlier gpuctl (its marker names no project), then moved
    `gpu.jsonc` to `svc/gpu.jsonc` and was planned again: the old plan stayed beside the new
    one, saying what merging no longer does. When every gpuctl plan on the pull request is of
    one project, the old comment is that project's: it is marked superseded. When another
    project's plan is there too, whose it was cannot be told, and it is left alone."""
    fake.add_pull(7, "a" * 40)
    legacy = fake.add_comment(7, '<!-- gpuctl:plan key="gpu.jsonc" part=1/2 -->\n_Part 1 of 2_\n\nendpoint.api will be created', BOT)["id"]
    second_part = fake.add_comment(7, '<!-- gpuctl:plan key="gpu.jsonc" part=2/2 -->\n_Part 2 of 2_\n\nmore', BOT)["id"]
    gha.action_inputs |= {"config": "svc/gpu.jsonc"}
    run = gha.run(PLAN, pull_request(7, "b" * 40, _checkout(tmp_path / "push2", "svc/gpu.jsonc", config("api"))))
    assert run.job("plan").status == "success", run.job("plan").steps
    stale = fake.comments[legacy]
    assert stale["body"].startswith(marker("plan", "gpu.jsonc", 1, 1) + "\n"), stale["body"]  # it stays an earlier gpuctl's: no project is guessed into it
    assert "superseded" in stale["body"].lower() and "`svc/gpu.jsonc`" in stale["body"] and "will be created" not in stale["body"], stale["body"]
    assert second_part not in fake.comments
    (new,) = [c for c in fake.comments_on(7) if read_marker(c["body"]).key == "svc/gpu.jsonc"]
    assert f"[its plan comment]({new['html_url']})" in stale["body"], stale["body"]

    writes = len(fake.writes())
    again = gha.run(PLAN, pull_request(7, "b" * 40, _checkout(tmp_path / "push3", "svc/gpu.jsonc", config("api"))))
    assert again.job("plan").status == "success"
    assert fake.comments[legacy]["body"] == stale["body"] and "DELETE" not in [r["method"] for r in fake.writes()[writes:]]


def test_a_plan_comment_an_earlier_gpuctl_left_is_left_alone_when_two_projects_are_planned(gha, fake, tmp_path):
    fake.add_pull(7, "a" * 40)
    legacy = fake.add_comment(7, '<!-- gpuctl:plan key="gone/gpu.jsonc" part=1/1 -->\nendpoint.x will be created', BOT)["id"]
    other = fake.add_comment(7, marker("plan", "asr/gpu.jsonc", 1, 1, project="asr") + "\nasr's plan", BOT)["id"]
    before = {i: dict(fake.comments[i]) for i in (legacy, other)}
    gha.action_inputs |= {"config": "svc/gpu.jsonc"}
    run = gha.run(PLAN, pull_request(7, "b" * 40, _checkout(tmp_path / "push2", "svc/gpu.jsonc", config("api"))))
    assert run.job("plan").status == "success", run.job("plan").steps
    for i, was in before.items():
        assert fake.comments[i] == was, i
