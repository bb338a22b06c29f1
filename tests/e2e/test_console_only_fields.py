"""Fields gpu.jsonc has no key for, which gpuctl sets at create (review 3, R10; ADR 36): GPUs
per worker (`gpu.count`), the container start command (`args`), the CUDA constraints, and
`ports` when `runpod.ports` is not written. A console edit of any of them is drift with its
cost, `deploy --plan` shows it, and `deploy -y` sets gpuctl's value again."""

from __future__ import annotations

import pytest

from gpuctl.catalog import load_catalog
from tests.e2e.conftest import echo_config, project

pytestmark = pytest.mark.e2e

CONSOLE = {"gpu": {"pools": ["ADA_24"], "count": 4, "allowedCudaVersions": ["11.8"]}, "args": "--evil", "ports": ["22/tcp"]}
PATHS = {"gpu.count": (1, 4), "args": ("", "--evil"), "gpu.allowedCudaVersions": ([], ["11.8"]), "ports": ([], ["22/tcp"])}


def test_console_edits_of_fields_gpu_jsonc_cannot_say_are_drift_and_deploy_restores_them(account, tmp_path):
    proj = project(tmp_path / "proj", echo_config(max_workers=2))
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    (endpoint,) = account.endpoints()
    assert (endpoint["gpu"]["count"], endpoint["args"], endpoint["gpu"]["allowedCudaVersions"], endpoint["ports"]) == (1, "", [], [])
    assert account.server.http.patch(f"/v2/serverless/{endpoint['id']}", json=CONSOLE).status_code == 200

    result = account.gpu("serverless", "drift", "--json", cwd=proj)
    assert result.code == 2, result.out + result.err
    doc = result.json()
    (entry,) = doc["drift"]
    seen = {c["path"]: (c["config"], c["account"], c["origin"]) for c in entry["changes"]}
    assert seen == {p: (*v, "account") for p, v in PATHS.items()}
    # Three more GPUs per worker, on each of the 2 workers at the pool's flex rate.
    flex = load_catalog().pools["ADA_24"].flex_usd_per_hour
    assert doc["cost_of_drift"]["worst_case_per_hour"] == pytest.approx(3 * 2 * flex, abs=1e-3)
    (part,) = doc["cost_of_drift"]["items"][0]["parts"]
    assert part["path"] == "gpu.count" and part["phrase"].startswith("the account raised gpu.count 1 → 4")

    text = account.gpu("serverless", "drift", cwd=proj)
    assert text.code == 2 and "In sync" not in text.out
    assert "gpu.count: changed in the account; gpu.jsonc has no key for it" in text.out, text.out

    plan = account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", "--json", cwd=proj)
    assert plan.code == 2, plan.err
    planned = plan.json()
    assert {c["path"] for c in planned["resource_changes"][0]["changes"]} == set(PATHS)
    assert planned["cost"]["delta"]["worst_case_per_hour"] == pytest.approx(-3 * 2 * flex, abs=1e-3)

    applied = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert applied.code == 0, applied.err
    (endpoint,) = account.endpoints()
    assert (endpoint["gpu"]["count"], endpoint["args"], endpoint["gpu"]["allowedCudaVersions"], endpoint["ports"]) == (1, "", [], [])
    assert account.gpu("serverless", "drift", cwd=proj).code == 0


def test_a_cuda_floor_set_in_the_console_is_drift_and_deploy_clears_it(account, tmp_path):
    proj = project(tmp_path / "proj", echo_config())
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    (endpoint,) = account.endpoints()
    assert account.server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"gpu": {"minCudaVersion": "12.8"}}).status_code == 200
    result = account.gpu("serverless", "drift", "--json", cwd=proj)
    assert result.code == 2, result.err
    assert [(c["path"], c["account"]) for c in result.json()["drift"][0]["changes"]] == [("gpu.minCudaVersion", "12.8")]
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    assert account.endpoints()[0]["gpu"]["minCudaVersion"] is None
    assert account.gpu("serverless", "drift", cwd=proj).code == 0
