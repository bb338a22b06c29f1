"""Orphans are drift (issue 8, item 6): an owned endpoint that left gpu.jsonc keeps running and
billing, so the plan shows it with its cost, `--detailed-exitcode` exits 2, the Markdown plan
lists it, and an apply without `--prune` keeps it without calling the result inconsistent."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import echo_config, project

pytestmark = pytest.mark.e2e


def two_then_one(account, tmp_path):
    """Deploy `echo` and `extra`, then drop `extra` from gpu.jsonc."""
    both = echo_config()
    both["serverless"] = [both["serverless"], {**echo_config(name="extra")["serverless"]}]
    proj = project(tmp_path / "proj", both)
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj).code == 0
    (proj / "gpu.jsonc").write_text(json.dumps(echo_config()))
    return proj


def test_a_removed_block_is_an_orphan_and_drift(account, tmp_path):
    proj = two_then_one(account, tmp_path)
    result = account.gpu("serverless", "deploy", "--plan", "--provider", "local", "--detailed-exitcode", "--json", cwd=proj)
    assert result.code == 2, result.err
    doc = result.json()
    orphan = next(r for r in doc["resource_changes"] if r["name"] == "extra")
    assert orphan["action"] == "orphan" and orphan["id"]
    assert "--prune" in orphan["reason"] and "$" in orphan["reason"]
    assert not doc["has_changes"] and not doc["in_sync"] and doc["summary"]["orphan"] == 1

    text = account.gpu("serverless", "deploy", "--plan", "--provider", "local", cwd=proj).out
    assert "endpoint.extra" in text and "orphan" in text and "No changes. The account matches" not in text
    markdown = account.gpu("serverless", "deploy", "--plan", "--provider", "local", "--format", "markdown", cwd=proj).out
    assert "endpoint.extra" in markdown and "orphan" in markdown


def test_apply_without_prune_keeps_the_orphan_and_is_not_inconsistent(account, tmp_path):
    proj = two_then_one(account, tmp_path)
    (proj / "gpu.jsonc").write_text(json.dumps(echo_config(max_workers=3)))  # a real change beside the orphan
    result = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj)
    assert result.code == 0, result.err
    assert "inconsistent" not in result.err
    assert {e["name"] for e in account.endpoints()} == {"echo", "extra"}
    again = account.gpu("serverless", "deploy", "-y", "--provider", "local", "--detailed-exitcode", cwd=proj)
    assert again.code == 0 and "orphan" in again.out  # nothing applied; the orphan is still shown


def test_prune_deletes_the_orphan_and_then_the_account_is_in_sync(account, tmp_path):
    proj = two_then_one(account, tmp_path)
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", "--prune", cwd=proj).code == 0
    assert {e["name"] for e in account.endpoints()} == {"echo"}
    result = account.gpu("serverless", "deploy", "--plan", "--provider", "local", "--detailed-exitcode", cwd=proj)
    assert result.code == 0, result.out + result.err


def test_list_shows_the_projects_orphans_which_still_run_and_bill(account, tmp_path):
    """`list` was built from gpu.jsonc's blocks alone, so the project's endpoint that left
    gpu.jsonc, reported as an orphan by `deploy --plan` and drift, was missing from it, in text
    and in `--json` (review 3, R5); an endpoint of another project never is this project's."""
    proj = two_then_one(account, tmp_path)
    other = project(tmp_path / "other", echo_config(name="theirs", project_id="someone-else"))
    assert account.gpu("serverless", "deploy", "-y", cwd=other).code == 0
    extra = next(e for e in account.endpoints() if e["name"] == "extra")
    listed = account.gpu("serverless", "list", "--json", cwd=proj)
    assert listed.code == 0, listed.err
    rows = {r["name"]: r for r in listed.json()["endpoints"]}
    assert set(rows) == {"echo", "extra"}, rows
    assert (rows["extra"]["state"], rows["extra"]["id"]) == ("orphan", extra["id"]) and "deploy --prune deletes it" in rows["extra"]["note"]
    text = account.gpu("serverless", "list", cwd=proj, env={"COLUMNS": "300"})
    line = next(line for line in text.out.splitlines() if line.startswith("extra"))
    assert extra["id"] in line and "orphan (not in gpu.jsonc, still running; deploy --prune deletes it)" in line, text.out
