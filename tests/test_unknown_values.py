"""A `${VAR}` that a plan-only run does not have (ADR 24): the plan shows the value as
`(from $VAR, unknown in this run)` as a possible change, never as in sync and never with the
live value; deploy without --plan still fails with the located error. And the `${VAR}`
pattern has one definition (gpuctl/config/references.py)."""

from __future__ import annotations

import json

import pytest

from gpuctl.config import references
from tests.conftest import FIXTURES

CASE = FIXTURES / "plans" / "recipe-whisper-nochange"
PLAN = ["serverless", "deploy", "--plan", "--observed", "observed.json", "--provider", "runpod"]
LIVE_SECRET = "live_value_canary_7c21"
SET_SECRET = "set_value_canary_90ab"
MARKER = "(from $API_TOKEN, unknown in this run)"


def _config(env: dict) -> str:
    return json.dumps({"project_id": "transcribe", "serverless": {"template": "whisper", "gpu_type": "NVIDIA GeForce RTX 4090",
                                                                  "scaling": {"min_workers": 0, "max_workers": 3, "idle_timeout": 5}, "runpod": {"env": env}}})


@pytest.fixture
def project(tmp_path):
    """The whisper recipe in sync with its account, whose endpoint holds API_TOKEN in clear."""
    observed = json.loads((CASE / "observed.json").read_text())
    observed["endpoints"][0]["env"]["API_TOKEN"] = LIVE_SECRET
    (tmp_path / "observed.json").write_text(json.dumps(observed))
    (tmp_path / "gpu.jsonc").write_text(_config({"API_TOKEN": "${API_TOKEN}"}))
    return tmp_path


def test_an_unset_variable_plans_as_a_possible_change(cli, project):
    result = cli([*PLAN, "--detailed-exitcode"], project)
    assert result.code == 2, result.err  # a possible change, never "No changes"
    assert f"~ env.API_TOKEN = (sensitive) → {MARKER}" in result.out
    assert "1 env value is unknown in this run and may differ" in result.out
    assert cli([*PLAN, "--detailed-exitcode"], project, env={"API_TOKEN": LIVE_SECRET}).code == 0, "with the variable set, the same value is in sync"


def test_json_and_markdown_carry_the_unknown_value(cli, project):
    doc = json.loads(cli([*PLAN, "--json"], project).out)
    (resource,) = doc["resource_changes"]
    (change,) = resource["changes"]
    assert resource["action"] == "update" and change["after"] == {"unknown_from": ["API_TOKEN"]} and change["before"] == {"sensitive": True}
    assert resource["desired"]["env"]["API_TOKEN"] == {"unknown_from": ["API_TOKEN"]}
    assert [w["code"] for w in doc["warnings"]] == ["unset-variables"]
    md = cli([*PLAN, "--format", "markdown"], project).out
    assert f"~ env.API_TOKEN = (sensitive) → {MARKER}" in md


def test_the_live_value_and_a_set_variable_never_show(cli, project):
    (project / "gpu.jsonc").write_text(_config({"API_TOKEN": "${API_TOKEN}", "MIXED": "${SET_ONE}:${API_TOKEN}", "ONLY_SET": "${SET_ONE}"}))
    for fmt in ("text", "json", "markdown"):
        result = cli([*PLAN, "--format", fmt], project, env={"SET_ONE": SET_SECRET})
        assert result.code == 0, result.err
        assert LIVE_SECRET not in result.out + result.err and SET_SECRET not in result.out + result.err
    doc = json.loads(cli([*PLAN, "--json"], project, env={"SET_ONE": SET_SECRET}).out)
    changes = {c["path"]: c["after"] for c in doc["resource_changes"][0]["changes"]}
    assert changes["env.MIXED"] == {"unknown_from": ["API_TOKEN"]}, "only the unset variable is named"
    assert changes["env.ONLY_SET"] == {"sensitive": True, "from": ["SET_ONE"]}, "a set variable is named, its value never shown"


def test_the_warning_is_said_once_for_every_endpoint(cli, tmp_path):
    blocks = [{"name": f"e{i}", "template": "whisper", "gpu_type": "NVIDIA L4", "runpod": {"env": {"T": "${API_TOKEN}"}}} for i in range(3)]
    (tmp_path / "gpu.jsonc").write_text(json.dumps({"project_id": "p", "serverless": blocks}))
    (tmp_path / "observed.json").write_text("{}")
    result = cli(PLAN, tmp_path)
    assert result.code == 0 and result.out.count("API_TOKEN is not set in this run") == 1 and result.out.count(MARKER) == 3


def test_deploy_without_plan_still_needs_the_variable(cli, project):
    result = cli(["serverless", "deploy", "--provider", "runpod"], project)
    assert result.code == 1 and "serverless.runpod.env.API_TOKEN: environment variable API_TOKEN is not set" in result.err
    assert "export API_TOKEN=" in result.err and LIVE_SECRET not in result.err


def test_drift_still_needs_the_variable(cli, project):
    """drift judges the account: an unknown value would report drift that is not there."""
    result = cli(["serverless", "drift", "--observed", "observed.json", "--provider", "runpod"], project)
    assert result.code == 1 and "environment variable API_TOKEN is not set" in result.err


def test_one_definition_of_the_pattern():
    assert references.names("a ${A} b ${B_2} ${unclosed") == ["A", "B_2"]
    assert list(references.scan("${X}${Y")) == [("X", True), ("Y", False)]
    assert references.substitute("Bearer ${A}:${B}", {"A": "1", "B": "2"}) == "Bearer 1:2"
    assert references.names({"secret": "x"}) == []


def test_drift_names_every_unset_variable_of_every_block_in_one_error(cli, tmp_path):
    """Two blocks, and a value reading two unset variables: one run names all three, each at
    its place, instead of the first block's first and then the next on the next run."""
    blocks = [{"name": "a", "template": "whisper", "gpu_type": "NVIDIA L4", "runpod": {"env": {"T": "${FIRST_TOKEN}"}}},
              {"name": "b", "template": "whisper", "gpu_type": "NVIDIA L4", "runpod": {"env": {"U": "${SECOND_TOKEN}:${THIRD_TOKEN}"}}}]
    (tmp_path / "gpu.jsonc").write_text(json.dumps({"project_id": "p", "serverless": blocks}, indent=1))
    (tmp_path / "observed.json").write_text("{}")
    result = cli(["serverless", "drift", "--observed", "observed.json", "--provider", "runpod"], tmp_path)
    assert result.code == 1 and "Traceback" not in result.err
    for name, key in (("FIRST_TOKEN", "serverless[0].runpod.env.T"), ("SECOND_TOKEN", "serverless[1].runpod.env.U"), ("THIRD_TOKEN", "serverless[1].runpod.env.U")):
        assert f"{key}: environment variable {name} is not set" in result.err, result.err
