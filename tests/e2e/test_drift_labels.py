"""Drift labels in `deploy --plan` (issue 10, item 1): the real CLI against the local provider,
with a console user's edits made through its REST v2 API. Each label is checked in the JSON
document, the text and the Markdown, and by `--detailed-exitcode`, both in the checkout that
deployed and in a fresh one with no `.gpu/` (a CI runner): the origin comes from the
last-applied record in the account (ADR 10), not from local state."""

from __future__ import annotations

import json
import re
import shutil

import jsonschema
import pytest

from tests.e2e.conftest import ROOT, echo_config, project

pytestmark = pytest.mark.e2e

PLAN_SCHEMA = json.loads((ROOT / "schema" / "plan.schema.json").read_text())
DRIFT_SCHEMA = json.loads((ROOT / "schema" / "drift.schema.json").read_text())
SECRET = "labels-s3cret-never-shown"
ENV = {"LABEL_TOKEN": SECRET}
CHECKOUTS = ["deployed-checkout", "fresh-checkout"]  # with the deploy's .gpu/, and without it


def config(**scaling) -> dict:
    c = echo_config(env={"TOKEN": "${LABEL_TOKEN}"}, **scaling)
    return c


def deployed(account, tmp_path, cfg: dict | None = None):
    proj = project(tmp_path / "proj", cfg or config())
    result = account.gpu("serverless", "deploy", "-y", cwd=proj, env=ENV)
    assert result.code == 0, result.err
    return proj


def checkout(proj, where: str):
    """The project as deployed, or with its `.gpu/` removed, as a fresh CI runner has it. (Not
    a copy elsewhere: with the local provider the checkout's path is a declared field,
    GPUCTL_LOCAL_CWD, so moving it is a real change in gpu.jsonc.)"""
    assert (proj / ".gpu").is_dir()
    if where == "fresh-checkout":
        shutil.rmtree(proj / ".gpu")
    return proj


def plan(account, proj) -> tuple[int, dict, str, str]:
    """(exit code of --detailed-exitcode, JSON document, text, Markdown), none showing a secret."""
    runs = [account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", *fmt, cwd=proj, env=ENV)
            for fmt in (["--json"], [], ["--format", "markdown"])]
    codes = {r.code for r in runs}
    assert len(codes) == 1, [(r.code, r.err) for r in runs]
    assert all(SECRET not in r.out + r.err for r in runs)
    doc = runs[0].json()
    jsonschema.validate(doc, PLAN_SCHEMA)
    return codes.pop(), doc, runs[1].out, runs[2].out


def endpoint(account, name: str = "echo") -> dict:
    return next(e for e in account.endpoints() if e["name"] == name)


def console_patch(account, body: dict, name: str = "echo") -> None:
    """An edit in the console: PATCH the endpoint in place."""
    answer = account.server.http.patch(f"/v2/serverless/{endpoint(account, name)['id']}", json=body)
    assert answer.status_code == 200, answer.text


def records(account) -> dict[str, dict]:
    templates = account.server.http.get("/v2/templates").json()["templates"]
    return {t["name"].removeprefix("gpuctl-applied-"): t for t in templates if t["name"].startswith("gpuctl-applied-")}


def fields(doc: dict, address: str = "endpoint.echo") -> dict[str, str]:
    change = next(r for r in doc["resource_changes"] if r["address"] == address and r["action"] != "no-op")
    return {c["path"]: c["origin"] for c in change["changes"]}


def test_deploy_writes_the_record_and_then_plans_in_sync(account, tmp_path):
    proj = deployed(account, tmp_path)
    ep = endpoint(account)
    record = records(account)[ep["id"]]
    env = record["env"]
    assert env["GPUCTL_PROJECT"] == "e2e" and env["GPUCTL_ENDPOINT_NAME"] == "echo" and env["GPUCTL_APPLIED_AT"].endswith("Z")
    digests = json.loads(env["GPUCTL_APPLIED"])
    assert digests["env.TOKEN"] == "set" and len(digests["workers.max"]) == 16
    assert SECRET not in json.dumps(record) and record["serverless"] is False
    code, doc, text, _ = plan(account, proj)
    assert code == 0 and doc["in_sync"] and "No changes." in text
    assert all(r["drift"] is None for r in doc["resource_changes"])


@pytest.mark.parametrize("where", CHECKOUTS)
def test_console_edits_are_changed_in_the_account(account, tmp_path, where):
    proj = deployed(account, tmp_path)
    ep = endpoint(account)
    console_patch(account, {"workers": {**ep["workers"], "max": 5}})
    console_patch(account, {"env": {**ep["env"], "ADDED_IN_CONSOLE": "1"}})
    console_patch(account, {"gpu": {"pools": [*ep["gpu"]["pools"], "AMPERE_24"], "excludedTypes": ep["gpu"].get("excludedTypes") or []}})
    code, doc, text, markdown = plan(account, checkout(proj, where))
    assert code == 2
    assert fields(doc) == {"workers.max": "account", "env.ADDED_IN_CONSOLE": "account", "gpu.pools": "account"}
    for view in (text, markdown):
        assert re.search(r"~ workers\.max +:?= 5 → 2   # changed in the account", view), view
        assert "env.ADDED_IN_CONSOLE" in view and view.count("# changed in the account") == 3


@pytest.mark.parametrize("where", CHECKOUTS)
def test_git_and_the_console_moving_one_field_is_both(account, tmp_path, where):
    proj = deployed(account, tmp_path)
    (proj / "gpu.jsonc").write_text(json.dumps(config(max_workers=4, min_workers=1)))
    console_patch(account, {"workers": {**endpoint(account)["workers"], "max": 7}})
    code, doc, text, markdown = plan(account, checkout(proj, where))
    assert code == 2 and fields(doc) == {"workers.max": "both", "workers.min": "config"}
    for view in (text, markdown):
        assert "both: gpu.jsonc says 4, the account says 7; apply keeps 4" in view
        assert "# changed in gpu.jsonc" in view


@pytest.mark.parametrize("where", CHECKOUTS)
def test_an_endpoint_deleted_in_the_account_is_re_created_with_a_warning(account, tmp_path, where):
    proj = deployed(account, tmp_path)
    old = endpoint(account)["id"]
    assert account.server.http.delete(f"/v2/serverless/{old}").status_code in (200, 204)
    proj = checkout(proj, where)
    code, doc, text, markdown = plan(account, proj)
    create = next(r for r in doc["resource_changes"] if r["address"] == "endpoint.echo")
    assert code == 2 and create["action"] == "create" and create["drift"] == "deleted-in-account" and old in create["reason"]
    assert [w for w in doc["warnings"] if w["code"] == "deleted-in-account" and old in w["message"]]
    for view in (text, markdown):
        assert "[drift: deleted in the account]" in view and "DELETED IN THE ACCOUNT" in view and "NEW id and URL" in view
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env=ENV).code == 0
    new = endpoint(account)["id"]
    assert new != old and set(records(account)) == {new}  # the old record went with the re-create
    assert plan(account, proj)[0] == 0


@pytest.mark.parametrize("where", CHECKOUTS)
def test_a_dropped_marker_is_recognised_and_restored(account, tmp_path, where):
    proj = deployed(account, tmp_path)
    ep = endpoint(account)
    console_patch(account, {"env": {k: v for k, v in ep["env"].items() if k != "GPUCTL_PROJECT"}})
    proj = checkout(proj, where)
    code, doc, text, markdown = plan(account, proj)
    update = next(r for r in doc["resource_changes"] if r["address"] == "endpoint.echo")
    assert code == 2 and update["action"] == "update" and update["drift"] == "marker-lost" and update["id"] == ep["id"]
    assert fields(doc) == {"env.GPUCTL_PROJECT": "account"}
    for view in (text, markdown):
        assert "[drift: marker lost]" in view and "writes GPUCTL_PROJECT=e2e back" in view
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env=ENV).code == 0
    assert endpoint(account)["env"]["GPUCTL_PROJECT"] == "e2e" and endpoint(account)["id"] == ep["id"]
    assert plan(account, proj)[0] == 0


def test_a_same_named_unmanaged_endpoint_is_refused_as_unmanaged(account, tmp_path):
    theirs = account.server.create_endpoint("echo", worker=None)
    proj = project(tmp_path / "proj", config())
    result = account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj, env=ENV)
    assert result.code == 1 and "Traceback" not in result.err
    assert f'"echo" already exists ({theirs["id"]}) and is unmanaged' in result.err
    # import refuses a name gpu.jsonc declares, so the way to adopt it is `adopt` in the block
    assert f'add "adopt": "{theirs["id"]}" to this block' in " ".join(result.err.split())
    refused = account.gpu("serverless", "import", theirs["id"], "--write", cwd=proj)
    assert refused.code == 1 and 'already declares an endpoint named "echo"' in refused.err
    # ... so import's refusal names that way too, in the plan's words, besides --name
    advice = re.search(r'add "adopt": "[^"]+" to this block in gpu\.jsonc \([^)]*\)', " ".join(result.err.split())).group(0)
    said = " ".join(refused.err.split())
    assert advice.replace("this block", "the block at serverless") in said and "--name" in said, said
    assert (proj / "gpu.jsonc").read_text() == json.dumps(config(), indent=2)
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env=ENV).code == 1
    assert [e["id"] for e in account.endpoints()] == [theirs["id"]]


@pytest.mark.parametrize("where", CHECKOUTS)
def test_an_unmanaged_look_alike_is_listed_and_left_alone(account, tmp_path, where):
    proj = deployed(account, tmp_path)
    copy = account.server.create_endpoint("echo-copy", worker=None, image=endpoint(account)["image"])
    proj = checkout(proj, where)
    code, doc, text, markdown = plan(account, proj)
    listed = next(r for r in doc["resource_changes"] if r["id"] == copy["id"])
    assert code == 0 and listed["action"] == "no-op" and listed["drift"] == "unmanaged"
    for view in (text, markdown):
        assert "endpoint.echo-copy" in view and "[drift: unmanaged]" in view and "1 unmanaged endpoint left alone" in view
    writes = account.writes()
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env=ENV).code == 0 and account.writes() == writes


@pytest.mark.parametrize("where", CHECKOUTS)
def test_an_endpoint_left_out_of_gpu_jsonc_is_an_orphan(account, tmp_path, where):
    two = config()
    spare = json.loads(json.dumps(two["serverless"])) | {"name": "spare"}
    two["serverless"] = [two["serverless"], spare]
    proj = deployed(account, tmp_path, two)
    (proj / "gpu.jsonc").write_text(json.dumps(config()))
    code, doc, text, markdown = plan(account, checkout(proj, where))
    orphan = next(r for r in doc["resource_changes"] if r["address"] == "endpoint.spare")
    assert code == 2 and orphan["action"] == "orphan" and orphan["drift"] == "orphan"
    assert "[drift: orphan]" in text and "[drift: orphan]" in markdown


# The lease and the name claim are templates too: the record is the third template create.
RECORD_CREATE = {"op": "create", "kind": "template", "after": 2, "times": 1}


def test_a_record_create_whose_answer_is_lost_is_found_not_doubled(account, tmp_path):
    account.faults(RECORD_CREATE | {"action": "commit_then_fail", "status": 500})
    proj = deployed(account, tmp_path)
    ep = endpoint(account)
    assert list(records(account)) == [ep["id"]]
    calls = [(r["method"], r["path"], r["status"]) for r in account.requests()]
    assert ("POST", "/v2/templates", 500) in calls  # the record's create: committed, answer lost
    assert ("PATCH", f"/v2/templates/{records(account)[ep['id']]['id']}", 200) in calls  # found by name, then updated
    console_patch(account, {"workers": {**ep["workers"], "max": 5}})
    assert fields(plan(account, proj)[1]) == {"workers.max": "account"}


def test_a_refused_record_write_is_said_and_leaves_origins_unknown(account, tmp_path):
    account.faults(RECORD_CREATE | {"action": "status", "status": 400})
    proj = project(tmp_path / "proj", config())
    result = account.gpu("serverless", "deploy", "-y", cwd=proj, env=ENV)
    assert result.code == 0, result.err
    assert "the last-applied record was not written" in result.err and records(account) == {}
    console_patch(account, {"workers": {**endpoint(account)["workers"], "max": 5}})
    assert fields(plan(account, proj)[1]) == {"workers.max": "unknown"}


def test_a_value_kept_with_pull_is_remembered_by_the_next_deploy_so_the_next_console_edit_is_not_a_conflict(account, tmp_path):
    """The documented way to keep a console edit: `pull --write`, then deploy (the merge of its
    pull request) with nothing to change. The record still held the value applied before, so the
    next console edit of that field read as "changed in both", a conflict nobody made, whose
    advice is to choose a side. A deploy that finds an endpoint in sync but its record behind
    brings the record up to date, and writes nothing when the record is current."""
    proj = deployed(account, tmp_path)
    ep = endpoint(account)
    console_patch(account, {"workers": {**ep["workers"], "max": 4}})
    assert account.gpu("serverless", "pull", "--write", cwd=proj, env=ENV).code == 0
    kept = account.gpu("serverless", "deploy", "-y", cwd=proj, env=ENV)
    assert kept.code == 0 and "No changes" in kept.out, kept.out + kept.err
    writes = account.writes()
    again = account.gpu("serverless", "deploy", "-y", cwd=proj, env=ENV)
    assert again.code == 0 and account.writes() == writes  # the record is current: nothing to write

    console_patch(account, {"workers": {**endpoint(account)["workers"], "max": 6}})
    assert fields(plan(account, proj)[1]) == {"workers.max": "account"}


def test_an_env_literal_removed_from_gpu_jsonc_shows_the_value_it_removes(account, tmp_path):
    """A literal gpu.jsonc held at the last apply is no secret (it is in the repository), and
    removing it changes what workers read: the plan shows `- env.GREETING = "hello"`, as
    Terraform shows what it removes (docs/plans.md: an account value is shown when it is the
    literal of the last apply). A removed `${VAR}` value stays hidden."""
    proj = deployed(account, tmp_path)
    cfg = config()
    cfg["serverless"]["runpod"]["env"] = {}  # GREETING (a literal) and TOKEN (from ${LABEL_TOKEN}) removed
    (proj / "gpu.jsonc").write_text(json.dumps(cfg))
    code, doc, text, markdown = plan(account, proj)
    assert code == 2
    (change,) = [r for r in doc["resource_changes"] if r["action"] == "update"]
    by_path = {c["path"]: c for c in change["changes"]}
    assert by_path["env.GREETING"] | {"origin": None} == {"path": "env.GREETING", "before": "hello", "after": None, "sensitive": False,
                                                          "forces_replace": False, "origin": None,
                                                          "config_keys": [{"key": "serverless.runpod.env.GREETING", "file": "gpu.jsonc", "line": None}]}
    assert by_path["env.GREETING"]["origin"] == "config"
    assert by_path["env.TOKEN"]["before"] == {"sensitive": True} and by_path["env.TOKEN"]["sensitive"] is True
    assert re.search(r'- env\.GREETING += "hello"   # changed in gpu\.jsonc', text), text
    assert re.search(r'- env\.GREETING += "hello"   # changed in gpu\.jsonc', markdown)
    assert re.search(r"- env\.TOKEN += \(sensitive\)", text)


def rolled_back(account, tmp_path, env: dict[str, str] | None = None, env_after: dict[str, str] | None = None):
    """The echo endpoint (its runpod env adding `env`) deployed as version 1; a new image, with
    the runpod env replaced by `env_after` when given, deployed as version 2; then `rollback
    --to 1`, which writes version 3. The project's directory."""
    config = echo_config(env=env)
    proj = project(tmp_path / "proj", config)
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    config["serverless"]["runpod"]["image_name"] = "ghcr.io/example/echo-worker:0.2.0"
    if env_after is not None:
        config["serverless"]["runpod"]["env"] = env_after
    project(proj, config)
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    assert account.gpu("serverless", "rollback", "echo", "--to", "1", "-y", cwd=proj).code == 0
    return proj


def test_drift_says_a_field_gpuctls_rollback_set_was_rolled_back_by_gpuctl_not_someone_in_the_account(account, tmp_path):
    """After `rollback`, drift called the restored image "someone changed it in the account",
    though the record could know it was gpuctl's rollback (review 3, L6). Once the console
    changes it again, it is someone's in the account again."""
    proj = rolled_back(account, tmp_path)

    report = account.gpu("serverless", "drift", "--json", cwd=proj)
    assert report.code == 2, report.err
    jsonschema.validate(report.json(), DRIFT_SCHEMA)
    [image] = [c for e in report.json()["drift"] for c in e["changes"] if c["path"] == "image"]
    assert image["origin"] == "account" and image["rolled_back"] == {"version": 3, "to": 1}, image
    assert image["what_to_do"].startswith("rolled back by gpuctl (`gpu serverless rollback` to the configuration of version 1 (now version 3))"), image
    text = account.gpu("serverless", "drift", cwd=proj)
    assert "rolled back by gpuctl" in text.out and "someone changed it in the account" not in text.out, text.out
    plan = account.gpu("serverless", "deploy", "--plan", "--json", cwd=proj)
    jsonschema.validate(plan.json(), PLAN_SCHEMA)

    endpoint = account.endpoints()[0]
    assert account.server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"image": "ghcr.io/example/echo-worker:9.9.9"}).status_code == 200
    again = account.gpu("serverless", "drift", "--json", cwd=proj)
    [image] = [c for e in again.json()["drift"] for c in e["changes"] if c["path"] == "image"]
    assert "rolled_back" not in image and image["what_to_do"].startswith("someone changed it in the account"), image


def test_env_keys_a_rollback_changed_are_credited_to_the_rollback(account, tmp_path):
    """The rollback release that restored the image also removed an env key the failed release
    added and restored one it removed: each is gpuctl's rollback, not someone's in the account
    (review 6, R6-6). Its record keeps no digest of an env value it cannot show."""
    proj = rolled_back(account, tmp_path, env={"OLD_ONLY": "old-literal"}, env_after={"GREETING": "hello", "BROKEN": "1"})

    report = account.gpu("serverless", "drift", "--json", cwd=proj)
    assert report.code == 2, report.err
    jsonschema.validate(report.json(), DRIFT_SCHEMA)
    changed = {c["path"]: c for e in report.json()["drift"] for c in e["changes"]}
    assert set(changed) == {"image", "env.BROKEN", "env.OLD_ONLY"}, changed
    for path, c in changed.items():  # OLD_ONLY, which gpu.jsonc no longer declares, has no digest kept: the rollback's, or changed since (R7-3)
        assert c["origin"] == ("unknown" if path == "env.OLD_ONLY" else "account") and c.get("rolled_back") == {"version": 3, "to": 1}, (path, c)
    text = account.gpu("serverless", "drift", cwd=proj)
    assert "someone changed it in the account" not in text.out, text.out
    [record] = records(account).values()
    rolled = json.loads(record["env"]["GPUCTL_ROLLED_BACK"])
    assert rolled["digests"]["env.OLD_ONLY"] == "set", rolled  # a value the record cannot show is never digested

    endpoint(account)  # the console sets the key the rollback removed: someone's again
    console_patch(account, {"env": {**endpoint(account)["env"], "BROKEN": "2"}})
    again = account.gpu("serverless", "drift", "--json", cwd=proj)
    [broken] = [c for e in again.json()["drift"] for c in e["changes"] if c["path"] == "env.BROKEN"]
    assert "rolled_back" not in broken, broken


def test_a_console_edit_of_an_env_key_a_rollback_wrote_is_not_credited_to_the_rollback(account, tmp_path):
    """Review 7, R7-3: the rollback's record kept only "set" for an env key it wrote, and drift
    credited any later value of that key to the rollback, so a console edit after it read
    "rolled back by gpuctl ..., not changed by someone in the account". A key gpu.jsonc declares
    as a literal keeps a keyed digest of the value the rollback wrote, and only that value is
    the rollback's; a key with no digest kept is "rolled back by gpuctl, or changed since"."""
    proj = rolled_back(account, tmp_path, env={"MODE": "one", "OLD_ONLY": "old-literal"}, env_after={"MODE": "two"})
    [record] = records(account).values()
    assert "one" not in record["env"]["GPUCTL_ROLLED_BACK"] and "old-literal" not in record["env"]["GPUCTL_ROLLED_BACK"]

    report = account.gpu("serverless", "drift", "--json", cwd=proj)
    jsonschema.validate(report.json(), DRIFT_SCHEMA)
    changed = {c["path"]: c for e in report.json()["drift"] for c in e["changes"]}
    assert changed["env.MODE"]["origin"] == "account" and changed["env.MODE"]["rolled_back"] == {"version": 3, "to": 1}, changed
    old_only = changed["env.OLD_ONLY"]  # not declared now: the record keeps no digest of it, so neither does the rollback
    assert old_only["origin"] == "unknown" and old_only["rolled_back"] == {"version": 3, "to": 1}, old_only
    assert old_only["what_to_do"].startswith("rolled back by gpuctl (`gpu serverless rollback` to the configuration of version 1 (now version 3)), "
                                             "or changed in the account since"), old_only

    console_patch(account, {"env": {**endpoint(account)["env"], "MODE": "https://evil.example/exfil"}})
    again = account.gpu("serverless", "drift", "--json", cwd=proj)
    jsonschema.validate(again.json(), DRIFT_SCHEMA)
    [mode] = [c for e in again.json()["drift"] for c in e["changes"] if c["path"] == "env.MODE"]
    assert mode["origin"] == "account" and "rolled_back" not in mode, mode
    assert "rolled back by gpuctl" not in mode["what_to_do"], mode
    text = account.gpu("serverless", "drift", cwd=proj)
    assert "env.MODE: rolled back by gpuctl" not in text.out and "evil.example" not in text.out, text.out


@pytest.mark.parametrize("lowered", [2, 0])
def test_runpods_idle_scale_down_is_said_and_restored_not_pulled(account, tmp_path, lowered):
    """RunPod lowers workersMax of an idle endpoint to 2 after 3 days and to 0 after 7
    (api-notes §8.7). Drift called it "someone changed it in the account" and led with
    `pull --write`, which commits a paused endpoint (review 6, R6-5)."""
    proj = deployed(account, tmp_path, echo_config(max_workers=5))
    console_patch(account, {"workers": {"max": lowered}})

    report = account.gpu("serverless", "drift", "--json", cwd=proj)
    assert report.code == 2, report.err
    jsonschema.validate(report.json(), DRIFT_SCHEMA)
    [field] = [c for e in report.json()["drift"] for c in e["changes"] if c["path"] == "workers.max"]
    assert field["origin"] == "account" and field["explanation"] == "idle-scaled-down", field
    assert field["what_to_do"].startswith("RunPod lowers workersMax"), field
    assert "deploy -y" in field["what_to_do"] and "pull --write" not in field["what_to_do"], field
    text = account.gpu("serverless", "drift", cwd=proj)
    assert text.code == 2 and "RunPod lowers workersMax" in text.out, text.out
    assert "someone changed it in the account" not in text.out and "pull --write" not in text.out, text.out


def test_a_max_workers_the_console_lowered_to_another_value_is_still_someones(account, tmp_path):
    proj = deployed(account, tmp_path, echo_config(max_workers=5))
    console_patch(account, {"workers": {"max": 3}})
    report = account.gpu("serverless", "drift", "--json", cwd=proj)
    [field] = [c for e in report.json()["drift"] for c in e["changes"] if c["path"] == "workers.max"]
    assert "explanation" not in field and field["what_to_do"].startswith("someone changed it in the account"), field
