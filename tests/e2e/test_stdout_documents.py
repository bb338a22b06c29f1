"""What gpu writes on stdout is never silently rewritten (review 4, R4-5; ADR 38).

A `${VAR}` value (or a credential-named variable of gpu's environment) is protected: masked as
"(redacted)" wherever it occurs in text. When the same text is also a plain field of a document
gpuctl builds (the image a worker reports from `${WORKER_IMAGE}`), masking it there rewrote the
document: `snapshot > acct.json` held `"image": "(redacted)"` and a plan against it invented
updates; `deploy --plan --json` said `"desired": {"image": "(redacted)"}`. gpuctl's documents
hide their secret fields when they are built, and are written as built. What a worker says
(invoke, logs, job status) is not gpuctl's, and stays masked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import ECHO_HANDLER, STAYS, echo_config, project

pytestmark = pytest.mark.e2e

IMAGE = "ghcr.io/example/echo-worker:0.1.0"  # echo_config's image
SECRET = "hf_documents_canary_4c2e9a71"


def _config(**env: str) -> dict:
    return echo_config(env={"WORKER_IMAGE": "${WORKER_IMAGE}", "HF_TOKEN": "${CANARY}", **env}, idle_timeout=STAYS)


# WORKER_IMAGE: a `${VAR}` whose value is the image; MY_TOKEN: a credential-named variable of
# gpu's environment holding the same text. Either one alone masked the image.
ENV = {"WORKER_IMAGE": IMAGE, "CANARY": SECRET, "MY_TOKEN": IMAGE}


def test_a_snapshot_on_stdout_is_the_document_out_writes_and_a_plan_against_it_is_in_sync(account, tmp_path):
    proj = project(tmp_path / "p", _config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env=ENV).code == 0
    piped = account.gpu("serverless", "snapshot", cwd=proj, env=ENV)
    assert piped.code == 0, piped.err
    assert account.gpu("serverless", "snapshot", "--out", "out.json", cwd=proj, env=ENV).code == 0
    assert piped.out == (proj / "out.json").read_text()  # one document, wherever it is written
    assert "(redacted)\"" not in piped.out and IMAGE in piped.out
    assert SECRET not in piped.out  # the secret itself is hidden by the document, not by the stream
    (proj / "acct.json").write_text(piped.out)
    plan = account.gpu("serverless", "deploy", "--plan", "--observed", "acct.json", "--detailed-exitcode", cwd=proj, env=ENV)
    assert plan.code == 0, plan.out + plan.err  # in sync: no update invented from a rewritten image
    assert "to update" not in plan.out


def test_plan_json_on_stdout_keeps_a_desired_value_equal_to_a_protected_one(account, tmp_path):
    proj = project(tmp_path / "p", _config(), {"handler.py": ECHO_HANDLER})
    plan = account.gpu("serverless", "deploy", "--plan", "--json", cwd=proj, env=ENV)
    assert plan.code in (0, 2), plan.err
    change = next(c for c in plan.json()["resource_changes"] if c["desired"])
    assert change["desired"]["image"] == IMAGE
    assert SECRET not in plan.out


def test_list_status_and_drift_json_are_written_as_built(account, tmp_path):
    proj = project(tmp_path / "p", _config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env=ENV).code == 0
    for command in (("list", "--json"), ("list", "--all", "--json"), ("status", "echo", "--json"), ("drift", "--json")):
        run = account.gpu("serverless", *command, cwd=proj, env=ENV)
        assert run.code == 0, (command, run.err)
        json.loads(run.out)
        assert "(redacted)\"" not in run.out and SECRET not in run.out, (command, run.out)


def test_what_a_worker_echoes_of_a_protected_value_stays_masked(account, tmp_path):
    """The other side of the line: a worker's answer is not gpuctl's document, so a `${VAR}`
    value it returns or prints is masked, with --json too."""
    leaky = (Path(__file__).parent / "workers" / "leaky.py").read_text()
    config = _config()
    config["serverless"]["local"]["command"] = ["python", "leaky.py"]
    proj = project(tmp_path / "p", config, {"leaky.py": leaky})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env=ENV).code == 0
    show = '{"show": ["HF_TOKEN"]}'
    runs = [account.gpu("serverless", "invoke", "echo", "--input", show, cwd=proj, env=ENV)]
    runs.append(account.gpu("serverless", "invoke", "echo", "--input", show, "--json", cwd=proj, env=ENV))
    assert runs[-1].code == 0, runs[-1].err
    job = runs[-1].json()
    assert job["output"] == {"HF_TOKEN": "(redacted)"}
    runs.append(account.gpu("serverless", "job", "status", "echo", job["id"], "--json", cwd=proj, env=ENV))
    runs.append(account.gpu("serverless", "logs", "echo", cwd=proj, env=ENV))
    for run in runs:
        assert run.code == 0, run.err
        assert SECRET not in run.out and SECRET not in run.err
        assert "(redacted)" in run.out


NAME = "echo-named-canary"  # the endpoint's name, and the value of a `${VAR}` gpu.jsonc reads
CARELESS = (Path(__file__).parent / "workers" / "careless.py").read_text()


def _named(**env: str) -> dict:
    config = echo_config(name=NAME, env={"WORKER_IMAGE": "${WORKER_IMAGE}", "WORKER_NAME": "${WORKER_NAME}", "HF_TOKEN": "${CANARY}", **env},
                         idle_timeout=STAYS)
    return config


def _as_made(run, code: int) -> dict:
    """deploy --json's result document, exit `code`: its plan and endpoints as gpuctl made them,
    and no canary anywhere in the output."""
    assert run.code == code, run.out + run.err
    doc = run.json()
    assert SECRET not in run.out and SECRET not in run.err
    [change] = doc["plan"]["resource_changes"]
    assert change["address"] == f"endpoint.{NAME}" and change["name"] == NAME, change
    assert change["desired"]["image"] == IMAGE, change["desired"]
    assert "(redacted)\"" not in json.dumps(doc["plan"]) and "(redacted)\"" not in json.dumps(doc["endpoints"]), doc
    return doc


def test_the_deploy_json_result_keeps_plain_fields_equal_to_protected_values_however_it_ends(account, tmp_path):
    """ADR 38 applied to deploy's result document: it masked stdout as a whole, so the image and
    the endpoint's name, each equal to a `${VAR}`'s value, read "(redacted)" in its plan, its
    endpoints and its outcome, whether the apply succeeded, failed or was refused."""
    env = ENV | {"WORKER_NAME": NAME}
    proj = project(tmp_path / "p", _named(), {"handler.py": ECHO_HANDLER})

    account.faults({"op": "create", "kind": "endpoint", "action": "status", "status": 400})
    failed = _as_made(account.gpu("serverless", "deploy", "--json", cwd=proj, env=env), 1)
    assert not failed["applied"] and failed["outcome"]["failed"][0]["address"] == f"endpoint.{NAME}", failed
    account.clear_faults()

    from tests.e2e.test_account_lease import plant_lease

    planted = plant_lease(account, "e2e", expires_in=300, host="runner-7")
    refused = _as_made(account.gpu("serverless", "deploy", "--json", cwd=proj, env=env), 3)
    assert "holds the account lease" in refused["error"] and refused["plan"]["lease"]["status"] == "held", refused
    assert account.server.http.delete(f"/v2/templates/{planted['id']}").status_code in (200, 204)

    applied = _as_made(account.gpu("serverless", "deploy", "--json", cwd=proj, env=env), 0)
    assert applied["applied"] and applied["endpoints"][0]["name"] == NAME, applied
    assert applied["outcome"]["done"][0]["address"] == f"endpoint.{NAME}", applied["outcome"]


def test_what_a_worker_answers_a_deploy_stays_masked_in_the_result_written_as_made(account, tmp_path):
    """The other side of the line in deploy's result: a warm-up's handler error and the health
    gate's smoke job error are a worker's words, masked where the document is built; the
    document around them is as made."""
    token = "sk_result_document_canary_8d1f"
    config = _named(TOKEN="${TOKEN}")
    config["serverless"]["local"]["command"] = ["python", "careless.py"]
    config["serverless"]["prewarm"] = {"enabled": True, "mode": "gpu"}
    proj = project(tmp_path / "p", config, {"careless.py": CARELESS, "smoke.json": json.dumps({"input": {"ping": True}})})
    run = account.gpu("serverless", "deploy", "--json", "--wait-healthy", "--smoke", "smoke.json", cwd=proj,
                      env=ENV | {"WORKER_NAME": NAME, "TOKEN": token}, timeout=300)
    doc = _as_made(run, 5)
    assert token not in run.out and token not in run.err
    [warmed] = doc["prewarm"]
    assert warmed["status"] == "warmed" and "the token (redacted) was refused" in warmed["handler_error"], warmed
    smoke = doc["health"]["endpoints"][0]["steps"][1]
    assert smoke["status"] == "failed" and "the token (redacted) was refused" in smoke["error"], smoke
    assert doc["health"]["endpoints"][0]["name"] == NAME


def test_rollback_delete_and_template_delete_json_are_written_as_built(account, tmp_path):
    """ADR 38's last documents masked as a whole: a plain field (the endpoint's id, a template's
    id) equal to a protected value read "(redacted)". Written as built now; the secret itself
    is still in none of them, and an error quoting it is masked."""
    proj = project(tmp_path / "p", _config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env=ENV).code == 0
    [endpoint] = account.endpoints()
    config = _config()
    config["serverless"]["runpod"]["env"]["GREETING"] = "hi"  # a new release
    (proj / "gpu.jsonc").write_text(json.dumps(config))
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env=ENV).code == 0
    same_as_id = ENV | {"OTHER_TOKEN": endpoint["id"]}  # a credential-named variable of the environment: protected

    rolled = account.gpu("serverless", "rollback", "echo", "--to", "1", "-y", "--json", cwd=proj, env=same_as_id)
    assert rolled.code == 0, rolled.err
    doc = rolled.json()
    assert doc["endpoint"]["id"] == endpoint["id"] and doc["applied"] is True, rolled.out + rolled.err
    [env] = [c for c in doc["changes"] if c["field"] == "env"]
    assert env["old"]["GREETING"] == "hi" and env["new"]["HF_TOKEN"] == {"sensitive": True}, env  # as it was built (shown_env)
    assert "(redacted)" not in rolled.out and SECRET not in rolled.out + rolled.err

    template = account.server.http.post("/v2/templates", json={"name": "spare-tpl", "image": IMAGE, "serverless": True}).json()
    dropped = account.gpu("serverless", "template", "delete", "spare-tpl", "--force", "--json", cwd=proj, env=ENV | {"OTHER_TOKEN": template["id"]})
    assert dropped.code == 0, dropped.err
    assert dropped.json() == {"deleted": template["id"], "not_found": False, "already_gone": False, "error": None}

    canary = "missing_canary_7d1f0b"  # the value of a credential-named variable, given as the name: the error quotes it
    missing = account.gpu("serverless", "delete", canary, "-y", "--json", cwd=proj, env=ENV | {"OTHER_TOKEN": canary})
    assert missing.code == 1, missing.err
    assert missing.json()["deleted"] is None and "(redacted)" in missing.json()["error"], missing.out
    assert canary not in missing.out + missing.err

    deleted = account.gpu("serverless", "delete", "echo", "-y", "--json", cwd=proj, env=same_as_id)
    assert deleted.code == 0, deleted.err
    assert deleted.json()["deleted"] == endpoint["id"] and SECRET not in deleted.out + deleted.err


def test_history_json_is_written_as_built(account, tmp_path):
    """`history --json` was masked as a whole: the endpoint's id, a release's id or an image
    equal to a protected value read "(redacted)". Written as built now, env values hidden where
    it is built (`redact.hide_env`), and the fields quoting text from the account's env (who
    applied, why a release is gpuctl's) masked one by one."""
    proj = project(tmp_path / "p", _config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env=ENV | {"GIT_AUTHOR_NAME": "deployer-7e21"}).code == 0
    config = _config()
    config["serverless"]["runpod"]["env"]["GREETING"] = "hi"  # a second release, with an env diff
    (proj / "gpu.jsonc").write_text(json.dumps(config))
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env=ENV | {"GIT_AUTHOR_NAME": "deployer-7e21"}).code == 0
    [endpoint] = account.endpoints()
    same_as_id = ENV | {"OTHER_TOKEN": endpoint["id"]}  # a credential-named variable of the environment: protected

    shown = account.gpu("serverless", "history", "echo", "--json", cwd=proj, env=same_as_id)
    assert shown.code == 0, shown.err
    doc = shown.json()
    assert doc["endpoint"]["id"] == endpoint["id"], shown.out
    assert len(doc["releases"]) >= 2 and "(redacted)\"" not in shown.out, shown.out
    assert SECRET not in shown.out + shown.err and "GREETING" in shown.out and '"hi"' not in shown.out

    by = "deployer-7e21"  # who deployed (the account's last-applied record): a protected value now
    assert by in {r["applied_by"] for r in doc["releases"]}, shown.out
    masked = account.gpu("serverless", "history", "echo", "--json", cwd=proj, env=ENV | {"OTHER_TOKEN": by})
    assert masked.code == 0, masked.err
    releases = masked.json()["releases"]
    assert {r["applied_by"] for r in releases} <= {None, "(redacted)"} and any(r["applied_by"] for r in releases), masked.out
    assert all(by not in r["made_by_reason"] for r in releases), masked.out
