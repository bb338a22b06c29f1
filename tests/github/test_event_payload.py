"""The event payload at GITHUB_EVENT_PATH is read like any input from outside: a field that is
missing, of another type, or not what GitHub writes there (a pull request number that is
`true`, negative or a string; a head SHA that is a path) is an error naming the field and the
file, before anything is asked of GitHub, never an internal error nor a comment on the wrong
pull request."""

from __future__ import annotations

import json

import pytest

from tests.github.conftest import REPO, TOKEN, config, tree

pytestmark = pytest.mark.e2e

SHA = "a" * 40


def _pull(number=7, head=None):
    return {"pull_request": {"number": number, "head": {"sha": SHA} if head is None else head}}


@pytest.mark.parametrize("event_name, payload, field", [
    ("pull_request", _pull(number="abc"), "pull_request.number"),
    ("pull_request", _pull(number=True), "pull_request.number"),  # json true is no pull request #1
    ("pull_request", _pull(number=-3), "pull_request.number"),
    ("pull_request", _pull(number=7.5), "pull_request.number"),
    ("pull_request", _pull(number=None), "pull_request.number"),
    ("pull_request", {"pull_request": {"number": 7}}, "pull_request.head.sha"),
    ("pull_request", _pull(head={"sha": None}), "pull_request.head.sha"),
    ("pull_request", _pull(head={"sha": "../../issues/1"}), "pull_request.head.sha"),
    ("pull_request", {"pull_request": "7"}, "pull_request.number"),
    ("pull_request_target", _pull(head=[]), "pull_request.head.sha"),
])
def test_an_odd_event_payload_is_named_and_nothing_is_asked_of_github(account, fake, tmp_path, event_name, payload, field):
    checkout = tree(tmp_path / "repo", config("api"))
    (tmp_path / "event.json").write_text(json.dumps(payload))
    github = {"GITHUB_EVENT_NAME": event_name, "GITHUB_EVENT_PATH": str(tmp_path / "event.json"), "GITHUB_API_URL": fake.url,
              "GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO, "GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    planned = account.gpu("github", "plan", "--plan-dir", "plans", cwd=checkout, env=github)
    assert planned.code == 1, planned.out + planned.err
    assert "internal error" not in planned.err and "Traceback" not in planned.err
    assert f"{tmp_path / 'event.json'}: {field} " in planned.err, planned.err
    assert "hint: " in planned.err
    assert fake.requests == []  # no comment anywhere, on pull request #1 or any other


@pytest.mark.parametrize("head_sha", [None, "HEAD", 12345, "a" * 39])
def test_a_workflow_run_payload_without_a_commit_is_named_before_the_pull_request_is_looked_up(account, fake, tmp_path, head_sha):
    checkout = tree(tmp_path / "repo", config("api"))
    (checkout / "pr-number").write_text("7\n")
    (tmp_path / "event.json").write_text(json.dumps({"workflow_run": {"id": 1, "head_sha": head_sha}}))
    github = {"GITHUB_EVENT_NAME": "workflow_run", "GITHUB_EVENT_PATH": str(tmp_path / "event.json"), "GITHUB_API_URL": fake.url,
              "GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO, "GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    planned = account.gpu("github", "plan", "--plan-dir", "plans", "--pr-file", "pr-number", cwd=checkout, env=github)
    assert planned.code == 1, planned.out + planned.err
    assert f"{tmp_path / 'event.json'}: workflow_run.head_sha " in planned.err and "internal error" not in planned.err, planned.err
    assert fake.requests == []


@pytest.mark.parametrize("repository", ["acme/ml-api/../../orgs/x", "acme", "acme/ml api", "acme/ml-api?x=1", "acme/..", "./ml-api",
                                        "acme/ml-api#x", "acme//ml-api", "acme/ml-api/", "acme/ml%2Fapi"])
def test_a_github_repository_that_is_not_owner_slash_name_is_named_and_nothing_is_asked_of_github(account, fake, tmp_path, repository):
    """Review 5, R5-12: GITHUB_REPOSITORY went into every request path as it was: `..` segments
    sent GET /repos/orgs/x/issues, `?x=1` turned /issues into a query (a write of that shape
    would PATCH the repository itself), and the error named a path never requested."""
    checkout = tree(tmp_path / "repo", config("api"))
    (tmp_path / "event.json").write_text(json.dumps({"schedule": "17 6 * * *"}))
    github = {"GITHUB_EVENT_NAME": "schedule", "GITHUB_EVENT_PATH": str(tmp_path / "event.json"), "GITHUB_API_URL": fake.url,
              "GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": repository, "GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    drift = account.gpu("github", "drift", "--config", "gpu.jsonc", "--provider", "local", cwd=checkout, env=github)
    assert drift.code == 1, drift.out + drift.err
    assert f"GITHUB_REPOSITORY is {json.dumps(repository)}, not a repository's owner/name" in drift.err, drift.err
    assert "such as acme/ml-api" in drift.err and "Traceback" not in drift.err
    assert fake.requests == []
