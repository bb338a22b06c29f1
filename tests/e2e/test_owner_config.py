"""Two gpu.jsonc of one project (review 3, R8; ADR 35): a gpu.jsonc copied to a second service's
directory keeps the project_id, so each config took the other's live endpoints for its own
orphans: `deploy --prune` deleted them and drift advised pruning them every night. The
last-applied record now says which gpu.jsonc applied an endpoint (its path from the repository
root), and an endpoint last applied from another gpu.jsonc is kept, with a note naming it."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import echo_config, project

pytestmark = pytest.mark.e2e


def monorepo(account, tmp_path):
    """A repository with a/gpu.jsonc (endpoint ma) and b/gpu.jsonc (endpoint mb), both of project
    "mono", each deployed from its own directory."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    a = project(repo / "a", echo_config(name="ma", project_id="mono"), {"handler.py": ""})
    b = project(repo / "b", echo_config(name="mb", project_id="mono"), {"handler.py": ""})
    for d in (a, b):
        done = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=d)
        assert done.code == 0, done.err
    return a, b


def test_prune_keeps_an_endpoint_another_gpu_jsonc_of_the_project_applied(account, tmp_path):
    a, b = monorepo(account, tmp_path)
    planned = account.gpu("serverless", "deploy", "--plan", "--prune", "--json", "--provider", "local", cwd=a)
    assert planned.code == 0, planned.err
    doc = planned.json()
    mb = next(r for r in doc["resource_changes"] if r["name"] == "mb")
    assert mb["action"] == "no-op" and not mb.get("drift"), mb
    assert "applied from b/gpu.jsonc" in mb["reason"] and "same project_id" in mb["reason"], mb
    assert doc["summary"].get("delete", 0) == 0 and doc["summary"].get("orphan", 0) == 0, doc["summary"]
    assert any(n["address"] == "endpoint.mb" and "b/gpu.jsonc" in n["message"] for n in doc["notes"]), doc["notes"]

    applied = account.gpu("serverless", "deploy", "-y", "--prune", "--provider", "local", cwd=a)
    assert applied.code == 0, applied.err
    assert {e["name"] for e in account.endpoints()} == {"ma", "mb"}
    text = account.gpu("serverless", "deploy", "--plan", "--prune", "--provider", "local", cwd=b).out
    assert "applied from a/gpu.jsonc" in text and "will be deleted" not in text, text


def test_drift_does_not_advise_pruning_another_gpu_jsonc_s_endpoint(account, tmp_path):
    a, _ = monorepo(account, tmp_path)
    result = account.gpu("serverless", "drift", "--provider", "local", cwd=a)
    assert result.code == 0, result.out + result.err
    assert "--prune" not in result.out and "orphan" not in result.out, result.out


def test_an_endpoint_this_gpu_jsonc_applied_is_still_its_orphan(account, tmp_path):
    """The record names this gpu.jsonc, so a block removed from it is an orphan as before, and
    --prune deletes it."""
    a, _ = monorepo(account, tmp_path)
    both = echo_config(name="ma", project_id="mono")
    both["serverless"] = [both["serverless"], echo_config(name="mc", project_id="mono")["serverless"]]
    (a / "gpu.jsonc").write_text(json.dumps(both))
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=a).code == 0
    (a / "gpu.jsonc").write_text(json.dumps(echo_config(name="ma", project_id="mono")))
    result = account.gpu("serverless", "deploy", "-y", "--prune", "--provider", "local", cwd=a)
    assert result.code == 0, result.err
    assert {e["name"] for e in account.endpoints()} == {"ma", "mb"}
