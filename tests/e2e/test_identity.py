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


# -- B: a block renamed in gpu.jsonc -------------------------------------------------------------

def renamed_config(**block) -> dict:
    cfg = echo_config(name="talk", volume="models")
    cfg["serverless"] |= block
    return cfg


def releases(account, endpoint_id: str) -> int:
    answer = account.server.http.get(f"/v2/serverless/{endpoint_id}/releases")
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    return len(doc["releases"] if isinstance(doc, dict) else doc)


def plan_json(account, proj, *args) -> tuple[int, dict]:
    result = account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", "--json", *args, cwd=proj)
    assert result.code in (0, 2), result.err
    doc = result.json()
    jsonschema.validate(doc, PLAN_SCHEMA)
    return result.code, doc


@pytest.fixture
def renamed_in_git(account, tmp_path):
    """echo (with a volume) deployed, then its block renamed to talk in gpu.jsonc."""
    proj = deployed(account, tmp_path, echo_config(volume="models"))
    old = named(account, "echo")[0]
    return proj, old


@pytest.mark.parametrize("prune", [False, True], ids=["kept", "pruned"])
def test_a_rename_that_does_not_say_so_is_shown_as_one(account, renamed_in_git, prune):
    proj, old = renamed_in_git
    write_config(proj, renamed_config())
    extra = ["--prune"] if prune else []
    code, doc = plan_json(account, proj, *extra)
    by_address = {r["address"]: r for r in doc["resource_changes"] if r["kind"] == "endpoint"}
    assert code == 2 and by_address["endpoint.talk"]["action"] == "create"
    assert by_address["endpoint.echo"]["action"] == ("delete" if prune else "orphan") and by_address["endpoint.echo"]["id"] == old["id"]
    (warning,) = [w for w in doc["warnings"] if w["code"] == "maybe-renamed"]
    assert warning["address"] == "endpoint.talk" and old["id"] in warning["message"]
    assert ("its URL with it" if prune else "kept running as an orphan") in warning["message"]
    text = " ".join(account.gpu("serverless", "deploy", "--plan", *extra, cwd=proj).out.split())
    assert f'this project\'s endpoint "echo" ({old["id"]}' in text and 'add "renamed_from": "echo" to the block' in text
    assert "keeping its id and URL, and its workers running" in text


def test_renamed_from_renames_the_endpoint_in_place(account, renamed_in_git):
    proj, old = renamed_in_git
    write_config(proj, renamed_config(renamed_from="echo"))
    before = releases(account, old["id"])
    code, doc = plan_json(account, proj, "--prune")  # even with --prune, nothing is deleted
    endpoints = [r for r in doc["resource_changes"] if r["kind"] == "endpoint"]
    assert code == 2 and [(r["address"], r["action"], r["id"]) for r in endpoints] == [("endpoint.talk", "update", old["id"])]
    assert [(c["path"], c["before"], c["after"], c["origin"]) for c in endpoints[0]["changes"]] == [("name", "echo", "talk", "config")]
    assert not [w for w in doc["warnings"] if w["code"] == "maybe-renamed"]
    assert [n for n in doc["notes"] if n["code"] == "rename" and old["id"] in n["message"]]
    text = " ".join(account.gpu("serverless", "deploy", "--plan", cwd=proj).out.split())
    assert f'endpoint.talk ({old["id"]}) will be updated in place' in text and '~ name = "echo" → "talk" # changed in gpu.jsonc' in text
    assert "its id and URL stay, and its workers keep running" in text

    code, report, text = drift(account, proj)
    assert code == 2 and [(d["address"], d["id"], d["drift"]) for d in report["drift"]] == [("endpoint.talk", old["id"], None)]
    assert [(c["path"], c["origin"]) for c in report["drift"][0]["changes"]] == [("name", "config")]

    applied = account.gpu("serverless", "deploy", "-y", "--prune", cwd=proj)
    assert applied.code == 0, applied.err
    (now,) = account.endpoints()
    assert (now["id"], now["name"], now["networkVolumes"]) == (old["id"], "talk", old["networkVolumes"])
    assert now["requestUrls"] == old["requestUrls"]  # the URL callers use is the same
    assert releases(account, old["id"]) == before  # a name is no container change: workers do not roll
    templates = account.server.http.get("/v2/templates").json()["templates"]
    record = next(t for t in templates if t["name"] == f"gpuctl-applied-{old['id']}")
    assert record["env"]["GPUCTL_ENDPOINT_NAME"] == "talk"
    assert account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj).code == 0  # renamed_from is inert now
    assert account.gpu("serverless", "drift", cwd=proj).code == 0


def test_adopt_naming_an_endpoint_of_this_project_renames_it_and_prune_never_deletes_it(account, renamed_in_git):
    """`adopt` with this project's endpoint id (import --name writes it for an orphan) matched
    the block to it, and the same endpoint was also an orphan: with --prune the plan renamed it
    and then deleted it."""
    proj, old = renamed_in_git
    write_config(proj, renamed_config(adopt=old["id"]))
    code, doc = plan_json(account, proj, "--prune")
    endpoints = [r for r in doc["resource_changes"] if r["kind"] == "endpoint"]
    assert [(r["address"], r["action"], r["id"]) for r in endpoints] == [("endpoint.talk", "update", old["id"])]
    assert not [w for w in doc["warnings"] if w["code"] == "adopt"]  # nothing to adopt: it is ours
    assert account.gpu("serverless", "deploy", "-y", "--prune", cwd=proj).code == 0
    assert [(e["id"], e["name"]) for e in account.endpoints()] == [(old["id"], "talk")]


@pytest.mark.parametrize("renamed_from, said", [
    ("talk", '"renamed_from" is this block\'s own name "talk"'),
    ("other", '"renamed_from": "other" names an endpoint gpu.jsonc still declares'),
])
def test_renamed_from_that_cannot_be_meant_is_refused_at_its_position(account, tmp_path, renamed_from, said):
    cfg = renamed_config(renamed_from=renamed_from)
    other = json.loads(json.dumps(cfg["serverless"])) | {"name": "other"}
    other.pop("renamed_from")
    cfg["serverless"] = [cfg["serverless"], other]
    proj = project(tmp_path / "proj", cfg)
    result = account.gpu("serverless", "deploy", "--plan", cwd=proj)
    assert result.code == 1 and "Traceback" not in result.err
    assert said in result.err and "gpu.jsonc:" in result.err and "serverless[0].renamed_from" in result.err, result.err


def test_renamed_from_an_endpoint_deleted_in_the_account_says_the_create_is_a_new_endpoint(account, renamed_in_git):
    """The old endpoint was deleted in the console before the rename was applied: the plan was
    a plain create, saying nothing of the endpoint it was to rename, and `drift` said no record
    told whether it was deleted or new."""
    proj, old = renamed_in_git
    assert account.server.http.delete(f"/v2/serverless/{old['id']}").status_code in (200, 204)
    write_config(proj, renamed_config(renamed_from="echo"))
    code, doc = plan_json(account, proj)
    (change,) = [r for r in doc["resource_changes"] if r["kind"] == "endpoint"]
    assert code == 2 and (change["address"], change["action"], change["drift"]) == ("endpoint.talk", "create", "deleted-in-account")
    assert old["id"] in change["reason"] and "nothing to rename" in change["reason"]
    (warning,) = [w for w in doc["warnings"] if w["code"] == "deleted-in-account"]
    assert warning["address"] == "endpoint.talk" and old["id"] in warning["message"] and "NEW endpoint with a new id and URL" in warning["message"]
    text = " ".join(account.gpu("serverless", "deploy", "--plan", cwd=proj).out.split())
    assert f'"renamed_from": "echo" was to rename endpoint {old["id"]} in place' in text and "deleted in the account" in text, text

    code, report, text = drift(account, proj)
    assert code == 2 and [(d["address"], d["drift"]) for d in report["drift"]] == [("endpoint.talk", "deleted-in-account")]
    assert old["id"] in report["drift"][0]["reason"] and "no last-applied record says" not in text
    assert "new id" in report["drift"][0]["what_to_do"]


def test_pull_before_a_rename_is_applied_pulls_the_old_endpoint_into_the_renamed_block(account, renamed_in_git):
    """`renamed_from` pending: the account still has the old name, gpu.jsonc the new one. Pull
    takes the console's edit of the old endpoint into the renamed block and keeps the rename
    (deploy's to apply); pull NAME with the old name points at the block; the plan's `name`
    line names the keys that say it (it said "no key; gpuctl sets it")."""
    proj, old = renamed_in_git
    account.server.http.patch(f"/v2/serverless/{old['id']}", json={"workers": {**old["workers"], "idleTimeout": 30}}).raise_for_status()
    write_config(proj, renamed_config(renamed_from="echo"))
    by_old = account.gpu("serverless", "pull", "echo", cwd=proj)
    assert by_old.code == 1 and "Traceback" not in by_old.err
    assert 'endpoint "talk" is renamed from it ("renamed_from": "echo")' in by_old.err and "gpu serverless pull talk" in by_old.err, by_old.err

    pulled = account.gpu("serverless", "pull", "talk", "--write", "--json", cwd=proj)
    assert pulled.code == 0, pulled.err
    doc = pulled.json()
    assert [(p["address"], p["field"], p["after"]) for p in doc["pulled"]] == [("endpoint.talk", "workers.idleTimeout", 30)]
    assert [(k["address"], k["field"]) for k in doc["kept"]] == [("endpoint.talk", "name")]
    cfg = json.loads((proj / "gpu.jsonc").read_text())
    assert (cfg["serverless"]["name"], cfg["serverless"]["renamed_from"], cfg["serverless"]["scaling"]["idle_timeout"]) == ("talk", "echo", 30)

    code, plan = plan_json(account, proj)
    (change,) = [r for r in plan["resource_changes"] if r["kind"] == "endpoint"]
    assert code == 2 and (change["action"], change["id"]) == ("update", old["id"])
    (name,) = change["changes"]
    assert name["path"] == "name" and [k["key"] for k in name["config_keys"]] == ["serverless.name", "serverless.renamed_from"]
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    (now,) = account.endpoints()
    assert (now["id"], now["name"], now["workers"]["idleTimeout"]) == (old["id"], "talk", 30)
    assert account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj).code == 0


def test_renamed_from_that_renames_nothing_says_so_with_the_likely_name(account, renamed_in_git):
    """Review 3, L2: a misspelt `renamed_from` was never mentioned: the plan said `If this is a
    rename, add "renamed_from": "echo" to the block` of a block that has one."""
    proj, old = renamed_in_git
    write_config(proj, renamed_config(renamed_from="ecoh"))
    code, doc = plan_json(account, proj)
    assert code == 2 and not [w for w in doc["warnings"] if w["code"] == "maybe-renamed"], doc["warnings"]
    (warning,) = [w for w in doc["warnings"] if w["code"] == "renamed-from-unmatched"]
    assert warning["address"] == "endpoint.talk"
    assert '"renamed_from": "ecoh" names no endpoint of project "e2e"' in warning["message"] and 'did you mean "echo"?' in warning["message"]


def test_renamed_from_an_endpoint_of_another_project_says_it_is_not_taken(account, tmp_path):
    """Review 3, L2: `renamed_from` naming another project's endpoint was a silent create."""
    deployed(account, tmp_path / "theirs", echo_config(project_id="theirs"))
    (endpoint,) = named(account, "echo")
    proj = project(tmp_path / "mine", renamed_config(renamed_from="echo"))
    code, doc = plan_json(account, proj)
    (warning,) = [w for w in doc["warnings"] if w["code"] == "renamed-from-unmatched"]
    assert f'names endpoint {endpoint["id"]} of project "theirs"' in warning["message"] and f'"adopt": "{endpoint["id"]}"' in warning["message"]
