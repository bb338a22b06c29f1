"""examples/github/drift.yml, run as the nightly schedule runs it: one issue opened on drift
(its label created), the same issue updated on the next run, closed with a comment when the
drift is gone; nothing touched when the report fails."""

from __future__ import annotations

import re
import shlex
from urllib.parse import quote

import pytest

from gpuctl.github.parts import read_marker
from tests.e2e.conftest import project
from tests.github.conftest import REPO, WORKFLOWS, config, dispatch, no_host, no_secrets, schedule, tree
from tests.github.fake_github import Canned

pytestmark = pytest.mark.e2e

DRIFT = WORKFLOWS / "drift.yml"
MERGE = "b2" * 20


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
    checkout, _ = _drifted(gha, fake, account, tmp_path)
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
    gpu, asr = config("api", max_workers=4), config("asr", project_id="asr", max_workers=4)  # two projects: one run refuses two configs of one (ADR 35)
    for d, c in (("deployed", gpu), ("deployed-asr", asr)):
        assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / d, c)).code == 0
    for endpoint in account.endpoints():
        assert account.server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"workers": {"min": 2}}).status_code == 200
    checkout = tree(tmp_path / "main", gpu)
    tree(checkout / "services" / "asr", asr)
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


def test_a_proxy_page_in_place_of_github_s_answer_fails_the_step_with_a_github_error(gha, fake, account, tmp_path):
    """Something between the runner and GitHub answers 200 with an HTML page: measured before,
    the step failed with "internal error" (a JSONDecodeError); now the summary names the request
    and what came back, on one line."""
    gpu = config("api", max_workers=4)
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", gpu)).code == 0
    console_min_workers(account, 2)
    checkout = tree(tmp_path / "main", gpu)
    fake.canned.append(Canned(200, {}, b"<html>\nerror: sign in to the proxy\n</html>"))

    run = gha.run(DRIFT, schedule(checkout))
    job = run.job("drift")
    assert job.status == "failure"
    outputs = job.step("gpuctl").outputs
    assert outputs["exit_code"] == "1", (outputs, job.steps)
    (line,) = outputs["summary"].splitlines()
    assert line.startswith("gpu.jsonc: drift; error: the drift issue: GitHub's answer to ") and "is not JSON (text/html): <html>\\nerror: sign in" in line, line
    assert "internal error" not in run.texts() and "Traceback" not in run.texts()
    assert not fake.real_issues()


MALLORY = {"login": "mallory", "id": 666, "type": "User"}
OTHER_APP = {"login": "helpful-app[bot]", "id": 9001, "type": "Bot"}  # any GitHub App installed on the repository


def _drifted(gha, fake, account, tmp_path):
    """A deployed config whose account then drifted, and the drift issue a first run opened."""
    gpu = config("api", max_workers=4)
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", gpu)).code == 0
    console_min_workers(account, 2)
    checkout = tree(tmp_path / "main", gpu)
    assert gha.run(DRIFT, schedule(checkout)).job("drift").status == "success"
    (issue,) = fake.real_issues()
    return checkout, issue


def test_json_nested_too_deep_in_the_issue_body_is_taken_as_unknown_not_a_crash(gha, fake, account, tmp_path):
    """Anyone who may edit the issue writes its body: measured before, `[` nested 100,000 deep in
    the hidden list of what drifts (or in when each was first seen) raised RecursionError, an
    internal error that failed every later drift run. Now it is unknown, as a malformed one is,
    and the run rewrites the body as gpuctl's."""
    checkout, issue = _drifted(gha, fake, account, tmp_path)
    deep = quote("[" * 100_000, safe="")
    body = fake.issues[issue["number"]]["body"]
    body = re.sub(r"<!-- gpuctl:drift-items [^\s<>]* -->", f"<!-- gpuctl:drift-items {deep} -->", body)
    body = re.sub(r"<!-- gpuctl:drift-since [^\s<>]* -->", f"<!-- gpuctl:drift-since {deep} -->", body)
    assert body.count(deep) == 2
    fake.issues[issue["number"]]["body"] = body

    run = gha.run(DRIFT, schedule(checkout))
    job = run.job("drift")
    assert job.status == "success", (job.steps, run.texts()[-2000:])
    assert "internal error" not in run.texts() and "RecursionError" not in run.texts()
    (again,) = fake.real_issues()
    assert again["number"] == issue["number"] and again["state"] == "open"
    assert deep not in again["body"] and "<!-- gpuctl:drift-items %5B%22endpoint.api" in again["body"], again["body"][:400]


def test_removing_the_label_does_not_make_a_second_issue(gha, fake, account, tmp_path):
    """The issue is gpuctl's by its hidden marker and its author, not by its label: a person
    who takes the label off (or renames it) leaves gpuctl one issue to update and to close,
    and gpuctl leaves the labels as that person set them."""
    checkout, issue = _drifted(gha, fake, account, tmp_path)
    fake.issues[issue["number"]]["labels"] = []

    console_min_workers(account, 3)
    updated = gha.run(DRIFT, schedule(checkout))
    assert updated.job("drift").status == "success"
    (same,) = fake.real_issues()
    assert same["number"] == issue["number"] and "<code>3</code>" in same["body"] and same["labels"] == []
    assert f"updated issue #{issue['number']}" in updated.job("drift").step("gpuctl").outputs["summary"]

    console_min_workers(account, 0)
    assert gha.run(DRIFT, schedule(checkout)).job("drift").status == "success"
    (done,) = fake.real_issues()
    assert done["state"] == "closed"


@pytest.mark.parametrize("who", [MALLORY, OTHER_APP], ids=["a-person", "another-bot"])
def test_an_issue_someone_else_opened_with_the_marker_is_never_taken_for_gpuctl_s(gha, fake, account, tmp_path, who):
    """Anyone may open an issue on a public repository, and start its body with gpuctl's
    marker, and so may any GitHub App installed on it: gpuctl neither edits nor closes it (with
    the label too, which a triager may add), opens its own (a new issue notifies watchers; an
    edit of the imitation would not, and its author could edit the report away), and names the
    imitation in the job log."""
    gpu = config("api", max_workers=4)
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", gpu)).code == 0
    console_min_workers(account, 2)
    checkout = tree(tmp_path / "main", gpu)
    fake.labels["gpuctl-drift"] = {"name": "gpuctl-drift"}
    fake.issues[7] = {"number": 7, "title": "gpuctl drift: all fine", "state": "open", "user": who, "labels": [fake.labels["gpuctl-drift"]],
                      "body": '<!-- gpuctl:drift key="gpu.jsonc" -->\nNothing drifted; see https://evil.example'}
    fake.issues[8] = dict(fake.issues[7], number=8, labels=[])
    forged = {n: dict(fake.issues[n]) for n in (7, 8)}

    opened = gha.run(DRIFT, schedule(checkout))
    assert opened.job("drift").status == "success"
    ours = [i for i in fake.real_issues() if i["number"] not in forged]
    assert len(ours) == 1 and ours[0]["user"]["login"] == "github-actions[bot]"
    assert all(fake.issues[n] == forged[n] for n in forged)
    assert f"issue #7 by @{who['login']} starts with gpuctl's marker" in opened.job("drift").step("run").err

    console_min_workers(account, 0)
    assert gha.run(DRIFT, schedule(checkout)).job("drift").status == "success"
    assert all(fake.issues[n] == forged[n] for n in forged) and fake.issues[ours[0]["number"]]["state"] == "closed"
    assert not [c for c in fake.comments.values() if c["issue_number"] in forged]


def test_an_issue_closed_while_the_drift_persists_is_followed_by_a_new_one(gha, fake, account, tmp_path):
    """A person closing the drift issue while the account still differs does not silence the
    report: gpuctl never reopens what a person closed; the next run opens a new issue (once:
    the runs after it update that one)."""
    checkout, issue = _drifted(gha, fake, account, tmp_path)
    fake.issues[issue["number"]] |= {"state": "closed", "state_reason": "not_planned"}

    again = gha.run(DRIFT, schedule(checkout))
    assert again.job("drift").status == "success"
    assert fake.issues[issue["number"]]["state"] == "closed"
    (new,) = [i for i in fake.real_issues() if i["state"] == "open"]
    assert new["number"] != issue["number"] and "workers.min" in new["body"]
    assert gha.run(DRIFT, schedule(checkout)).job("drift").status == "success"
    assert len(fake.real_issues()) == 2


def test_the_issue_says_how_to_end_the_drift_through_the_repository_s_workflows(gha, fake, account, tmp_path):
    """A repository applies gpu.jsonc through review and merge, so the issue says how to end
    the drift there: put the account back by running the apply workflow by hand with replan
    (or deploy from the default branch), or keep the account's values with pull --write on a
    branch and a pull request, after which a drift run closes the issue. "pull --write" alone
    would leave the change on someone's laptop and the issue open."""
    _checkout, issue = _drifted(gha, fake, account, tmp_path)
    body = issue["body"]
    assert "### Ending this drift" in body
    assert "`replan`" in body and "apply workflow" in body
    assert "pull request" in body and "`gpu serverless pull --write --provider local`" in body  # the provider the workflow named


def test_drift_that_comes_back_after_the_issue_closed_opens_a_new_issue(gha, fake, account, tmp_path):
    """gpuctl closed the issue when the account matched again; drift that comes back later is
    a new event: a new issue (which notifies watchers), never an edit of the closed one."""
    checkout, issue = _drifted(gha, fake, account, tmp_path)
    console_min_workers(account, 0)
    assert gha.run(DRIFT, schedule(checkout)).job("drift").status == "success"
    assert fake.issues[issue["number"]]["state"] == "closed"

    console_min_workers(account, 1)
    back = gha.run(DRIFT, schedule(checkout))
    assert back.job("drift").status == "success" and back.job("drift").step("gpuctl").outputs["exit_code"] == "2"
    (new,) = [i for i in fake.real_issues() if i["state"] == "open"]
    assert new["number"] != issue["number"] and "<code>1</code>" in new["body"]
    assert fake.issues[issue["number"]]["state"] == "closed"


def console_patch(account, body: dict) -> None:
    (endpoint,) = account.endpoints()
    assert account.server.http.patch(f"/v2/serverless/{endpoint['id']}", json=body).status_code == 200


def test_a_change_in_what_drifts_is_commented_on_a_value_that_moves_again_is_not(gha, fake, account, tmp_path):
    """Editing the issue notifies nobody: when a field is new in the drift, or gone from it, the
    run also comments (marked, gpuctl's own) saying which; the same drift with other values, or
    a run that finds it unchanged, does not."""
    checkout, issue = _drifted(gha, fake, account, tmp_path)
    number = issue["number"]
    assert gha.run(DRIFT, schedule(checkout)).job("drift").status == "success"
    console_min_workers(account, 3)  # the same field, another value
    assert gha.run(DRIFT, schedule(checkout)).job("drift").status == "success"
    assert fake.comments_on(number) == [] and "<code>3</code>" in fake.issues[number]["body"]

    console_patch(account, {"workers": {"idleTimeout": 42}})
    grew = gha.run(DRIFT, schedule(checkout))
    assert grew.job("drift").status == "success"
    (note,) = fake.comments_on(number)
    mark = read_marker(note["body"])
    assert (mark.kind, mark.key) == ("driftchange", "gpu.jsonc")
    assert mark.project and mark.project == read_marker(fake.issues[number]["body"]).project  # markers name the project (ADR 43)
    assert note["user"]["login"] == fake.issues[number]["user"]["login"]  # gpuctl's token wrote it
    assert "**New:**" in note["body"] and "workers.idleTimeout" in note["body"]
    assert "**Gone:**" not in note["body"] and "workers.min" not in note["body"]
    assert f"updated and commented on issue #{number}" in grew.job("drift").step("gpuctl").outputs["summary"]

    console_min_workers(account, 0)
    shrank = gha.run(DRIFT, schedule(checkout))
    assert shrank.job("drift").status == "success"
    _, gone = fake.comments_on(number)
    assert "**Gone:**" in gone["body"] and "workers.min" in gone["body"] and "**New:**" not in gone["body"]
    assert gha.run(DRIFT, schedule(checkout)).job("drift").status == "success"
    assert len(fake.comments_on(number)) == 2
    for run in (grew, shrank):
        no_secrets(run, fake)


def test_the_issue_links_each_drifted_key_to_its_line_at_the_checked_out_commit_and_prices_no_idle_timeout(gha, fake, account, tmp_path):
    """The plan comment links each gpu.jsonc key to its line; the drift issue named the same
    keys as text only, and said "+$0.00/h" for an idle timeout, which moves no money. The issue
    links the key to its line at the commit the run checked out (GITHUB_SHA), and says nothing
    about cost."""
    gpu = config("api", max_workers=4)
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", gpu)).code == 0
    checkout = tree(tmp_path / "main", gpu)
    line = next(n for n, text in enumerate((checkout / "gpu.jsonc").read_text().splitlines(), 1) if '"idle_timeout"' in text)
    console_patch(account, {"workers": {"idleTimeout": 42}})
    event = schedule(checkout)
    run = gha.run(DRIFT, event)
    assert run.job("drift").status == "success", run.job("drift").steps
    (issue,) = fake.real_issues()
    url = f"https://github.com/{REPO}/blob/{event.sha}/gpu.jsonc#L{line}"
    row = next(text for text in issue["body"].splitlines() if text.startswith("| <code>workers.idleTimeout</code> |"))
    assert f"[<code>serverless.scaling.idle&#95;timeout</code>]({url})" in row  # the key as code (`_` an entity), linked
    assert "Cost of the drift" not in issue["body"] and "$0.00/h" not in issue["body"]
    no_secrets(run, fake)


def _ending(body: str) -> str:
    return body.split("### Ending this drift", 1)[1]


def test_the_ending_of_an_orphan_s_drift_names_what_ends_it_and_following_it_closes_the_issue(gha, fake, account, tmp_path):
    """The apply workflow (without `prune`) leaves an orphan running, and `pull --write` never
    writes its block back: the issue's "Ending this drift" used to offer only those two, so an
    on-call person who followed it kept the issue open for ever. It names the orphan and what
    ends it (delete it, `prune`, or put its block back with import); doing the first closes it."""
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", config("api", "old"))).code == 0
    checkout = tree(tmp_path / "main", config("api"))
    assert gha.run(DRIFT, schedule(checkout)).job("drift").status == "success"
    (issue,) = fake.real_issues()
    ending = _ending(issue["body"])
    old = next(e for e in account.endpoints() if e["name"] == "old")
    assert "<code>endpoint.old</code>" in ending
    # By its id, never by the name the account gives it (R5-3), with the provider the workflow named (R5-6).
    delete = f"gpu serverless delete {old['id']} --provider local"
    assert f"`{delete}`" in ending and "`prune`" in ending and f"`gpu serverless import {old['id']} --write --provider local`" in ending

    assert account.gpu(*shlex.split(delete)[1:], "-y", cwd=checkout).code == 0  # as the issue says it
    closed = gha.run(DRIFT, schedule(checkout))
    assert closed.job("drift").step("gpuctl").outputs["summary"] == f"gpu.jsonc: in sync; closed issue #{issue['number']}"


def test_the_ending_of_an_unmanaged_endpoint_holding_a_block_s_name_says_the_apply_refuses_until_it_is_adopted(gha, fake, account, tmp_path):
    """An endpoint deleted in the console and made again by hand holds the block's name without
    the marker: the apply workflow refuses to plan around it, and gpuctl never touches it, so
    "put the account back with the apply workflow" cannot end it. The ending names it, its
    import by id, and that the apply refuses until then."""
    gpu = config("api")
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", gpu)).code == 0
    (mine,) = account.endpoints()
    assert account.server.http.delete(f"/v2/serverless/{mine['id']}").status_code == 204
    body = {k: mine[k] for k in ("name", "type", "image", "workers", "scaling")} | {"gpu": {"pools": mine["gpu"]["pools"], "count": 1}, "env": {"GREETING": "hello"}}
    made = account.server.http.post("/v2/serverless", json=body)
    assert made.status_code == 201, made.text
    checkout = tree(tmp_path / "main", gpu)
    refused = account.gpu("serverless", "deploy", "--plan", "--provider", "local", cwd=checkout)
    assert refused.code == 1  # what the ending warns of

    assert gha.run(DRIFT, schedule(checkout)).job("drift").status == "success"
    (issue,) = fake.real_issues()
    ending = _ending(issue["body"])
    assert "<code>endpoint.api</code>" in ending and f"`gpu serverless import {made.json()['id']} --write --provider local`" in ending
    assert "refuses to plan" in ending


def test_two_endpoints_claiming_a_block_open_an_issue_whose_ending_deletes_one_and_following_it_closes_it(gha, fake, account, tmp_path):
    """A crashed create and its retry left two endpoints with the project's marker and one
    block's name: the nightly job failed (exit 1, no issue) every night. It opens the drift
    issue, whose row and ending name both ids and the delete deploy itself advises; doing it
    closes the issue on the next run."""
    gpu = config("api")
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", gpu)).code == 0
    (mine,) = account.endpoints()
    # the retry's: the same body, so whichever of the two deploy keeps (the oldest; in one second,
    # by id) is in sync once the other is deleted (a partial copy made the kept one drift 1 run in 4)
    body = {k: v for k, v in mine.items() if k not in ("id", "createdAt", "userId", "templateId", "version", "requestUrls")}
    body["gpu"] = {k: v for k, v in body["gpu"].items() if v is not None}
    assert account.server.http.post("/v2/serverless", json=body).status_code == 201
    kept, extra = sorted(account.endpoints(), key=lambda e: (e["createdAt"], e["id"]))  # deploy keeps the oldest (same second: by id)
    checkout = tree(tmp_path / "main", gpu)

    run = gha.run(DRIFT, schedule(checkout))
    assert run.job("drift").status == "success", run.job("drift").steps
    assert run.job("drift").step("gpuctl").outputs["exit_code"] == "2"
    (issue,) = fake.real_issues()
    assert kept["id"] in issue["body"] and extra["id"] in issue["body"]
    ending = _ending(issue["body"])
    assert "**Duplicate**" in ending and f"`gpu serverless delete {extra['id']} --force --provider local`" in ending and "refuses to plan" in ending, ending

    assert account.gpu("serverless", "delete", extra["id"], "--force", "--provider", "local", cwd=checkout).code == 0
    closed = gha.run(DRIFT, schedule(checkout))
    assert closed.job("drift").step("gpuctl").outputs["summary"] == f"gpu.jsonc: in sync; closed issue #{issue['number']}"
    no_secrets(run, fake)


def test_a_run_that_reads_the_account_while_an_apply_holds_the_lease_opens_no_issue(gha, fake, account, tmp_path):
    """The schedule ran while a merge was being applied: what the apply had not written yet
    looked like drift, so the run opened an issue (notifying its watchers) that the next run
    closed, for drift that never was. A read made while another gpuctl command of the project
    held its account lease is not a report to act on: the job summary and the outputs have it
    (exit_code 2, has_changes true, the summary line naming the holder), but no issue is
    opened, edited, commented on or closed; the next run decides."""
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", config("api", max_workers=4))).code == 0
    merged = config("api", max_workers=6)
    checkout = tree(tmp_path / "main", merged)
    account.faults({"op": "update", "kind": "endpoint", "action": "hang", "seconds": 3600})  # every PATCH (a retry too) held until cleared below
    apply = account.popen("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", merged))
    try:
        for line in apply.stderr:
            if "updating" in line:  # under the lease, its write held by the account
                break
        during = gha.run(DRIFT, schedule(checkout))
    finally:
        account.clear_faults()
    assert apply.wait(timeout=120) == 0
    job = during.job("drift")
    assert job.status == "success", job.steps
    outputs = job.step("gpuctl").outputs
    assert (outputs["exit_code"], outputs["has_changes"]) == ("2", "true")
    assert outputs["summary"].startswith(f"gpu.jsonc: drift, read while pid {apply.pid} on ") and "no issue opened" in outputs["summary"]
    assert "workers.max" in job.summary and "holds its account lease" in job.summary
    assert f"pid {apply.pid} on a machine outside GitHub Actions (`gpu serverless deploy`" in job.summary, job.summary
    no_host(during.texts())  # the summary, the log, the outputs (ADR 39)
    assert fake.real_issues() == [] and fake.writes() == []

    after = gha.run(DRIFT, schedule(checkout))
    assert after.job("drift").step("gpuctl").outputs["summary"] == "gpu.jsonc: in sync"
    assert fake.real_issues() == []


def _since(body: str) -> dict[str, str]:
    """The issue's "Since when" table: what drifts -> when it was first seen."""
    section = body.split("### Since when", 1)[1].split("\n### ", 1)[0]
    rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| <code>")]
    return {row[0].removeprefix("| "): row[1].removesuffix(" |") for row in rows}


def test_the_issue_says_since_when_each_thing_drifts(gha, fake, account, tmp_path):
    """The on-call person reading a weeks-old drift issue saw what drifts, but not since when:
    the body is rewritten every night. It keeps, per resource and field, the run that first
    saw it drift (with its time), through later runs and changes of what drifts."""
    checkout, issue = _drifted(gha, fake, account, tmp_path)  # workers.min, first seen by run 5001
    first = "[run 5001](https://github.com/acme/ml-api/actions/runs/5001)"
    assert all(first in when for when in _since(fake.issues[issue["number"]]["body"]).values())
    assert gha.run(DRIFT, schedule(checkout)).job("drift").status == "success"  # run 5002: the same drift
    console_patch(account, {"workers": {"idleTimeout": 42}})
    assert gha.run(DRIFT, schedule(checkout)).job("drift").status == "success"  # run 5003: a new field
    since = _since(fake.issues[issue["number"]]["body"])
    assert list(since) == ["<code>endpoint.api: workers.idleTimeout</code>", "<code>endpoint.api: workers.min</code>"]
    assert first in since["<code>endpoint.api: workers.min</code>"] and "UTC" in since["<code>endpoint.api: workers.min</code>"]
    assert "[run 5003](" in since["<code>endpoint.api: workers.idleTimeout</code>"]


def test_two_overlapping_runs_leave_one_open_issue_after_the_next_run(gha, fake, account, tmp_path):
    """Two drift runs overlapped (outside one concurrency group: a second workflow, a run by
    hand beside the schedule) and each opened an issue. The duplicate was never updated, nor
    closed when the drift ended: an open issue went on reporting drift that was gone. The next
    run keeps the oldest and closes the others as duplicates of it; the run that finds the
    account in sync closes every one."""
    import threading

    from tests.github.fake_github import Gate

    gpu = config("api", max_workers=4)
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", gpu)).code == 0
    console_min_workers(account, 2)
    checkout = tree(tmp_path / "main", gpu)
    gate = Gate(r"POST /repos/acme/ml-api/issues")
    fake.gates.append(gate)
    first = threading.Thread(target=gha.run, args=(DRIFT, schedule(checkout)))
    first.start()
    try:
        assert gate.arrived.wait(timeout=300)  # the first run is opening its issue
        assert gha.run(DRIFT, schedule(checkout)).job("drift").status == "success"
    finally:
        gate.release.set()
        first.join()
    assert [i["state"] for i in fake.real_issues()] == ["open", "open"]

    again = gha.run(DRIFT, schedule(checkout))
    assert again.job("drift").status == "success"
    kept, duplicate = sorted(fake.real_issues(), key=lambda i: i["number"])
    assert (kept["state"], duplicate["state"]) == ("open", "closed")
    (note,) = fake.comments_on(duplicate["number"])
    assert f"#{kept['number']}" in note["body"]
    assert again.job("drift").step("gpuctl").outputs["summary"] == f"gpu.jsonc: drift; unchanged issue #{kept['number']} (closed duplicate #{duplicate['number']})"

    console_min_workers(account, 0)
    assert gha.run(DRIFT, schedule(checkout)).job("drift").status == "success"
    assert [i["state"] for i in fake.real_issues()] == ["closed", "closed"]


def test_a_run_that_finds_the_account_in_sync_closes_every_issue_overlapping_runs_opened(gha, fake, account, tmp_path):
    """Two gpuctl issues for one config (runs that overlapped) and the account back in sync:
    the run closes both, rather than one per night while the other still says there is drift."""
    checkout, issue = _drifted(gha, fake, account, tmp_path)
    twin = fake._create_issue({"title": issue["title"], "body": issue["body"], "labels": ["gpuctl-drift"]})[2]
    console_min_workers(account, 0)
    done = gha.run(DRIFT, schedule(checkout))
    assert done.job("drift").step("gpuctl").outputs["summary"] == f"gpu.jsonc: in sync; closed issue #{issue['number']}, #{twin['number']}"
    assert [i["state"] for i in fake.real_issues()] == ["closed", "closed"]


@pytest.mark.parametrize("key", ["refused", "missing"])
def test_a_runpod_key_refused_or_missing_says_to_fix_the_repository_secret_and_touches_no_issue(gha, fake, account, tmp_path, key):
    """The scheduled run against RunPod with a revoked key (401), or without the secret: exit
    code 1, no issue opened, and the job summary's hint was the terminal's (`gpu auth login`),
    which nobody can run on a runner. It names the action's `api-key` input and the
    RUNPOD_API_KEY repository secret, and says to re-run the job."""
    import json as _json

    checkout, issue = _drifted(gha, fake, account, tmp_path)
    writes = len(fake.writes())
    server = _json.loads((account.server.data_dir / "server.json").read_text())
    gha.action_inputs = {}  # as the example runs: the provider is chosen by the key
    gha.env = {k: v for k, v in gha.env.items() if k != "GPUCTL_LOCAL_DIR"} | {"RUNPOD_API_BASE_URL": server["api_base_url"]}
    if key == "missing":
        gha.secrets = {k: v for k, v in gha.secrets.items() if k != "RUNPOD_API_KEY"}
    failed = gha.run(DRIFT, schedule(checkout))
    job = failed.job("drift")
    assert job.status == "failure" and job.step("gpuctl").outputs["exit_code"] == "1"
    assert "gpu auth login" not in job.summary and "RUNPOD_API_KEY repository secret" in job.summary and "re-run this workflow job" in job.summary
    assert len(fake.writes()) == writes and fake.real_issues()[0]["state"] == "open"
    no_secrets(failed, fake)


def test_the_same_drift_found_again_leaves_the_issue_as_it_was(gha, fake, account, tmp_path):
    """Nightly runs that find the same drift (same fields, same values) write nothing to the issue:
    no edit, no comment, so its history and its watchers see only changes; the run says the issue
    is unchanged. The body still says which run last checked, through the job summary."""
    gpu = config("api", max_workers=4)
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", gpu)).code == 0
    checkout = tree(tmp_path / "main", gpu)
    console_min_workers(account, 2)
    opened = gha.run(DRIFT, schedule(checkout))
    assert opened.job("drift").status == "success", opened.job("drift").steps
    (issue,) = fake.real_issues()
    body, title = issue["body"], issue["title"]
    writes = len(fake.writes())

    again = gha.run(DRIFT, schedule(checkout))
    assert again.job("drift").status == "success", again.job("drift").steps
    (same,) = fake.real_issues()
    assert (same["body"], same["title"]) == (body, title)
    assert fake.writes()[writes:] == [], fake.writes()[writes:]
    assert again.job("drift").step("gpuctl").outputs["summary"] == f"gpu.jsonc: drift; unchanged issue #{issue['number']}"
    assert f"run {again.run_id}" in again.job("drift").summary


def test_an_account_that_does_not_answer_touches_no_issue_and_the_summary_says_what_that_means(gha, fake, account, tmp_path):
    """RunPod answers 500 to every read: the open drift issue is neither updated nor closed
    ("could not look" is neither drift nor its end), and the job summary, which the person paged
    reads first, says so and what to do, beside the error."""
    checkout, issue = _drifted(gha, fake, account, tmp_path)
    writes = len(fake.writes())
    account.faults({"op": "list", "kind": "endpoint", "action": "status", "status": 500})
    failed = gha.run(DRIFT, schedule(checkout))
    job = failed.job("drift")
    assert job.status == "failure" and job.step("gpuctl").outputs["exit_code"] == "1"
    assert len(fake.writes()) == writes and fake.real_issues()[0]["state"] == "open"
    assert "GET /v2/serverless: server error 500" in job.summary
    assert (f"No drift issue was opened, changed or closed: the report could not be made, which is neither drift nor its end; "
            f"issue #{issue['number']} still says what the last report found.") in job.summary
    assert "re-run this workflow job" in job.summary


def test_a_merge_that_leaves_the_drift_as_it_was_does_not_edit_the_issue_only_to_move_its_links(gha, fake, account, tmp_path):
    """The schedule runs at the default branch's newest commit, and the issue links each key
    at that commit. A merge that changed no line the report names (a README) moved every link
    to the new commit, so each merge to main edited the issue with nothing new in it."""
    from dataclasses import replace

    gpu = config("api", max_workers=4)
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", gpu)).code == 0
    checkout = tree(tmp_path / "main", gpu)
    console_min_workers(account, 2)
    assert gha.run(DRIFT, schedule(checkout)).job("drift").status == "success"
    (issue,) = fake.real_issues()
    body = issue["body"]
    assert f"/blob/{'e' * 40}/gpu.jsonc#L" in body
    writes = len(fake.writes())

    later = gha.run(DRIFT, replace(schedule(checkout), sha="c4" * 20))
    assert later.job("drift").status == "success"
    assert fake.writes()[writes:] == [] and fake.real_issues()[0]["body"] == body
    assert f"/blob/{'c4' * 20}/gpu.jsonc#L" in later.job("drift").summary  # the run's own report links its commit


def test_a_variable_the_job_does_not_pass_says_how_to_pass_it_in_the_workflow(gha, fake, account, tmp_path):
    """gpu.jsonc reads ${HF_TOKEN} and drift.yml's gpuctl step does not pass it: the step fails
    and touches no issue, as it must, but the job summary's hint was the terminal's (`export
    HF_TOKEN=... before running gpu`), which nobody can do on a runner. It says to pass the
    variable from a repository secret in the step's `env:`, and to re-run the job."""
    gpu = config("api", max_workers=4, env={"TOKEN": "${HF_TOKEN}"})
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", gpu), env={"HF_TOKEN": "t0k"}).code == 0
    console_min_workers(account, 2)
    checkout = tree(tmp_path / "main", gpu)
    gha.env["HF_TOKEN"] = "t0k"
    assert gha.run(DRIFT, schedule(checkout)).job("drift").status == "success"
    (issue,) = fake.real_issues()
    writes = len(fake.writes())

    del gha.env["HF_TOKEN"]
    failed = gha.run(DRIFT, schedule(checkout))
    job = failed.job("drift")
    assert job.status == "failure" and job.step("gpuctl").outputs["exit_code"] == "1"
    assert "gpu.jsonc:" in job.summary and "environment variable HF_TOKEN is not set" in job.summary
    assert "export HF_TOKEN" not in job.summary
    assert "HF_TOKEN: ${{ secrets.HF_TOKEN }}" in job.summary and "re-run this workflow job" in job.summary
    assert len(fake.writes()) == writes and fake.real_issues()[0]["state"] == "open"
    no_secrets(failed, fake)


def test_a_lease_template_with_an_expiry_hours_ahead_does_not_silence_the_issue(gha, fake, account, tmp_path):
    """Review 2, F11: one lease template whose expiry is hours ahead (made by hand by whoever
    made the console edit, or by a runner with a bad clock) made the run say "read while pid
    4242 ... held the project's account lease" and touch no issue, every night until it
    expired. No holder with a correct clock writes that expiry, and deploy takes such a lease
    over once nobody renews it: the run reports the drift as usual."""
    from tests.e2e.test_drift_cmd import plant_lease

    gpu = config("api", max_workers=4)
    deployed = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", gpu))
    assert deployed.code == 0, deployed.err
    checkout = tree(tmp_path / "main", gpu)
    console_min_workers(account, 2)
    project_id = next(t for t in account.server.http.get("/v2/templates").json()["templates"]
                      if t["name"].startswith("gpuctl-applied-"))["env"]["GPUCTL_PROJECT"]
    plant_lease(account, project_id, 72_000)
    run = gha.run(DRIFT, schedule(checkout))
    job = run.job("drift")
    assert job.status == "success", job.steps
    assert "no issue opened" not in job.step("gpuctl").outputs["summary"], job.step("gpuctl").outputs["summary"]
    (issue,) = fake.real_issues()
    assert issue["state"] == "open" and "workers.min" in issue["body"]


def test_a_lease_whose_clock_is_ahead_does_not_edit_the_issue_every_night(gha, fake, account, tmp_path):
    """A lease whose expiry is hours ahead of this machine's clock (a runner whose clock runs
    ahead, renewing its lease; a template made by hand) is named in the issue, as a note that
    cannot be judged. Its note said by how much ("its expiry is 20h00m ahead of this machine's
    clock ... seems about 19h55m ahead"), which changes from run to run, so every nightly run
    edited the issue though the drift had not changed. The issue changes only with the drift;
    the job summary of each run still says by how much."""
    from tests.e2e.test_drift_cmd import plant_lease

    gpu = config("api", max_workers=4)
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", gpu)).code == 0
    checkout = tree(tmp_path / "main", gpu)
    console_min_workers(account, 2)
    project_id = next(t for t in account.server.http.get("/v2/templates").json()["templates"]
                      if t["name"].startswith("gpuctl-applied-"))["env"]["GPUCTL_PROJECT"]
    plant_lease(account, project_id, 72_000)
    opened = gha.run(DRIFT, schedule(checkout))
    assert opened.job("drift").status == "success", opened.job("drift").steps
    (issue,) = fake.real_issues()
    assert "gpuctl-lock-" in issue["body"] and "cannot be told" in issue["body"], issue["body"]
    assert re.search(r"\b(19|20)h\d\dm ahead", opened.job("drift").summary), opened.job("drift").summary
    writes = len(fake.writes())

    (lease,) = [t for t in account.server.http.get("/v2/templates").json()["templates"] if t["name"].startswith("gpuctl-lock-")]
    assert account.server.http.delete(f"/v2/templates/{lease['id']}").status_code in (200, 204)
    plant_lease(account, project_id, 50_000)  # the next night: the same holder, its expiry another span ahead
    again = gha.run(DRIFT, schedule(checkout))
    assert again.job("drift").status == "success", again.job("drift").steps
    assert again.job("drift").step("gpuctl").outputs["summary"] == f"gpu.jsonc: drift; unchanged issue #{issue['number']}"
    assert fake.writes()[writes:] == [], fake.writes()[writes:]
    assert re.search(r"\b13h\d\dm ahead", again.job("drift").summary), again.job("drift").summary


def test_an_endpoint_renamed_in_the_console_is_named_so_and_putting_the_account_back_renames_it_in_place(gha, fake, account, tmp_path):
    """Review 8, R8-1: `batch` renamed to `batch-x` in the console. The issue said `batch` was
    missing with "no last-applied record says whether it was deleted there or is new", and
    `batch-x` an orphan; its "put the account back" (the apply workflow with `replan`) then
    created a second `batch` beside the one clients call. The record says `batch-x` is `batch`:
    the issue names the rename, and following it renames the endpoint back, same id."""
    gpu = config("api", "batch")
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", gpu)).code == 0
    batch = next(e for e in account.endpoints() if e["name"] == "batch")
    assert account.server.http.patch(f"/v2/serverless/{batch['id']}", json={"name": "batch-x"}).status_code == 200
    checkout = tree(tmp_path / "main", gpu)

    run = gha.run(DRIFT, schedule(checkout))
    assert run.job("drift").status == "success", run.job("drift").steps
    (issue,) = fake.real_issues()
    body = " ".join(issue["body"].split())
    assert "no last-applied record says" not in body and "orphan" not in body.lower(), body
    ending = _ending(body)
    assert "**Renamed in the account**" in ending and f"<code>{batch['id']}</code>" in ending and "renames it to the block's name in place" in ending, ending
    assert "prune" not in ending and "gpu serverless delete" not in ending and "`replan`" in ending

    applied = gha.run(WORKFLOWS / "apply.yml", dispatch(MERGE, checkout, replan=True))  # "Put the account back", as the issue says
    assert applied.job("apply").status == "success", applied.job("apply").steps
    assert sorted((e["name"], e["id"]) for e in account.endpoints() if e["name"].startswith("batch")) == [("batch", batch["id"])]
    assert len(account.endpoints()) == 2
    closed = gha.run(DRIFT, schedule(checkout))
    assert closed.job("drift").step("gpuctl").outputs["summary"] == f"gpu.jsonc: in sync; closed issue #{issue['number']}"
