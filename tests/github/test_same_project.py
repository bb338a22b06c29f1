"""`gpu github plan|apply|drift` over several configs refuse two of one project (review 3, R8;
ADR 35): a gpu.jsonc copied to a second service's directory kept its project_id, and one
`gpu github plan --prune` over both planned to delete each config's endpoints from the other."""

from __future__ import annotations

import pytest

from tests.github.conftest import config, tree


@pytest.mark.parametrize("command", [("plan", "--no-comment", "--prune"), ("apply", "--no-comment", "--replan", "--prune"), ("drift", "--no-issue")])
def test_two_configs_of_one_project_are_refused_naming_both(account, tmp_path, command):
    repo = tmp_path / "repo"
    tree(repo / "a", config("ma", project_id="mono"))
    tree(repo / "b", config("mb", project_id="mono"))
    for d in ("a", "b"):
        assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=repo / d).code == 0
    github = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"), "GITHUB_WORKSPACE": str(repo)}
    result = account.gpu("github", *command, "--provider", "local", "--config", "a/gpu.jsonc", "--config", "b/gpu.jsonc", cwd=repo, env=github)
    assert result.code == 1, result.out + result.err
    assert "Traceback" not in result.err
    assert 'a/gpu.jsonc and b/gpu.jsonc both declare "project_id": "mono"' in result.err, result.err
    assert "a/gpu.jsonc:2:3: project_id" in result.err and "b/gpu.jsonc:2:3: project_id" in result.err, result.err  # where each says it
    assert 'give each gpu.jsonc its own "project_id"' in result.err, result.err
    assert "will be deleted" not in result.out + result.err
    assert {e["name"] for e in account.endpoints()} == {"ma", "mb"}


def test_one_config_listed_twice_is_not_two(account, tmp_path):
    repo = tree(tmp_path / "repo", config("api"))
    github = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    result = account.gpu("github", "plan", "--no-comment", "--provider", "local", "--config", "gpu.jsonc", "--config", "./gpu.jsonc", cwd=repo, env=github)
    assert result.code == 0, result.err
    assert "both declare" not in result.err
