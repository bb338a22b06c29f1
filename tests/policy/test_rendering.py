"""Every rendering of the plan shows the policy's verdict: text, Markdown (PR comments and the
job summary) and JSON, each from `deploy --plan --observed` as a user runs it; without a policy
none of them has a policy section."""

from __future__ import annotations

import json

import jsonschema
import pytest

from gpuctl.render.markdown import render_markdown
from tests.conftest import ROOT
from tests.policy.support import block, config, where

PLAN = ["serverless", "deploy", "--plan", "--observed", "observed.json", "--provider", "runpod"]
VIOLATION = "endpoint.api: serverless.scaling.max_workers: max_workers is 3; the policy allows at most 2"
MAX = '"max_workers": 3'  # where the violating value is written
SCHEMA = json.loads((ROOT / "schema" / "plan.schema.json").read_text())


@pytest.fixture
def project(tmp_path):
    (tmp_path / "observed.json").write_text('{"endpoints": [], "networkVolumes": [], "templates": []}')
    (tmp_path / "gpu.jsonc").write_text(json.dumps(config(block(max_workers=3), policy={"max_max_workers": 2}), indent=2))
    return tmp_path


def at(project, needle: str) -> str:
    return where(project / "gpu.jsonc", needle)


def test_text(cli, project):
    result = cli([*PLAN], project)
    assert result.code == 4
    assert "Policy (gpu.jsonc): 1 violation; deploy refuses this plan (exit 4)" in result.out
    assert f"  x {at(project, MAX)}: {VIOLATION} [max_max_workers, gpu.jsonc]" in result.out
    assert "error: the plan breaks 1 policy rule; deploy refuses to apply it" in result.err


def test_markdown(cli, project):
    result = cli([*PLAN, "--format", "markdown"], project)
    assert result.code == 4
    assert "**⛔ Policy (gpu.jsonc): 1 violation; deploy refuses this plan (exit 4)**" in result.out
    assert f"- `max_max_workers`: {at(project, MAX)}: {VIOLATION} [max_max_workers, gpu.jsonc]" in result.out
    assert result.out.index("Policy (gpu.jsonc)") < result.out.index("<details")  # above the resources (open or folded), where a reviewer starts


def test_json(cli, project):
    result = cli([*PLAN, "--json"], project)
    assert result.code == 4
    doc = json.loads(result.out)
    jsonschema.validate(doc, SCHEMA)
    assert doc["policy"] == {"sources": ["gpu.jsonc"], "violations": [{"rule": "max_max_workers", "endpoint": "endpoint.api",
                             "path": "serverless.scaling.max_workers", "message": "max_workers is 3; the policy allows at most 2", "source": "gpu.jsonc",
                             "where": at(project, MAX)}]}


def test_a_kept_policy_is_one_line_and_exits_as_plans_do(cli, project):
    (project / "gpu.jsonc").write_text(json.dumps(config(block(max_workers=2), policy={"max_max_workers": 2})))
    result = cli([*PLAN, "--detailed-exitcode"], project)
    assert result.code == 2, result.err
    assert "Policy (gpu.jsonc): passed" in result.out
    assert "**✅ Policy (gpu.jsonc): passed**" in cli([*PLAN, "--format", "markdown"], project).out
    assert json.loads(cli([*PLAN, "--json"], project).out)["policy"] == {"sources": ["gpu.jsonc"], "violations": []}


def test_without_a_policy_nothing_is_added(cli, project):
    (project / "gpu.jsonc").write_text(json.dumps(config(block())))
    doc = json.loads(cli([*PLAN, "--json"], project).out)
    assert "policy" not in doc
    assert "Policy" not in render_markdown(doc) and "Policy" not in cli([*PLAN], project).out


def test_markdown_escapes_what_the_account_or_config_could_inject(cli, project):
    doc = json.loads(cli([*PLAN, "--json"], project).out)
    doc["policy"]["violations"][0]["message"] = "<img src=x> `code` *bold*"
    text = render_markdown(doc)
    assert "&lt;img src=x&gt;" in text and "`code`" not in text and "\\*bold\\*" in text
