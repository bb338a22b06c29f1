"""Review 8, R8-1: an endpoint renamed in the console (PATCH name "batch" -> "batch-renamed").
Its last-applied record (`gpuctl-applied-<id>`, GPUCTL_ENDPOINT_NAME=batch) says it is block
`batch`'s endpoint, yet drift called `batch` "missing ... no last-applied record says whether it
was deleted there or is new" and the renamed one an orphan, with `deploy --prune -y` as the
advice (which deletes the URL clients call); without prune, deploy created a second `batch`.
The real CLI against the local provider; the console's rename through its REST v2 API."""

from __future__ import annotations

import json

import jsonschema
import pytest

from tests.e2e.conftest import ROOT, echo_config, project

pytestmark = pytest.mark.e2e

PLAN_SCHEMA = json.loads((ROOT / "schema" / "plan.schema.json").read_text())
DRIFT_SCHEMA = json.loads((ROOT / "schema" / "drift.schema.json").read_text())


def two_blocks() -> dict:
    api = echo_config(name="api", project_id="r8app")
    batch = echo_config(name="batch", project_id="r8app")["serverless"]
    return {"project_id": "r8app", "serverless": [api["serverless"], batch]}


def by_name(account) -> dict[str, dict]:
    return {e["name"]: e for e in account.endpoints()}


def rename_in_console(account, endpoint_id: str, name: str) -> None:
    answer = account.server.http.patch(f"/v2/serverless/{endpoint_id}", json={"name": name})
    assert answer.status_code == 200, answer.text


@pytest.fixture
def renamed(account, tmp_path):
    """api and batch deployed; batch renamed to batch-renamed in the console."""
    proj = project(tmp_path / "proj", two_blocks())
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    batch = by_name(account)["batch"]
    rename_in_console(account, batch["id"], "batch-renamed")
    return proj, batch


def test_drift_says_the_endpoint_was_renamed_in_the_account_and_never_advises_prune(account, renamed):
    proj, batch = renamed
    as_json = account.gpu("serverless", "drift", "--json", cwd=proj)
    text = account.gpu("serverless", "drift", cwd=proj)
    assert as_json.code == text.code == 2, (as_json.err, text.err)
    doc = as_json.json()
    jsonschema.validate(doc, DRIFT_SCHEMA)
    (item,) = doc["drift"]
    assert (item["address"], item["id"], item["action"], item["drift"]) == ("endpoint.batch", batch["id"], "update", "renamed-in-account")
    assert [(c["path"], c["account"], c["config"], c["origin"]) for c in item["changes"]] == [("name", "batch-renamed", "batch", "account")]
    assert doc["summary"]["labels"]["renamed-in-account"] == 1 and doc["summary"]["labels"]["orphan"] == 0
    assert "renames it to the block's name in place" in item["what_to_do"] and "same id and URL" in item["what_to_do"]
    flat = " ".join((text.out + json.dumps(doc)).split())
    assert "--prune" not in flat and "no last-applied record says" not in flat and "orphan" not in text.out, flat
    assert "renamed in the account" in text.out and batch["id"] in text.out


def test_plan_renames_it_back_and_deploy_keeps_one_endpoint_with_its_id(account, renamed):
    proj, batch = renamed
    for extra in ([], ["--prune"]):  # --prune never deletes it
        result = account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", "--json", *extra, cwd=proj)
        assert result.code == 2, result.err
        doc = result.json()
        jsonschema.validate(doc, PLAN_SCHEMA)
        endpoints = [(r["address"], r["action"], r["id"], r["drift"]) for r in doc["resource_changes"] if r["kind"] == "endpoint" and r["action"] != "no-op"]
        assert endpoints == [("endpoint.batch", "update", batch["id"], "renamed-in-account")], endpoints
        (change,) = [r for r in doc["resource_changes"] if r["address"] == "endpoint.batch"]
        assert [(c["path"], c["before"], c["after"], c["origin"]) for c in change["changes"]] == [("name", "batch-renamed", "batch", "account")]
    text = " ".join(account.gpu("serverless", "deploy", "--plan", cwd=proj).out.split())
    assert f'endpoint.batch ({batch["id"]}) will be updated in place' in text and '~ name = "batch-renamed" → "batch" # changed in the account' in text, text

    applied = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert applied.code == 0, applied.err
    now = by_name(account)
    assert sorted(now) == ["api", "batch"] and now["batch"]["id"] == batch["id"] and now["batch"]["requestUrls"] == batch["requestUrls"]
    assert len(account.endpoints()) == 2
    assert account.gpu("serverless", "drift", cwd=proj).code == 0
    assert account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj).code == 0


def test_pull_keeps_the_account_name_by_renaming_the_block(account, renamed):
    proj, batch = renamed
    pulled = account.gpu("serverless", "pull", "--write", "--json", cwd=proj)
    assert pulled.code == 0, pulled.err
    doc = pulled.json()
    assert [(p["address"], p["field"], p["after"]) for p in doc["pulled"]] == [("endpoint.batch", "name", "batch-renamed")], doc
    cfg = json.loads((proj / "gpu.jsonc").read_text())
    assert [b["name"] for b in cfg["serverless"]] == ["api", "batch-renamed"]
    assert account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj).code == 0
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0  # writes the record under the new name
    assert [e["id"] for e in account.endpoints() if e["name"] == "batch-renamed"] == [batch["id"]] and len(account.endpoints()) == 2
    assert account.gpu("serverless", "drift", cwd=proj).code == 0


def test_a_second_endpoint_holding_the_name_is_not_guessed_and_prune_deletes_neither(account, renamed):
    """The renamed endpoint and a new `batch` (made by a deploy before this fix): which one
    callers use is not known, so neither is renamed or deleted; the renamed one is listed,
    with what to do, and never pruned."""
    proj, batch = renamed
    second = account.server.create_endpoint("batch", worker=None, image=batch["image"], env={"GPUCTL_PROJECT": "r8app"})
    now = by_name(account)
    assert now["batch"]["id"] == second["id"] != batch["id"] and now["batch-renamed"]["id"] == batch["id"]
    result = account.gpu("serverless", "deploy", "--plan", "--prune", "--json", cwd=proj)
    assert result.code == 0, result.err
    doc = result.json()
    (old,) = [r for r in doc["resource_changes"] if r["id"] == batch["id"]]
    assert (old["address"], old["action"], old["drift"]) == ("endpoint.batch-renamed", "orphan", "renamed-in-account")
    assert now["batch"]["id"] in old["reason"] and "never deletes it" in old["reason"]
    report = account.gpu("serverless", "drift", "--json", cwd=proj)
    assert report.code == 2
    (item,) = [d for d in report.json()["drift"] if d["id"] == batch["id"]]
    assert item["drift"] == "renamed-in-account" and "deploy --prune" not in item["what_to_do"] and f"delete {batch['id']}" in item["what_to_do"]
    assert account.gpu("serverless", "deploy", "-y", "--prune", cwd=proj).code == 0
    assert {e["id"] for e in account.endpoints()} >= {batch["id"], now["batch"]["id"]}


def test_a_block_renamed_in_gpu_jsonc_takes_its_endpoint_renamed_in_the_account(account, renamed):
    """Review 11, R11-5: endpoint "batch" renamed in the console to "batch-renamed" while the
    block is renamed in gpu.jsonc to "batch2" with `"renamed_from": "batch"` (the documented way
    to rename a block). The record names block "batch", which renamed_from says is batch2's old
    name: the plan is one update renaming the endpoint to "batch2" in place, never a delete of
    it (with --prune) plus a create of a new id and URL, nor an orphan without --prune."""
    proj, batch = renamed
    cfg = two_blocks()
    cfg["serverless"][1] |= {"name": "batch2", "renamed_from": "batch"}
    (proj / "gpu.jsonc").write_text(json.dumps(cfg))
    for extra in ([], ["--prune"]):
        result = account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", "--json", *extra, cwd=proj)
        assert result.code == 2, result.err
        doc = result.json()
        jsonschema.validate(doc, PLAN_SCHEMA)
        endpoints = [(r["address"], r["action"], r["id"], r["drift"]) for r in doc["resource_changes"] if r["kind"] == "endpoint" and r["action"] != "no-op"]
        assert endpoints == [("endpoint.batch2", "update", batch["id"], "renamed-in-account")], (extra, endpoints)
        (change,) = [r for r in doc["resource_changes"] if r["address"] == "endpoint.batch2"]
        assert [(c["path"], c["before"], c["after"]) for c in change["changes"]] == [("name", "batch-renamed", "batch2")]
    report = account.gpu("serverless", "drift", "--json", cwd=proj)
    assert report.code == 2, report.err
    (item,) = report.json()["drift"]
    assert (item["address"], item["id"], item["action"]) == ("endpoint.batch2", batch["id"], "update")
    assert "renames it to the block's name in place" in item["what_to_do"] and 'renames it to "batch2"' in item["reason"], item  # not "back": batch2 is new
    assert "back" not in item["what_to_do"] + item["reason"], item

    applied = account.gpu("serverless", "deploy", "-y", "--prune", cwd=proj)
    assert applied.code == 0, applied.err
    now = by_name(account)
    assert sorted(now) == ["api", "batch2"] and now["batch2"]["id"] == batch["id"] and now["batch2"]["requestUrls"] == batch["requestUrls"]
    assert account.gpu("serverless", "drift", cwd=proj).code == 0
    assert account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", "--prune", cwd=proj).code == 0


def test_pull_keeps_the_account_name_of_a_block_renamed_with_renamed_from(account, renamed):
    """The block renamed in gpu.jsonc (batch -> batch2, renamed_from batch) while its endpoint
    was renamed in the console (batch-renamed): pull --write keeps the account's name, so the
    block is called batch-renamed, and the endpoint stays the one with its id and URL."""
    proj, batch = renamed
    cfg = two_blocks()
    cfg["serverless"][1] |= {"name": "batch2", "renamed_from": "batch"}
    (proj / "gpu.jsonc").write_text(json.dumps(cfg))
    pulled = account.gpu("serverless", "pull", "--write", "--json", cwd=proj)
    assert pulled.code == 0, pulled.err
    assert [(p["address"], p["field"], p["after"]) for p in pulled.json()["pulled"]] == [("endpoint.batch2", "name", "batch-renamed")], pulled.out
    assert [b["name"] for b in json.loads((proj / "gpu.jsonc").read_text())["serverless"]] == ["api", "batch-renamed"]
    assert account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", "--prune", cwd=proj).code == 0
    assert account.gpu("serverless", "deploy", "-y", "--prune", cwd=proj).code == 0
    assert sorted((e["name"], e["id"]) for e in account.endpoints() if e["name"] != "api") == [("batch-renamed", batch["id"])]
    assert account.gpu("serverless", "drift", cwd=proj).code == 0


def record_of(account, endpoint_id: str) -> dict:
    (record,) = [t for t in account.server.http.get("/v2/templates").json()["templates"] if t["name"] == f"gpuctl-applied-{endpoint_id}"]
    return record


@pytest.fixture
def two_renamed(account, renamed):
    """A second endpoint of this project whose last-applied record names block batch too (a
    copy of the first one's record), both renamed in the account: neither holds the name."""
    proj, batch = renamed
    second = account.server.create_endpoint("batch-b", worker=None, image=batch["image"], env={"GPUCTL_PROJECT": "r8app"})
    record = record_of(account, batch["id"])
    body = {k: record[k] for k in ("image", "env", "category", "serverless") if k in record} | {"name": f"gpuctl-applied-{second['id']}"}
    answer = account.server.http.post("/v2/templates", json=body | {"startSsh": False, "startJupyter": False})
    assert answer.status_code == 201, answer.text
    return proj, batch, second


def test_two_endpoints_renamed_from_one_block_stop_deploy_but_drift_and_list_report_them(account, two_renamed):
    """Review 11, R11-4: deploy rightly stops (gpuctl will not guess which one is the block's),
    but drift and list exited 1 with no report. They list both, with the delete-by-id advice."""
    proj, batch, second = two_renamed
    ids = sorted([batch["id"], second["id"]])
    stopped = account.gpu("serverless", "deploy", "--plan", cwd=proj)
    assert stopped.code == 1 and "will not guess" in stopped.err and all(i in stopped.err for i in ids), stopped.err

    as_json = account.gpu("serverless", "drift", "--json", cwd=proj)
    text = account.gpu("serverless", "drift", cwd=proj)
    assert as_json.code == text.code == 2, (as_json.err, text.err)
    doc = as_json.json()
    jsonschema.validate(doc, DRIFT_SCHEMA)
    items = sorted((d for d in doc["drift"] if d["id"] in ids), key=lambda d: d["id"])
    assert [(d["id"], d["drift"]) for d in items] == [(i, "renamed-in-account") for i in ids], doc["drift"]
    assert not [d for d in doc["drift"] if d["action"] == "create"], doc["drift"]  # deploy creates nothing: it stops
    for item, other in zip(items, reversed(ids)):
        assert other in item["reason"] and "endpoint.batch" in item["reason"], item
        assert f"delete {item['id']}" in item["what_to_do"] and "deploy --prune" not in item["what_to_do"], item["what_to_do"]
    flat = " ".join(text.out.split())
    assert all(i in flat for i in ids) and "renamed in the account" in flat, flat

    listed = account.gpu("serverless", "list", "--json", cwd=proj)
    assert listed.code == 0, listed.err
    rows = listed.json()
    rows = rows["endpoints"] if isinstance(rows, dict) else rows
    assert sorted(r["id"] for r in rows if r["id"] in ids) == ids, rows
    assert account.gpu("serverless", "list", cwd=proj).code == 0
