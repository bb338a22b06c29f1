"""Identity across the account's history (ADR 29): an endpoint this project applied, deleted in
the account and re-made by hand under its name; and a block renamed in gpu.jsonc. The real CLI
against the local provider, with the console's deletes and creates made through its REST v2 API;
each case checked in the plan's text and JSON, by `drift`, and by what deploy then writes."""

from __future__ import annotations

import json

import jsonschema
import pytest

from tests.e2e.conftest import ROOT, echo_config, project

pytestmark = pytest.mark.e2e

PLAN_SCHEMA = json.loads((ROOT / "schema" / "plan.schema.json").read_text())
DRIFT_SCHEMA = json.loads((ROOT / "schema" / "drift.schema.json").read_text())


def deployed(account, tmp_path, cfg: dict):
    proj = project(tmp_path / "proj", cfg)
    result = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert result.code == 0, result.err
    return proj


def named(account, name: str) -> list[dict]:
    return [e for e in account.endpoints() if e["name"] == name]


def write_config(proj, cfg: dict) -> None:
    (proj / "gpu.jsonc").write_text(json.dumps(cfg, indent=2))


def drift(account, proj) -> tuple[int, dict, str]:
    as_json = account.gpu("serverless", "drift", "--json", cwd=proj)
    text = account.gpu("serverless", "drift", cwd=proj)
    assert as_json.code == text.code, (as_json.err, text.err)
    doc = as_json.json()
    jsonschema.validate(doc, DRIFT_SCHEMA)
    return as_json.code, doc, text.out


# -- A: deleted in the account, and its name taken by an endpoint made by hand ------------------

@pytest.fixture
def remade_by_hand(account, tmp_path):
    """echo deployed, deleted in the console, and a new "echo" made there without the marker."""
    proj = deployed(account, tmp_path, echo_config())
    old = named(account, "echo")[0]
    assert account.server.http.delete(f"/v2/serverless/{old['id']}").status_code in (200, 204)
    new = account.server.create_endpoint("echo", worker=None, image=old["image"])
    return proj, old["id"], new["id"]


def test_a_plan_over_a_hand_made_replacement_names_the_deleted_endpoint_and_the_new_one(account, remade_by_hand):
    proj, old, new = remade_by_hand
    for fmt in ([], ["--json"]):
        result = account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", *fmt, cwd=proj)
        assert result.code == 1 and "Traceback" not in result.err
        said = " ".join(result.err.split())
        assert f"applied by this project as endpoint {old}, which was deleted in the account" in said, said
        assert f'endpoint {new} now holds the name "echo" and is unmanaged' in said and "not made by gpuctl" in said, said
        assert "will not create a second endpoint of that name" in said
        assert f'add "adopt": "{new}" to this block' in said  # import refuses a name gpu.jsonc declares
    writes = account.writes()
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 1
    assert account.writes() == writes and [e["id"] for e in named(account, "echo")] == [new]


def test_drift_reports_the_hand_made_replacement_with_the_deleted_endpoint(account, remade_by_hand):
    proj, old, new = remade_by_hand
    code, doc, text = drift(account, proj)
    item = next(d for d in doc["drift"] if d["address"] == "endpoint.echo")
    assert code == 2 and item["drift"] == "unmanaged" and item["id"] == new
    assert old in item["reason"] and "deleted in the account" in item["reason"]
    assert f'"adopt": "{new}"' in item["what_to_do"]
    flat = " ".join(text.split())
    assert old in flat and new in flat and f'"adopt": "{new}"' in flat


def test_adopting_the_hand_made_replacement_converges_in_one_write(account, remade_by_hand):
    proj, old, new = remade_by_hand
    cfg = echo_config()
    cfg["serverless"]["adopt"] = new
    write_config(proj, cfg)
    doc = account.gpu("serverless", "deploy", "--plan", "--json", cwd=proj).json()
    jsonschema.validate(doc, PLAN_SCHEMA)
    change = next(r for r in doc["resource_changes"] if r["address"] == "endpoint.echo")
    assert change["action"] == "update" and change["id"] == new
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    assert [e["id"] for e in named(account, "echo")] == [new]
    assert account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj).code == 0
