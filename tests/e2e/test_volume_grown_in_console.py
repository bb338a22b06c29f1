"""A network volume grown in the console (the 2 a.m. "disk full" fix) no longer blocks every plan
and apply of the project (review 3, R12): the plan keeps the volume at its live size, a no-op
with a warning, and plans the rest; drift still reports it; `pull --write` takes the live size."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import echo_config, project

pytestmark = pytest.mark.e2e


def test_a_grown_volume_is_kept_with_a_warning_and_the_rest_applies(account, tmp_path):
    proj = project(tmp_path / "proj", echo_config(volume="wvol"))
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    (volume,) = account.volumes()
    assert account.server.http.patch(f"/v2/network-volumes/{volume['id']}", json={"size": 50}).status_code == 200
    config = json.loads((proj / "gpu.jsonc").read_text())
    config["serverless"]["scaling"]["max_workers"] = 3  # an unrelated hotfix
    (proj / "gpu.jsonc").write_text(json.dumps(config, indent=2))

    plan = account.gpu("serverless", "deploy", "--plan", "--json", cwd=proj)
    assert plan.code == 0, plan.err
    doc = plan.json()
    grown = next(r for r in doc["resource_changes"] if r["kind"] == "network_volume")
    assert (grown["action"], grown["drift"]) == ("no-op", "larger-in-account")
    (warning,) = [n for n in doc["warnings"] if n["code"] == "volume-larger-in-account"]
    assert "kept at 50 GB" in warning["message"] and "size_gb to 50" in warning["message"]
    assert [c["path"] for r in doc["resource_changes"] if r["kind"] == "endpoint" for c in r["changes"]] == ["workers.max"]
    assert doc["cost"]["delta"]["always_on_per_hour"] == 0  # the storage is 50 GB before and after

    applied = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert applied.code == 0, applied.err
    assert "kept at 50 GB" in applied.out + applied.err
    assert account.endpoints()[0]["workers"]["max"] == 3 and account.volumes()[0]["size"] == 50

    drift = account.gpu("serverless", "drift", "--json", cwd=proj)
    assert drift.code == 2, drift.err
    (entry,) = drift.json()["drift"]
    assert entry["drift"] == "larger-in-account" and "pull --write" in entry["what_to_do"]
    assert "refuses" not in entry["what_to_do"]  # deploy plans and applies the rest

    pulled = account.gpu("serverless", "pull", "--write", cwd=proj)
    assert pulled.code == 0, pulled.out + pulled.err
    assert json.loads((proj / "gpu.jsonc").read_text())["serverless"]["volume"]["size_gb"] == 50
    assert account.gpu("serverless", "drift", cwd=proj).code == 0
