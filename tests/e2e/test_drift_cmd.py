"""`gpu serverless drift` as cron runs it (issue 10, item 2): the real CLI against the local
provider, with a console user's edits made through its REST v2 API. Exit 0 in sync, 2 drift,
1 error; the report is read-only in every case."""

from __future__ import annotations

import json
import shutil

import jsonschema
import pytest

from gpuctl.github.drift_flow import ending as github_ending
from gpuctl.catalog import load_catalog
from gpuctl.render.md import code_html
from tests.e2e.conftest import ROOT, echo_config, project

pytestmark = pytest.mark.e2e

DRIFT_SCHEMA = json.loads((ROOT / "schema" / "drift.schema.json").read_text())
SECRET = "s3cr3t-value-never-shown"


def deployed(account, tmp_path, **scaling):
    """An applied echo project whose env holds a secret (from the environment) beside a literal."""
    config = echo_config(env={"TOKEN": "${DRIFT_TOKEN}"}, **scaling)
    proj = project(tmp_path / "proj", config)
    result = account.gpu("serverless", "deploy", "-y", cwd=proj, env={"DRIFT_TOKEN": SECRET})
    assert result.code == 0, result.err
    return proj


def drift(account, proj, *args):
    return account.gpu("serverless", "drift", *args, cwd=proj, env={"DRIFT_TOKEN": SECRET})


def drifted(account, proj) -> dict:
    """`drift --json` that found drift (exit 2): its document, checked against the schema."""
    result = drift(account, proj, "--json")
    assert result.code == 2, result.err
    doc = result.json()
    jsonschema.validate(doc, DRIFT_SCHEMA)
    return doc


def console_patch(account, body: dict) -> None:
    """What a person does in the RunPod console: edit the endpoint in place."""
    endpoint = account.endpoints()[0]
    assert account.server.http.patch(f"/v2/serverless/{endpoint['id']}", json=body).status_code == 200


def test_in_sync_exits_0_and_writes_nothing(account, tmp_path):
    proj = deployed(account, tmp_path)
    writes = account.writes()
    result = drift(account, proj)
    assert result.code == 0, result.err
    assert "In sync" in result.out and "e2e" in result.out
    doc = drift(account, proj, "--json").json()
    jsonschema.validate(doc, DRIFT_SCHEMA)
    assert doc["in_sync"] and doc["drift"] == [] and doc["kind"] == "gpuctl-drift"
    assert "in sync" in drift(account, proj, "--format", "markdown").out
    assert account.writes() == writes


def test_a_console_edit_of_min_workers_is_drift_with_its_cost(account, tmp_path):
    proj = deployed(account, tmp_path)
    shutil.rmtree(proj / ".gpu", ignore_errors=True)  # as on a fresh CI runner
    console_patch(account, {"workers": {"min": 2}})
    writes = account.writes()
    pool = load_catalog().pools["ADA_24"]
    always = f"+${2 * pool.active_usd_per_hour:,.2f}/h always-on"

    text = drift(account, proj)
    assert text.code == 2, text.err
    assert "workers.min" in text.out and "gpu.jsonc 0" in text.out and "account 2" in text.out
    assert always in text.out

    result = drift(account, proj, "--json")
    assert result.code == 2, result.err
    doc = result.json()
    jsonschema.validate(doc, DRIFT_SCHEMA)
    (entry,) = doc["drift"]
    (change,) = entry["changes"]
    assert entry["address"] == "endpoint.echo" and entry["id"] == account.endpoints()[0]["id"]
    assert (change["path"], change["config"], change["account"]) == ("workers.min", 0, 2)
    assert change["origin"] in ("account", "unknown") and "pull --write" in change["what_to_do"]
    assert doc["cost_of_drift"]["always_on_per_hour"] == pytest.approx(2 * pool.active_usd_per_hour)
    assert not doc["in_sync"] and doc["summary"]["fields"] == 1

    markdown = drift(account, proj, "--format", "markdown")
    assert markdown.code == 2, markdown.err
    lines = markdown.out.splitlines()
    assert lines[0].startswith("## gpuctl drift: project")
    row = next(line for line in lines if line.startswith("| <code>workers.min</code>"))
    assert "<code>0</code> | <code>2</code>" in row and "pull --write" in row
    assert always in markdown.out and "What the labels ask" in markdown.out

    for out in (text.out, result.out, markdown.out, text.err, result.err, markdown.err):
        assert SECRET not in out
    assert account.writes() == writes
    assert not (proj / ".gpu").exists()  # no lock, no journal: drift takes neither


def test_a_changed_secret_is_reported_but_never_shown(account, tmp_path):
    proj = deployed(account, tmp_path)
    endpoint = account.endpoints()[0]
    console_patch(account, {"env": {**endpoint["env"], "TOKEN": "console-typed-secret"}})
    result = drift(account, proj, "--json")
    assert result.code == 2, result.err
    (change,) = result.json()["drift"][0]["changes"]
    assert change["path"] == "env.TOKEN" and change["sensitive"]
    assert change["config"] == {"sensitive": True, "from": ["DRIFT_TOKEN"]} and change["account"] == {"sensitive": True}
    for fmt in ("text", "markdown"):
        out = drift(account, proj, "--format", fmt).out
        assert "env.TOKEN" in out and "(sensitive)" in out
        assert ("(sensitive, from $DRIFT_TOKEN)" if fmt == "text" else code_html("(sensitive, from $DRIFT_TOKEN)")) in out, out
        assert SECRET not in out and "console-typed-secret" not in out


def test_an_orphan_is_drift_with_what_it_costs(account, tmp_path):
    proj = deployed(account, tmp_path, min_workers=1)
    config = json.loads((proj / "gpu.jsonc").read_text())
    config["serverless"]["name"] = "renamed"
    (proj / "gpu.jsonc").write_text(json.dumps(config))
    doc = drifted(account, proj)
    orphan = next(e for e in doc["drift"] if e["name"] == "echo")
    assert orphan["drift"] == "orphan" and "--prune" in orphan["what_to_do"]
    item = next(i for i in doc["cost_of_drift"]["items"] if i["address"] == "endpoint.echo")
    assert item["always_on_per_hour"] == pytest.approx(load_catalog().pools["ADA_24"].active_usd_per_hour)
    # The issue body shows the commands as code, not as backslash-escaped backticks, and its
    # legend names no one orphan's id as if it were the only one.
    markdown = drift(account, proj, "--format", "markdown").out
    assert f"**What to do:** owned by this project, no longer in gpu.jsonc and still running: `gpu serverless deploy --prune -y` deletes it, or `gpu serverless import {orphan['id']} --write`" in markdown
    assert "\\`" not in markdown
    legend = markdown.split("### What the labels ask", 1)[1]
    assert "`gpu serverless import ID --write`" in legend and orphan["id"] not in legend  # an endpoint by its id (R5-3)


def test_a_failed_read_exits_1_never_0(account, tmp_path):
    proj = deployed(account, tmp_path)
    writes = account.writes()
    account.faults({"op": "list", "kind": "endpoint", "action": "status", "status": 503, "retry_after": 0})
    for args in ((), ("--json",), ("--format", "markdown")):
        result = drift(account, proj, *args)
        assert result.code == 1, result.out + result.err
        assert "503" in result.err and "Traceback" not in result.err and result.out == ""
    account.clear_faults()
    assert drift(account, proj).code == 0
    assert account.writes() == writes


def test_observed_snapshot_needs_no_server(account, tmp_path):
    proj = deployed(account, tmp_path)
    console_patch(account, {"workers": {"max": 5}})
    snap = account.gpu("serverless", "snapshot", "--out", "account.json", cwd=proj)
    assert snap.code == 0, snap.err
    nowhere = {"GPUCTL_LOCAL_DIR": str(tmp_path / "no-provider-here"), "DRIFT_TOKEN": SECRET}
    result = account.gpu("serverless", "drift", "--observed", "account.json", "--json", cwd=proj, env=nowhere)
    assert result.code == 2, result.err
    (change,) = result.json()["drift"][0]["changes"]
    assert (change["path"], change["config"], change["account"]) == ("workers.max", 2, 5)
    assert "worst case" in result.json()["cost_of_drift"]["items"][0]["parts"][0]["phrase"]
    config = json.loads((proj / "gpu.jsonc").read_text())
    config["serverless"]["scaling"]["max_workers"] = 5  # git takes the console's value
    (proj / "gpu.jsonc").write_text(json.dumps(config))
    assert account.gpu("serverless", "drift", "--observed", "account.json", cwd=proj, env=nowhere).code == 0


def test_usage_errors_exit_1(account, tmp_path):
    proj = deployed(account, tmp_path)
    result = drift(account, proj, "--json", "--format", "markdown")
    assert result.code == 1 and "--json conflicts with --format markdown" in result.err
    assert drift(account, proj, "--format", "yaml").code == 1


def test_an_endpoint_recreated_by_hand_under_its_name_is_drift_not_an_error(account, tmp_path):
    """Someone deleted the project's endpoint in the console and made a new one with the same
    name (no GPUCTL_PROJECT marker). deploy refuses to touch it, but for drift it is the
    documented label "unmanaged": exit 2 with what to do, never exit 1, which a scheduler
    reads as "could not look"."""
    proj = deployed(account, tmp_path)
    ours = account.endpoints()[0]
    assert account.server.http.delete(f"/v2/serverless/{ours['id']}").status_code == 204
    theirs = account.server.create_endpoint("echo", worker=None)
    writes = account.writes()

    result = drift(account, proj, "--json")
    assert result.code == 2, result.err
    doc = result.json()
    jsonschema.validate(doc, DRIFT_SCHEMA)
    (entry,) = doc["drift"]
    assert (entry["address"], entry["id"], entry["drift"]) == ("endpoint.echo", theirs["id"], "unmanaged")
    assert f"gpu serverless import {theirs['id']} --write" in entry["what_to_do"]
    text = drift(account, proj)
    assert text.code == 2 and "unmanaged" in text.out and theirs["id"] in text.out
    assert SECRET not in text.out + text.err + result.out
    assert account.writes() == writes
    deploy = account.gpu("serverless", "deploy", "-y", cwd=proj, env={"DRIFT_TOKEN": SECRET})
    assert deploy.code == 1 and "is unmanaged" in deploy.err  # deploy still never touches it


def test_a_report_made_while_a_deploy_applies_says_so(account, tmp_path):
    """A scheduled report that runs while a merge is being applied sees the apply half-way:
    its differences are the deploy's own writes. The report still shows them (drift, exit 2),
    and says who held the project's lease when it read the account, so nobody runs `deploy -y`
    by hand over a CI apply; once the deploy is done, the report is in sync and says nothing."""
    deployed(account, tmp_path)
    other = project(tmp_path / "merged", echo_config(env={"TOKEN": "${DRIFT_TOKEN}"}, max_workers=3))
    account.faults({"op": "update", "kind": "endpoint", "action": "hang", "seconds": 300})  # until clear_faults releases it
    deploy = account.popen("serverless", "deploy", "-y", cwd=other, env={"DRIFT_TOKEN": SECRET})  # the merge, applied by CI
    try:
        for line in deploy.stderr:
            if "updating" in line:  # under the lease, its write held by the account
                break
        result = drift(account, other)
        assert result.code == 2, result.err
        assert "note: another gpuctl command of this project holds its account lease (gpuctl-lock-e2e): pid " in result.out
        assert "shows in this report as drift: run the report again once it has finished" in result.out
        assert "`gpu serverless deploy -y`" in result.out
        doc = drift(account, other, "--json").json()
        jsonschema.validate(doc, DRIFT_SCHEMA)
        assert doc["applying"].startswith(f"pid {deploy.pid} on ")
        assert doc["lease"]["status"] == "held" and doc["applying"] == f"{doc['lease']['holder']} ({doc['lease']['detail']})", doc["lease"]
        assert "> **Note:** another gpuctl command of this project holds its account lease" in drift(account, other, "--format", "markdown").out
    finally:
        account.clear_faults()
    assert deploy.wait(timeout=120) == 0
    after = drift(account, other, "--json")
    assert after.code == 0 and after.json()["applying"] is None and "lease" not in after.json()


def test_a_volume_grown_in_the_console_is_drift_not_an_error(account, tmp_path):
    """Someone grew the project's network volume in the console (it was full). deploy cannot
    shrink it and keeps it at that size with a warning (review 3, R12), but for drift it
    is a difference to report, with the size on both sides and what to set: exit 2 and every
    other difference still reported, never exit 1, which the drift job reads as "could not
    look" and so opens no issue at all."""
    config = echo_config(env={"TOKEN": "${DRIFT_TOKEN}"}, volume="models")
    proj = project(tmp_path / "proj", config)
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env={"DRIFT_TOKEN": SECRET}).code == 0
    (volume,) = account.volumes()
    assert account.server.http.patch(f"/v2/network-volumes/{volume['id']}", json={"size": 60}).status_code == 200
    console_patch(account, {"workers": {"max": 4}})
    writes = account.writes()

    doc = drifted(account, proj)
    grown = next(e for e in doc["drift"] if e["kind"] == "network_volume")
    assert (grown["address"], grown["id"], grown["drift"]) == ("network_volume.models@EU-RO-1", volume["id"], "larger-in-account")
    (size,) = grown["changes"]
    assert (size["path"], size["config"], size["account"]) == ("size", 20, 60)
    assert "volume.size_gb" in grown["what_to_do"] and "60" in grown["what_to_do"] and "deploy -y" not in size["what_to_do"]
    assert any(c["path"] == "workers.max" for e in doc["drift"] for c in e["changes"])  # the rest is still reported
    assert doc["summary"]["labels"]["larger-in-account"] == 1
    text = drift(account, proj)
    assert text.code == 2 and "network_volume.models@EU-RO-1" in text.out and "volume.size_gb" in text.out
    markdown = drift(account, proj, "--format", "markdown")
    assert markdown.code == 2 and "larger in the account" in markdown.out
    assert account.writes() == writes
    plan = account.gpu("serverless", "deploy", "--plan", cwd=proj, env={"DRIFT_TOKEN": SECRET})
    assert plan.code == 0 and "kept at 60 GB" in plan.out + plan.err  # deploy plans the rest and keeps the volume, with a warning


def test_a_console_edit_names_the_gpu_jsonc_key_and_line_to_edit(account, tmp_path):
    """RunPod's name for the field (workers.idleTimeout) is not what the user edits: every
    format also names the gpu.jsonc key, and its line in the file."""
    proj = deployed(account, tmp_path)
    lines = (proj / "gpu.jsonc").read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if '"idle_timeout"' in text)
    console_patch(account, {"workers": {"idleTimeout": 42}})

    doc = drifted(account, proj)
    (change,) = doc["drift"][0]["changes"]
    assert (change["path"], change["config"], change["account"]) == ("workers.idleTimeout", 5, 42)
    assert change["config_keys"] == [{"key": "serverless.scaling.idle_timeout", "file": "gpu.jsonc", "line": line}]

    text = drift(account, proj)
    assert text.code == 2, text.err
    assert f"in gpu.jsonc: serverless.scaling.idle_timeout (gpu.jsonc:{line})" in text.out

    markdown = drift(account, proj, "--format", "markdown").out
    row = next(r for r in markdown.splitlines() if r.startswith("| <code>workers.idleTimeout</code>"))
    assert f"| {code_html('serverless.scaling.idle_timeout')} gpu.jsonc:{line} |" in row


def test_a_gpu_pool_change_names_the_gpu_type_keys(account, tmp_path):
    """gpu.pools holds pool ids; gpu.jsonc says GPU type names, under gpu_type."""
    proj = deployed(account, tmp_path)
    lines = (proj / "gpu.jsonc").read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if '"gpu_type"' in text)
    console_patch(account, {"gpu": {"pools": ["AMPERE_16"]}})
    doc = drift(account, proj, "--json").json()
    change = next(c for c in doc["drift"][0]["changes"] if c["path"] == "gpu.pools")
    assert change["config_keys"] == [{"key": "serverless.gpu_type", "file": "gpu.jsonc", "line": line}]


def _cron_line() -> str:
    """The command of docs/drift.md's crontab line (after its five time fields)."""
    import re

    block = (ROOT / "docs" / "drift.md").read_text().split("```cron\n", 1)[1].split("```", 1)[0]
    (line,) = [line for line in block.splitlines() if line and not line.startswith("#")]
    return re.split(r"\s+", line, maxsplit=5)[5]


def test_the_documented_cron_line_mails_the_report_only_on_drift_and_shares_no_file(account, tmp_path):
    """The crontab line of docs/drift.md, run by /bin/sh as cron runs it: silent in sync, the
    report on stdout (what cron mails) on drift, only the error on stderr on a failed read. It
    wrote the report to one fixed /tmp/gpuctl-drift.txt, shared by every run and every project on
    the host: two runs at once (an overlap, two projects scheduled at the same minute) truncated
    and mailed each other's report, and any local user could read it. It now keeps the report in
    its own temporary file under $TMPDIR, removed after."""
    import subprocess
    import sys

    proj = deployed(account, tmp_path)
    (tmp_path / "env").write_text(f"export DRIFT_TOKEN={SECRET}\n")
    assert "/tmp/" not in _cron_line()
    line = _cron_line().replace("/srv/ml-api", str(proj)).replace("/etc/gpuctl/env", str(tmp_path / "env"))
    temp = tmp_path / "tmp"
    temp.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gpu").write_text(f"#!/bin/sh\nexec {sys.executable} -m gpuctl \"$@\"\n")
    (bin_dir / "gpu").chmod(0o755)

    def cron():
        env = account.env | {"TMPDIR": str(temp), "PATH": f"{bin_dir}:/usr/bin:/bin"}
        done = subprocess.run(["/bin/sh", "-c", line], env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        assert list(temp.iterdir()) == []  # nothing left behind
        return done

    quiet = cron()
    assert (quiet.stdout, quiet.stderr) == ("", "")
    console_patch(account, {"workers": {"idleTimeout": 42}})
    mailed = cron()
    assert mailed.stdout.startswith("Drift (project \"e2e\"") and "workers.idleTimeout" in mailed.stdout and mailed.stderr == ""
    account.faults({"op": "list", "kind": "endpoint", "action": "status", "status": 401})
    failed = cron()
    assert failed.stdout == "" and "unauthorized (401)" in failed.stderr


def test_an_endpoint_deleted_in_the_account_is_named_by_its_id_in_every_view(account, tmp_path):
    """The JSON reason named the deleted endpoint's id; the text and Markdown said only
    "deleted in the account", so a cron mail or a drift issue could not say which endpoint's
    callers still point at the gone URL."""
    proj = deployed(account, tmp_path)
    (gone,) = account.endpoints()
    assert account.server.http.delete(f"/v2/serverless/{gone['id']}").status_code == 204
    doc = drift(account, proj, "--json").json()
    (entry,) = doc["drift"]
    assert entry["drift"] == "deleted-in-account" and gone["id"] in entry["reason"]
    text, markdown = drift(account, proj), drift(account, proj, "--format", "markdown")
    assert text.code == markdown.code == 2
    assert f"why: {entry['reason']}" in text.out, text.out
    assert f"**Why:** applied by this project as endpoint {gone['id']}" in markdown.out, markdown.out


def test_a_deploy_killed_on_this_machine_is_not_reported_as_applying(account, tmp_path):
    """A deploy on the cron host was killed with -9 half-way, and the nightly report ran a minute
    later on the same host. Its account lease stays in the account until it expires (5 minutes),
    and the report said a command "held its account lease ... run the report again once it is
    done", about a process that no longer exists (and `gpu github drift` left the issue alone
    for that): the next deploy on this machine takes such a lease at once, as stale. The report
    judges the lease the same way: what the killed deploy left half-way is drift, with no note."""
    import os
    import signal

    deployed(account, tmp_path)
    other = project(tmp_path / "merged", echo_config(env={"TOKEN": "${DRIFT_TOKEN}"}, max_workers=3))
    account.faults({"op": "update", "kind": "endpoint", "action": "hang", "seconds": 300})  # its write held: it dies under the lease
    deploy = account.popen("serverless", "deploy", "-y", cwd=other, env={"DRIFT_TOKEN": SECRET})
    try:
        for line in deploy.stderr:
            if "updating" in line:
                break
        os.kill(deploy.pid, signal.SIGKILL)
        deploy.wait(timeout=60)
    finally:
        account.clear_faults()
    assert any(t["name"] == "gpuctl-lock-e2e" for t in account.server.http.get("/v2/templates").json()["templates"])  # left behind

    result = drift(account, other, "--json")
    doc = result.json()
    jsonschema.validate(doc, DRIFT_SCHEMA)
    assert doc["applying"] is None and "lease" not in doc, doc["applying"]
    text = drift(account, other)
    assert "account lease" not in text.out + text.err


def test_the_json_of_one_night_and_the_next_is_the_same_when_the_project_did_not_move(account, tmp_path):
    """A platform team diffs tonight's `drift --json` against last night's to alert only on
    change. Its `observed_digest` fingerprinted the whole account, so another project's deploy
    (any endpoint or volume of the account made, edited or deleted) changed the document of a
    project whose drift had not moved. It fingerprints what this report covers: the project's
    own resources and those it lists."""
    proj = deployed(account, tmp_path)
    console_patch(account, {"workers": {"min": 1}})
    first = drift(account, proj, "--json")
    assert first.code == 2, first.err
    jsonschema.validate(first.json(), DRIFT_SCHEMA)
    other = account.server.create_endpoint("another-team", worker=None, env={"GPUCTL_PROJECT": "other"})
    assert account.server.http.post("/v2/network-volumes", json={"name": "theirs", "size": 10, "dataCenter": "EU-RO-1"}).status_code in (200, 201)
    second = drift(account, proj, "--json")
    assert second.out == first.out
    assert account.server.http.patch(f"/v2/serverless/{other['id']}", json={"workers": {"max": 3}}).status_code == 200
    assert drift(account, proj, "--json").out == first.out

    console_patch(account, {"workers": {"idleTimeout": 42}})  # the project moved: so does its document, digest and all
    moved = drift(account, proj, "--json").json()
    assert moved["observed_digest"] != first.json()["observed_digest"]


def test_a_volume_detached_and_deleted_in_the_console_is_not_called_a_change_in_gpu_jsonc(account, tmp_path):
    """Someone detached the project's network volume in the console and deleted it; gpu.jsonc
    did not move. The endpoint's `networkVolumes` was labelled "changed in both" ("a conflict:
    git and the account both moved"), because gpu.jsonc's side is an id known only after the
    volume is made again. Who moved it cannot be told from that, so it is "origin unknown", and
    the volume itself is reported missing, to be made again by deploy."""
    config = echo_config(env={"TOKEN": "${DRIFT_TOKEN}"}, volume="models")
    proj = project(tmp_path / "proj", config)
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env={"DRIFT_TOKEN": SECRET}).code == 0
    (volume,) = account.volumes()
    console_patch(account, {"networkVolumes": []})
    assert account.server.http.delete(f"/v2/network-volumes/{volume['id']}").status_code == 204

    doc = drifted(account, proj)
    missing = next(e for e in doc["drift"] if e["kind"] == "network_volume")
    assert missing["action"] == "create" and "creates it, empty" in missing["what_to_do"]
    (change,) = next(e for e in doc["drift"] if e["address"] == "endpoint.echo")["changes"]
    assert (change["path"], change["account"], change["origin"]) == ("networkVolumes", [], "unknown")
    assert "known only after apply" in change["what_to_do"]
    assert "[changed in both]" not in drift(account, proj).out


def test_an_endpoint_of_another_project_holding_a_block_s_name_says_which_project_id_owns_it(account, tmp_path):
    """The schedule ran gpu.jsonc with another project id than the deploys (someone changed
    `project_id`, or gpu.jsonc has none and the cron checkout's directory has another name):
    every endpoint was "unmanaged", and what to do was to adopt it, which would take it from the
    project that runs it. The advice names the project that owns it and the project_id that
    would make this report match it again."""
    proj = deployed(account, tmp_path)
    config = json.loads((proj / "gpu.jsonc").read_text())
    config["project_id"] = "e2e-renamed"
    (proj / "gpu.jsonc").write_text(json.dumps(config))
    doc = drifted(account, proj)
    (entry,) = doc["drift"]
    assert entry["drift"] == "unmanaged"
    assert 'belongs to project "e2e"' in entry["what_to_do"] and '"project_id": "e2e"' in entry["what_to_do"], entry["what_to_do"]
    assert '"project_id": "e2e"' in drift(account, proj).out
    ending = github_ending(doc)  # the drift issue's closing section agrees with the row: never "adopt it"
    assert "**Another project's**" in ending and "set `project_id` back" in ending, ending
    assert "gpu serverless import" not in ending and "**Unmanaged**" not in ending, ending


def test_a_field_the_account_stops_sending_is_not_reported_as_changed_to_null(account, tmp_path):
    """RunPod's answer without `workers.max` (an API change) is not every endpoint "changed in
    the account" to null: the report cannot compare that field, says the account did not
    report it, points at `gpu doctor`, and exits 1 like any read it cannot trust, so a
    schedule opens no drift issue blaming the fleet on someone in the console."""
    proj = deployed(account, tmp_path)
    writes = account.writes()
    omitted = [{"op": op, "kind": "endpoint", "action": "omit_field", "field": "workers.max"} for op in ("list", "get")]
    eid = account.endpoints()[0]["id"]
    account.faults(*omitted)
    for args in ((), ("--json",), ("--format", "markdown")):
        result = drift(account, proj, *args)
        assert result.code == 1, result.out + result.err
        assert result.out == "" and "Traceback" not in result.err
        assert "changed in the account" not in result.err and "null" not in result.err and "published price" not in result.err
        assert "endpoint.echo" in result.err and eid in result.err and "workers.max" in result.err
        assert "did not report" in result.err and "gpu doctor" in result.err
    plan = account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj, env={"DRIFT_TOKEN": SECRET})
    assert plan.code == 0, plan.out + plan.err  # nothing to write: a field not reported is not a change
    assert "did not report" in plan.out + plan.err and "gpu doctor" in plan.out + plan.err
    assert account.writes() == writes


def test_a_cost_line_names_only_the_amounts_that_move(account, tmp_path):
    """Raising workers.max in the console moves the worst case alone: no view says
    "+$0.00/h always-on" beside it (the total, the endpoint's line, the field's phrase)."""
    proj = deployed(account, tmp_path)
    console_patch(account, {"workers": {"max": 5}})
    doc = drift(account, proj, "--json").json()
    assert doc["cost_of_drift"]["always_on_per_hour"] == 0 and doc["cost_of_drift"]["worst_case_per_hour"] > 0
    for fmt in ("text", "markdown"):
        out = drift(account, proj, "--format", fmt).out
        cost = out[out.index("Cost of the drift"):]
        assert "worst case" in cost and "$0.00" not in cost and "always-on" not in cost, cost


def test_two_endpoints_claiming_one_block_are_drift_that_names_both_and_the_one_to_delete(account, tmp_path):
    """A create that crashed after RunPod made the endpoint, and its retry, leave two endpoints
    with the project's marker and the block's name. deploy refuses to plan and says which to
    delete; a nightly drift that exited 1 on it would be noise every night. It is drift (exit 2):
    the extra endpoint labelled duplicate, naming both ids and deploy's own advice (keep the
    oldest), in every view and in the drift issue's ending section."""
    proj = deployed(account, tmp_path)
    (ours,) = account.endpoints()
    copy = {k: v for k, v in ours.items() if k not in ("id", "createdAt", "userId", "templateId", "version", "requestUrls")}
    copy["gpu"] = {k: v for k, v in copy["gpu"].items() if v is not None}
    made = account.server.http.post("/v2/serverless", json=copy)  # the retry's: the same body, the same marker
    assert made.status_code == 201, made.text
    # deploy keeps the oldest; createdAt has second precision, so two made in one second go by id
    kept, extra = sorted(account.endpoints(), key=lambda e: (e["createdAt"], e["id"]))
    writes = account.writes()

    doc = drifted(account, proj)
    (entry,) = [e for e in doc["drift"] if e["drift"] == "duplicate"]
    assert (entry["address"], entry["id"], entry["action"]) == ("endpoint.echo", extra["id"], "no-op")
    assert kept["id"] in entry["reason"] and extra["id"] in entry["reason"], entry["reason"]
    assert f"gpu serverless delete {extra['id']} --force" in entry["what_to_do"], entry["what_to_do"]
    assert doc["summary"]["labels"]["duplicate"] == 1
    deploy = account.gpu("serverless", "deploy", "--plan", cwd=proj, env={"DRIFT_TOKEN": SECRET})
    assert deploy.code == 1 and f"gpu serverless delete {extra['id']} --force" in deploy.err  # the same advice as deploy's
    (cost,) = doc["cost_of_drift"]["items"]  # the extra one runs, and bills, beside the one kept
    assert cost["address"] == "endpoint.echo" and cost["parts"][0]["phrase"].startswith("a second endpoint")
    for fmt in ("text", "markdown"):
        out = drift(account, proj, "--format", fmt)
        assert out.code == 2 and extra["id"] in out.out and kept["id"] in out.out and "duplicate" in out.out, out.out + out.err
        assert f"gpu serverless delete {extra['id']} --force" in out.out
    ending = github_ending(doc)
    assert "**Duplicate**" in ending and f"gpu serverless delete {extra['id']} --force" in ending, ending
    listed = account.gpu("serverless", "list", "--json", cwd=proj, env={"DRIFT_TOKEN": SECRET})  # plans as drift does
    assert listed.code == 0, listed.err
    assert [r["id"] for r in listed.json()["endpoints"] if r["name"] == "echo"] == [kept["id"]], listed.out
    assert account.writes() == writes

    assert account.gpu("serverless", "delete", extra["id"], "--force", cwd=proj).code == 0
    assert drift(account, proj).code == 0  # the advice ends it


def test_an_endpoint_created_between_the_reads_of_the_account_is_not_called_deleted_in_it(account, tmp_path):
    """The report reads the endpoints and the templates (where the last-applied records are) in
    separate requests. A deploy that created a block's endpoint and wrote its record between
    the two, and was done (its lease gone) before the second, left a record of an endpoint the
    first read did not have: the report said it was DELETED IN THE ACCOUNT and that re-creating
    it changes its URL, with no note of a deploy, so a schedule opened an issue on it. The
    report checks such an endpoint by its id and reads the account again."""
    from tests.local.conftest import wait_for

    proj = deployed(account, tmp_path)
    config = json.loads((proj / "gpu.jsonc").read_text())
    config["serverless"] = [config["serverless"], {**config["serverless"], "name": "second"}]
    (proj / "gpu.jsonc").write_text(json.dumps(config))
    account.server.admin("POST", "requests/reset")
    account.faults({"op": "list", "kind": "template", "action": "hang", "seconds": 300, "times": 1})  # the report's read of the records
    report = account.popen("serverless", "drift", "--json", cwd=proj, env={"DRIFT_TOKEN": SECRET})
    try:
        wait_for(lambda: any(r["method"] == "GET" and r["path"] == "/v2/serverless" for r in account.requests()))  # the endpoints are read
        made = account.gpu("serverless", "deploy", "-y", cwd=proj, env={"DRIFT_TOKEN": SECRET})
        assert made.code == 0, made.err
    finally:
        account.clear_faults()  # the records are read now, after the deploy
    out, err = report.communicate(timeout=120)
    assert "DELETED IN THE ACCOUNT" not in out and "deleted-in-account\": 1" not in out, out
    assert report.returncode == 0, out + err  # read again: the deploy is done, the account matches
    doc = json.loads(out)
    assert doc["in_sync"] and doc["applying"] is None


def test_the_github_drift_job_gets_the_document_drift_json_prints_without_printing_it(account, tmp_path, monkeypatch):
    """The drift job's document is made, not printed and parsed back: the CLI's printed JSON
    is exactly `dumps` of it, byte for byte, and the job's read writes nothing to stdout."""
    import io

    from gpuctl.cli import drift_cmd
    from gpuctl.cli.context import AppContext
    from gpuctl.github import runner
    from gpuctl.render.document import dumps

    proj = deployed(account, tmp_path)
    console_patch(account, {"workers": {"min": 2}})
    printed = drift(account, proj, "--json")
    assert printed.code == 2, printed.err

    def no_writing(*args):
        raise AssertionError("the drift job printed the report to read it back")

    monkeypatch.setattr(drift_cmd, "_write", no_writing)
    out, err = io.StringIO(), io.StringIO()
    app = AppContext(environ=account.env | {"DRIFT_TOKEN": SECRET}, cwd=proj, stdout=out, stderr=err)
    doc = runner.drift_document(app, "gpu.jsonc", None, repository="acme/api")
    assert dumps(doc) == printed.out
    assert json.loads(printed.out) == doc and out.getvalue() == ""
    assert SECRET not in printed.out


def test_a_removed_marker_is_advised_only_what_restores_it(account, tmp_path):
    """Review 2, F3 and L3: the GPUCTL_PROJECT field of an endpoint that lost its marker was
    advised `pull --write` to keep the removal (pull refuses gpuctl's own marker), the Markdown
    legend said `set it on endpoint NAME` with a literal placeholder, and the text showed the
    missing account value as JSON `null`."""
    proj = deployed(account, tmp_path)
    endpoint = account.endpoints()[0]
    console_patch(account, {"env": {k: v for k, v in endpoint["env"].items() if k != "GPUCTL_PROJECT"}})
    doc = drifted(account, proj)
    (entry,) = doc["drift"]
    (change,) = entry["changes"]
    assert entry["drift"] == "marker-lost" and change["path"] == "env.GPUCTL_PROJECT"
    assert "pull" not in change["what_to_do"] and "GPUCTL_PROJECT=e2e" in change["what_to_do"], change["what_to_do"]
    text = drift(account, proj).out
    assert "pull --write" not in text, text
    assert "null" not in text and 'gpu.jsonc "e2e"  account (absent)' in text, text
    markdown = drift(account, proj, "--format", "markdown").out
    assert "pull --write" not in markdown and "NAME" not in markdown and "null" not in markdown, markdown
    assert "| (absent) |" in markdown, markdown
    # pull agrees: it never writes the marker, so nothing the report advises is refused.
    pulled = account.gpu("serverless", "pull", cwd=proj, env={"DRIFT_TOKEN": SECRET})
    assert "GPUCTL_PROJECT" in pulled.out + pulled.err and "never written to gpu.jsonc" in pulled.out + pulled.err


def test_deploy_and_drift_give_one_advice_for_a_name_another_project_holds(account, tmp_path):
    """Review 2, F12: for a block's name held by another project's endpoint, deploy's error
    said "to adopt it" first (taking it from the other team) and never the likely cause, the
    project id changed, which drift's advice explains first, with adopt last and its
    consequence. Both now say drift's text."""
    proj = deployed(account, tmp_path)
    config = json.loads((proj / "gpu.jsonc").read_text())
    config["project_id"] = "e2e-renamed"
    (proj / "gpu.jsonc").write_text(json.dumps(config))
    (entry,) = drifted(account, proj)["drift"]
    advice = entry["what_to_do"].split("which gpuctl never touches: ", 1)[1]
    refused = account.gpu("serverless", "deploy", "--plan", cwd=proj, env={"DRIFT_TOKEN": SECRET})
    err = " ".join(refused.err.split())  # the hint is wrapped to the terminal
    assert refused.code == 1 and "Traceback" not in refused.err, refused.err
    assert advice in err, (advice, err)
    assert err.index('"project_id": "e2e"') < err.index('"adopt"'), err
    assert "to adopt it" not in err and "GPUCTL_PROJECT=e2e-renamed" not in err, err


def plant_lease(account, project_id: str, ahead: float) -> None:
    """A lease template of the project made by hand (or by a runner whose clock runs ahead),
    its expiry `ahead` seconds past this machine's clock, its holder on another machine."""
    import time

    from gpuctl.engine.lease import lease_name
    from gpuctl.v2 import template_request as template_body

    env = {"GPUCTL_PROJECT": project_id, "GPUCTL_LEASE_HOLDER": "pid 4242 on runner-7 (`gpu serverless deploy -y`)",
           "GPUCTL_LEASE_EXPIRES": f"{time.time() + ahead:.0f}", "GPUCTL_LEASE_TOKEN": "abcdef0123456789",
           "GPUCTL_LEASE_HOST": "runner-7", "GPUCTL_LEASE_PID": "4242"}
    body = template_body(lease_name("project", project_id), "gpuctl/lock:none", env)
    assert account.server.http.post("/v2/templates", json=body).status_code in (200, 201)


def test_a_lease_whose_expiry_no_holder_writes_does_not_make_the_report_applying(account, tmp_path):
    """Review 2, F11: a lease template whose expiry is hours ahead (hand-made, or a runner's
    clock far ahead) made drift report "applying" until it expired, up to a day, so `gpu
    github drift` touched no issue for that long: one template hid a console edit. deploy
    counts such an expiry for the TTL plus a minute only (it is taken over once nobody renews
    it); drift, reading once, cannot wait for a renewal, so it does not count it as applying.
    It says so in the report, as `deploy --plan` does (`lease` unclear), not on stderr."""
    proj = deployed(account, tmp_path)
    console_patch(account, {"workers": {"min": 2}})
    plant_lease(account, "e2e", 72_000)
    result = drift(account, proj, "--json")
    assert result.code == 2, result.err
    doc = result.json()
    jsonschema.validate(doc, DRIFT_SCHEMA)
    assert doc["applying"] is None and doc["lease"]["status"] == "unclear", (doc["applying"], doc.get("lease"))
    text = drift(account, proj)
    assert "holds its account lease" not in text.out and text.err == "", text.err
    assert "names pid 4242 on runner-7 (`gpu serverless deploy -y`), but its expiry is 19h5" in text.out, text.out


def test_a_lease_a_holder_with_a_correct_clock_writes_still_makes_the_report_applying(account, tmp_path):
    """The other side of the rule: an expiry within the TTL plus the skew allowance is a holder
    renewing its lease; the report names it as applying."""
    from gpuctl.engine.lease import TTL_S

    proj = deployed(account, tmp_path)
    console_patch(account, {"workers": {"min": 2}})
    plant_lease(account, "e2e", TTL_S)
    doc = drifted(account, proj)
    assert doc["applying"] and doc["applying"].startswith("pid 4242 on runner-7"), doc["applying"]


def test_drift_takes_detailed_exitcode_as_terraform_users_type_it(account, tmp_path):
    """Review 3, L3: the README named `--detailed-exitcode` for scheduled drift detection, and
    `drift --detailed-exitcode` was an unknown option (exit 1, every night). drift's exit codes
    are already the detailed ones: the flag is accepted and changes nothing."""
    proj = deployed(account, tmp_path)
    assert drift(account, proj, "--detailed-exitcode").code == 0
    console_patch(account, {"workers": {"min": 2}})
    result = drift(account, proj, "--detailed-exitcode")
    assert result.code == 2 and "workers.min" in result.out, result.err


@pytest.mark.parametrize("op", ["list", "get"])
def test_an_env_answered_as_a_list_is_an_error_naming_the_endpoint_and_the_field(account, tmp_path, op):
    """Review 8, R8-2: an endpoint's env answered as `[{"key", "value"}]` (RunPod's GraphQL
    shape) crashed drift, deploy --plan and status with "internal error: AttributeError" in the
    planner. The provider now holds every answer field gpuctl reads into to its shape on the
    way in: exit 1, naming the endpoint, the field and what came back, never its values."""
    proj = deployed(account, tmp_path)
    account.faults({"op": op, "kind": "endpoint", "action": "extra_field", "field": "env", "value": [{"key": "TOKEN", "value": SECRET}]})
    commands = [("serverless", "drift"), ("serverless", "deploy", "--plan")] if op == "list" else [("serverless", "status", "echo")]
    for args in commands:
        result = account.gpu(*args, cwd=proj, env={"DRIFT_TOKEN": SECRET})
        assert result.code == 1, (args, result.out, result.err)
        assert "internal error" not in result.err and "Traceback" not in result.err, result.err
        assert 'endpoint "echo"' in result.err and "whose env is a list of objects, not an object" in result.err, result.err
        assert '[{"key", "value"}] is the GraphQL shape of env' in result.err and "gpu doctor" in result.err, result.err
        assert SECRET not in result.out + result.err
