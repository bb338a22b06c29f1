"""The plan a reviewer reads: cost before → after (delta) per endpoint and in total, in JSON,
text and Markdown; small plans open, large ones folded per resource; warnings said once."""

from __future__ import annotations

import json
import shutil

import pytest

from gpuctl.catalog import load_catalog
from gpuctl.render.markdown import OPEN_LINES, OPEN_RESOURCES, render_markdown
from tests.conftest import FIXTURES

CASE = FIXTURES / "plans" / "recipe-whisper-nochange"  # one RTX 4090 endpoint (pool ADA_24), 0..3 workers
PLAN = ["serverless", "deploy", "--plan", "--observed", "observed.json", "--provider", "runpod"]
ADA_24 = load_catalog().pools["ADA_24"]


@pytest.fixture
def project(tmp_path):
    for name in ("gpu.jsonc", "observed.json"):
        shutil.copy(CASE / name, tmp_path / name)
    return tmp_path


def _doc(cli, project, *args) -> dict:
    result = cli([*PLAN, "--json", *args], project)
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_raising_min_workers_costs_the_active_rate_before_and_after(cli, project):
    doc = _doc(cli, project, "--min-workers", "2")
    (item,) = doc["cost"]["items"]
    assert item["before"] == {"always_on_per_hour": 0.0, "worst_case_per_hour": round(3 * ADA_24.flex_usd_per_hour, 4)}
    assert item["always_on_per_hour"] == round(2 * ADA_24.active_usd_per_hour, 4)
    assert item["delta"]["always_on_per_hour"] == round(2 * ADA_24.active_usd_per_hour, 4)
    assert doc["cost"]["before"] == item["before"] and doc["cost"]["delta"] == item["delta"]
    md = cli([*PLAN, "--format", "markdown", "--min-workers", "2"], project).out
    after = f"${2 * ADA_24.active_usd_per_hour:,.2f}/h"
    assert f"| `endpoint.transcribe` | $0.00/h → {after} (+{after}) |" in md
    assert f"| **total** | $0.00/h → {after} (+{after}) |" in md
    text = cli([*PLAN, "--min-workers", "2"], project).out
    assert f"  always-on  $0.00/h → {after} (+{after})" in text


def test_an_endpoint_in_sync_costs_the_same_before_and_after(cli, project):
    doc = _doc(cli, project)
    assert doc["cost"]["delta"] == {"always_on_per_hour": 0.0, "worst_case_per_hour": 0.0}
    assert doc["cost"]["before"]["worst_case_per_hour"] == doc["cost"]["worst_case_per_hour"] > 0
    assert "worst case $3.35/h (unchanged)" in cli(PLAN, project).out


def test_a_create_costs_nothing_before_and_a_delete_nothing_after(cli, project):
    (project / "observed.json").write_text("{}")
    (item,) = _doc(cli, project)["cost"]["items"]
    assert item["before"] == {"always_on_per_hour": 0.0, "worst_case_per_hour": 0.0} and item["worst_case_per_hour"] > 0
    (project / "gpu.jsonc").write_text('{"project_id": "transcribe", "serverless": {"name": "other", "template": "whisper", "gpu_type": "NVIDIA L4"}}')
    shutil.copy(CASE / "observed.json", project / "observed.json")
    items = {i["address"]: i for i in _doc(cli, project, "--prune")["cost"]["items"]}
    gone = items["endpoint.transcribe"]
    assert gone["always_on_per_hour"] == gone["worst_case_per_hour"] == 0.0
    assert gone["delta"]["worst_case_per_hour"] == -gone["before"]["worst_case_per_hour"] < 0
    orphan = {i["address"]: i for i in _doc(cli, project)["cost"]["items"]}["endpoint.transcribe"]
    assert orphan["worst_case_per_hour"] == orphan["before"]["worst_case_per_hour"] > 0, "an orphan keeps billing after apply"


def _blocks(n: int) -> str:
    return json.dumps({"project_id": "many", "serverless": [{"name": f"e{i}", "template": "whisper", "gpu_type": "NVIDIA L4"} for i in range(n)]})


def test_a_small_plan_is_open_and_a_large_one_folds_each_endpoint(cli, tmp_path):
    (tmp_path / "observed.json").write_text("{}")
    (tmp_path / "gpu.jsonc").write_text(_blocks(2))
    small = cli([*PLAN, "--format", "markdown"], tmp_path).out
    assert small.count("<details open>") == 2 and "<details>" not in small
    (tmp_path / "gpu.jsonc").write_text(_blocks(OPEN_RESOURCES + 1))
    large = cli([*PLAN, "--format", "markdown"], tmp_path).out
    assert large.count("<details>") == OPEN_RESOURCES + 1 and "<details open>" not in large
    assert large.index("| **total** |") < large.index("<details>"), "the cost comes before the folded resources"


def test_many_field_lines_fold_even_a_plan_of_one_endpoint(cli, tmp_path):
    env = {f"K{i}": "v" for i in range(OPEN_LINES)}
    (tmp_path / "gpu.jsonc").write_text(json.dumps({"project_id": "p", "serverless": {"name": "e", "template": "whisper", "gpu_type": "NVIDIA L4", "runpod": {"env": env}}}))
    (tmp_path / "observed.json").write_text("{}")
    md = cli([*PLAN, "--format", "markdown"], tmp_path).out
    assert md.count("<details>") == 1 and "<details open>" not in md


def test_a_warning_shared_by_endpoints_is_said_once():
    shared = "the same thing is wrong"
    doc = {"project_id": "p", "provider": "runpod", "config": "gpu.jsonc", "has_changes": False, "in_sync": True, "overrides": [], "notes": [],
           "summary": {"create": 0, "update": 0, "replace": 0, "delete": 0, "orphan": 0}, "resource_changes": [],
           "warnings": [{"code": "x", "address": "endpoint.a", "message": shared}, {"code": "x", "address": "endpoint.b", "message": shared},
                        {"code": "y", "address": "", "message": "plan-wide"}],
           "cost": {"currency": "USD", "always_on_per_hour": 0.0, "worst_case_per_hour": 0.0, "complete": True, "items": []}}
    md = render_markdown(doc)
    assert md.count(shared) == 1 and f"- ⚠️ `endpoint.a`, `endpoint.b`: {shared}" in md
    assert "- ⚠️ plan-wide" in md


def test_origin_labels_stay_in_the_markdown(cli):
    case = FIXTURES / "plans" / "drift-origins"
    md = cli([*PLAN, "--format", "markdown"], case, env=json.loads((case / "case.json").read_text())["env"]).out
    assert "# changed in the account" in md and "# changed in gpu.jsonc" in md


def test_a_preserved_volume_keeps_costing_its_storage_before_and_after(cli, tmp_path):
    """A volume nothing attaches any more is never deleted: it stays billed, so the totals
    count it on both sides (as an orphan endpoint), not as if it had gone."""
    case = FIXTURES / "plans" / "recipe-comfyui-flux-nochange"  # 200 GB volume attached to the endpoint
    shutil.copy(case / "observed.json", tmp_path / "observed.json")
    config = (case / "gpu.jsonc").read_text()
    (tmp_path / "gpu.jsonc").write_text(config.replace('"volume": {\n      "name": "comfyui-models",\n      "size_gb": 200\n    },', "").replace('"mode": "cpu"', '"mode": "gpu"'))
    result = cli([*PLAN, "--json"], tmp_path)
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert [c["action"] for c in doc["resource_changes"] if c["kind"] == "network_volume"] == ["preserve"]
    storage = round(200 * 0.07 / 730, 4)
    (item,) = [i for i in doc["cost"]["items"] if i["address"].startswith("network_volume.")]
    assert item["always_on_per_hour"] == item["before"]["always_on_per_hour"] == storage
    assert item["delta"]["always_on_per_hour"] == 0.0 and "kept" in item["basis"]
    endpoints = sum(i["always_on_per_hour"] for i in doc["cost"]["items"] if i["address"].startswith("endpoint."))
    assert doc["cost"]["always_on_per_hour"] == round(endpoints + storage, 4)
