"""What `gpu github` publishes of a plan document (review 11, F4): R11-7 made the pages (comment,
job summary, drift issue, job log) name another repository only when it has this repository's
owner, but the plan file saved for the plan artifact (30 days, downloadable on a public
repository) still named it: in the kept endpoint's note and in its reason. Everything of the
document gpu github writes now goes through one filter (`document.published`); the reviewed plan
it saves still applies, and the terminal keeps the whole name."""

from __future__ import annotations

import json

import pytest

from gpuctl.author import ANOTHER_REPOSITORY
from tests.e2e.conftest import echo_config
from tests.e2e.test_other_repository import SHA_A, SHA_B, actions, repository

pytestmark = pytest.mark.e2e

SECRET = "secret-group/acquisition-target"  # a repository of another owner: a laptop's private remote, say


def _repositories(account, tmp_path, theirs: str):
    """Repository `theirs` applied endpoint svc-a of project f4; repository acme/b (svc-b, the same
    project_id) has not applied yet."""
    a = repository(tmp_path, "a", echo_config(name="svc-a", project_id="f4"))
    b = repository(tmp_path, "b", echo_config(name="svc-b", project_id="f4"))
    done = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=a, env=actions(theirs, SHA_A))
    assert done.code == 0, done.err
    return b


def _github(tmp_path) -> dict[str, str]:
    return actions("acme/b", SHA_B) | {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}


def test_the_plan_artifact_names_another_repository_only_of_this_repositorys_owner(account, tmp_path):
    b = _repositories(account, tmp_path, SECRET)
    planned = account.gpu("github", "plan", "--no-comment", "--prune", "--provider", "local", "--plan-dir", "plans", cwd=b, env=_github(tmp_path))
    assert planned.code == 0, planned.out + planned.err
    saved = (b / "plans" / "gpu.jsonc.plan.json").read_text()
    doc = json.loads(saved)
    [kept] = [r for r in doc["resource_changes"] if r["address"] == "endpoint.svc-a"]
    [note] = [n for n in doc["notes"] if n["address"] == "endpoint.svc-a"]
    assert kept["action"] == "no-op" and note["code"] == "other-config", saved
    assert "secret-group" not in saved and "acquisition-target" not in saved, saved
    assert f"of repository {ANOTHER_REPOSITORY}" not in saved and ANOTHER_REPOSITORY in kept["reason"] and ANOTHER_REPOSITORY in note["message"], saved
    for text in ((tmp_path / "summary").read_text(), planned.out, planned.err):
        assert "secret-group" not in text, text

    terminal = account.gpu("serverless", "deploy", "--plan", "--prune", "--json", "--provider", "local", cwd=b, env=actions("acme/b", SHA_B))
    assert f"of repository github.com:{SECRET}" in terminal.out, terminal.out  # the account owner's terminal keeps the whole name


def test_the_plan_artifact_keeps_a_repository_of_this_repositorys_owner(account, tmp_path):
    b = _repositories(account, tmp_path, "ACME/a")
    planned = account.gpu("github", "plan", "--no-comment", "--prune", "--provider", "local", "--plan-dir", "plans", cwd=b, env=_github(tmp_path))
    assert planned.code == 0, planned.out + planned.err
    saved = (b / "plans" / "gpu.jsonc.plan.json").read_text()
    assert "of repository github.com:ACME/a" in saved and ANOTHER_REPOSITORY not in saved, saved


def test_the_reviewed_plan_saved_so_is_applied(account, tmp_path):
    """The saved plan's reason differs from a fresh plan's (the fresh one names the repository):
    still the reviewed plan, applied, and the other repository's endpoint is kept."""
    b = _repositories(account, tmp_path, SECRET)
    github = _github(tmp_path)
    planned = account.gpu("github", "plan", "--no-comment", "--prune", "--provider", "local", "--plan-dir", "plans", cwd=b, env=github)
    assert planned.code == 0, planned.out + planned.err
    applied = account.gpu("github", "apply", "--no-comment", "--prune", "--provider", "local", "--plan-dir", "plans", cwd=b, env=github)
    assert applied.code == 0, applied.out + applied.err
    assert {e["name"] for e in account.endpoints()} == {"svc-a", "svc-b"}
    assert "secret-group" not in applied.out + applied.err + (tmp_path / "summary").read_text()

    saved = tmp_path / "saved.json"
    assert account.gpu("serverless", "deploy", "--plan", "--prune", "--out", str(saved), "--provider", "local", cwd=b, env=github).code == 0
    text = saved.read_text().replace(SECRET, ANOTHER_REPOSITORY)  # as a plan artifact downloaded to a laptop has it
    assert text != saved.read_text()
    saved.write_text(text)
    again = account.gpu("serverless", "deploy", "--from-plan", str(saved), "--prune", "-y", "--provider", "local", cwd=b, env=github)
    assert again.code == 0, again.out + again.err


def test_apply_with_replan_applies_its_own_published_plan(account, tmp_path):
    """`apply --replan` saves the fresh plan as gpu github publishes it, then applies that file."""
    b = _repositories(account, tmp_path, SECRET)
    applied = account.gpu("github", "apply", "--no-comment", "--replan", "--prune", "--provider", "local", cwd=b, env=_github(tmp_path))
    assert applied.code == 0, applied.out + applied.err
    assert {e["name"] for e in account.endpoints()} == {"svc-a", "svc-b"}
