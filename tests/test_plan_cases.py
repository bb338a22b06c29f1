"""Data-driven plan cases: fixtures/plans/<case>/ holds gpu.jsonc, observed.json (a RunPod v2
snapshot), case.json (args, env, expected exit code) and the golden renders."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, golden, run_cli

CASES = sorted(p for p in (FIXTURES / "plans").iterdir() if p.is_dir())


def _run(case: Path, fmt: str):
    spec = json.loads((case / "case.json").read_text())
    args = ["serverless", "deploy", "--plan", "--observed", "observed.json", "--provider", "runpod",
            "--detailed-exitcode", "--format", fmt, *spec["args"]]
    return spec, run_cli(args, cwd=case, env=spec["env"])


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_plan_json_golden(case: Path):
    spec, result = _run(case, "json")
    assert result.code == spec["exit"], result.err
    if result.code == 1:
        golden(case / "expected.err", result.err)
        assert "Traceback" not in result.err
        return
    golden(case / "expected.json", result.out)


@pytest.mark.parametrize("case", [c for c in CASES if json.loads((c / "case.json").read_text())["exit"] != 1], ids=lambda c: c.name)
def test_plan_text_golden(case: Path):
    spec, result = _run(case, "text")
    assert result.code == spec["exit"], result.err
    golden(case / "expected.txt", result.out)


@pytest.mark.parametrize("case", [c for c in CASES if c.name.endswith("-nochange")], ids=lambda c: c.name)
def test_matching_account_has_no_changes(case: Path):
    _, result = _run(case, "text")
    assert result.code == 0
    assert "No changes." in result.out
    assert "will be" not in result.out


@pytest.mark.parametrize("case", [c for c in CASES if c.name.endswith("-create")], ids=lambda c: c.name)
def test_empty_account_creates_every_configured_value(case: Path):
    """Every value written in gpu.jsonc reaches its RunPod v2 field in the create."""
    _, result = _run(case, "json")
    doc = json.loads(result.out)
    assert {r["action"] for r in doc["resource_changes"]} == {"create"}
    config = json.loads("\n".join((case / "gpu.jsonc").read_text().splitlines()[1:]))
    blocks = config["serverless"] if isinstance(config["serverless"], list) else [config["serverless"]]
    endpoints = {r["name"]: r["desired"] for r in doc["resource_changes"] if r["kind"] == "endpoint"}
    for block in blocks:
        body = endpoints[block.get("name", config["project_id"])]
        _assert_mapped(block, body, doc)


def _assert_mapped(block: dict, body: dict, doc: dict) -> None:
    scaling, runpod = block.get("scaling", {}), block.get("runpod", {})
    for key, field in (("min_workers", "min"), ("max_workers", "max")):
        if key in scaling:
            assert body["workers"][field] == scaling[key]
    if "idle_timeout" in scaling and runpod.get("scaler_type") != "request_count":
        assert body["workers"]["idleTimeout"] == scaling["idle_timeout"]
    if "flashboot" in runpod:
        assert body["flashboot"] == ("FLASHBOOT" if runpod["flashboot"] else "OFF")
    if "scaler_value" in runpod:
        assert runpod["scaler_value"] in body["scaling"].values()
    if "execution_timeout_ms" in runpod:
        assert body["timeout"] == runpod["execution_timeout_ms"]
    if "container_disk_gb" in runpod:
        assert body["disk"] == runpod["container_disk_gb"]
    if "data_center_ids" in runpod:
        assert sorted(body["dataCenterIds"]) == sorted(runpod["data_center_ids"])
    if "image_name" in runpod:
        assert body["image"] == runpod["image_name"]
    if "ports" in runpod:
        assert body["ports"] == runpod["ports"]
    if "cached_model" in runpod:
        assert body["modelReferences"] == [f"https://huggingface.co/{runpod['cached_model'].split(':')[0]}:main"]
    for key, value in runpod.get("env", {}).items():
        shown = body["env"][key]
        named = re.findall(r"\$\{(\w+)\}", value) if isinstance(value, str) else []
        secret = {"secret": value["secret"]} if isinstance(value, dict) else {}  # a RunPod secret reference is named, its value never shown
        assert shown == ({"sensitive": True} | ({"from": named} if named else {}) | secret if isinstance(value, dict) or named else value)
    gpus = [block["gpu_type"], *block.get("gpu_types", [])]
    assert body["gpu"]["pools"], gpus
    if "volume" in block:
        volume = next(r for r in doc["resource_changes"] if r["kind"] == "network_volume" and r["name"] == block["volume"]["name"])
        assert body["networkVolumes"] == [{"unknown": f"{volume['address']}.id"}]
        if "size_gb" in block["volume"]:
            assert volume["desired"]["size"] == block["volume"]["size_gb"]


@pytest.mark.parametrize("case", ["seed-full-create", "seed-full-nochange"])
def test_a_volume_in_one_of_several_data_centers_says_the_others_go_unused(case: str):
    """The seed's Full Configuration lists data_center_ids US-TX-3 and CA-MTL-1 and attaches a
    network volume: the volume lives in US-TX-3 and keeps the endpoint's workers there, so
    CA-MTL-1 is never used. The unset-data-center case warned about this; this one did not."""
    _, result = _run(FIXTURES / "plans" / case, "json")
    warnings = [w for w in json.loads(result.out)["warnings"] if w["code"] == "volume-confines-workers"]
    assert len(warnings) == 1, json.loads(result.out)["warnings"]
    (warning,) = warnings
    assert warning["address"] == "endpoint.full-config"
    assert "US-TX-3" in warning["message"] and "CA-MTL-1" in warning["message"] and "data_center_ids" in warning["message"]
