"""R10: a canary API key and a canary secret env value appear nowhere: not in stdout, stderr,
JSON, plans, snapshots or `.gpu/`, also under --debug and on failure paths.

The RunPod provider is pointed at the local provider (any RunPod-compatible server works), so
the API key is the server's token: a real secret the server checks."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project

SECRET_VALUE = "hf_e2e_canary_5b1d9c7e2f"


def _runpod_env(account) -> dict[str, str]:
    info = account.server.info
    # the local provider as a RunPod stand-in: GPUCTL_LOCAL_DIR names another data dir, else
    # gpuctl recognises the token and URLs as its local provider's and refuses provider runpod
    return {"GPU_PROVIDER": "runpod", "RUNPOD_API_KEY": account.server.token, "RUNPOD_API_BASE_URL": info["api_base_url"],
            "RUNPOD_ENDPOINT_BASE_URL": info["endpoint_base_url"], "HF_TOKEN": SECRET_VALUE,
            "GPUCTL_LOCAL_DIR": str(account.home / "no-local-provider")}


def _files(directory: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in directory.rglob("*") if p.is_file())


def test_canaries_never_leave(account, tmp_path):
    config = echo_config(env={"HF_TOKEN": "${HF_TOKEN}"})
    proj = project(tmp_path / "p", config, {"handler.py": ECHO_HANDLER})
    env = _runpod_env(account)
    canaries = [account.server.token, SECRET_VALUE]
    runs = [
        account.gpu("--debug", "serverless", "deploy", "--plan", cwd=proj, env=env),
        account.gpu("--debug", "serverless", "deploy", "--plan", "--format", "markdown", cwd=proj, env=env),
        account.gpu("--debug", "serverless", "deploy", "--plan", "--json", "--out", "plan.json", cwd=proj, env=env),
        account.gpu("--debug", "serverless", "deploy", "--json", cwd=proj, env=env),
        account.gpu("--debug", "serverless", "deploy", "-y", "--max-workers", "3", cwd=proj, env=env),
        account.gpu("--debug", "serverless", "snapshot", "--config", "gpu.jsonc", "--out", "account.json", cwd=proj, env=env),
    ]
    assert [r.code for r in runs] == [0, 0, 0, 0, 0, 0], [r.err for r in runs]
    account.faults({"op": "update", "action": "status", "status": 400})
    runs.append(account.gpu("--debug", "serverless", "deploy", "-y", "--max-workers", "2", cwd=proj, env=env))
    assert runs[-1].code == 1
    account.clear_faults()
    runs.append(account.gpu("--debug", "serverless", "deploy", "--plan", cwd=proj, env=env | {"RUNPOD_API_KEY": "rpa_wrong_canary_key_0000"}))
    assert runs[-1].code == 1 and "unauthorized" in runs[-1].err and "gpu auth login" in runs[-1].err
    canaries.append("rpa_wrong_canary_key_0000")
    written = _files(proj)
    for canary in canaries:
        for run in runs:
            assert canary not in run.out and canary not in run.err
        assert canary not in written
    assert "(redacted by gpuctl)" in (proj / "account.json").read_text()
    # the account really holds the secret: the value was applied, just never shown
    assert account.endpoints()[0]["env"]["HF_TOKEN"] == SECRET_VALUE


def test_plan_against_a_redacted_snapshot_is_clean_and_says_why(account, tmp_path):
    config = echo_config(env={"HF_TOKEN": "${HF_TOKEN}"})
    proj = project(tmp_path / "p", config, {"handler.py": ECHO_HANDLER})
    env = _runpod_env(account)
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env=env).code == 0
    assert account.gpu("serverless", "snapshot", "--config", "gpu.jsonc", "--out", "account.json", cwd=proj, env=env).code == 0
    plan = account.gpu("serverless", "deploy", "--plan", "--observed", "account.json", "--detailed-exitcode", cwd=proj, env=env)
    assert plan.code == 0, plan.out
    assert "the snapshot redacted env HF_TOKEN" in plan.out


def test_a_credential_pasted_into_a_wrong_field_is_not_echoed_by_the_config_error(account, tmp_path):
    """The API key or a `${HF_TOKEN}` value pasted into gpu_type, max_workers or name: the config
    error quoted it back ("unknown GPU type "hf_..."", in `config validate --json` too), because
    values were protected only once gpu.jsonc had loaded. Credential-named variables of the
    environment (RUNPOD_API_KEY, *_TOKEN, *_KEY, *SECRET*) are now protected from the start."""
    env = _runpod_env(account)
    key = account.server.token
    for field, value in (("gpu_type", SECRET_VALUE), ("gpu_type", key), ("name", SECRET_VALUE + "\n")):
        config = echo_config(env={"HF_TOKEN": "${HF_TOKEN}"})
        config["serverless"][field] = value
        proj = project(tmp_path / f"p{len(list(tmp_path.iterdir()))}", config, {"handler.py": ECHO_HANDLER})
        runs = [account.gpu("--debug", "serverless", "deploy", "--plan", cwd=proj, env=env),
                account.gpu("serverless", "deploy", "-y", "--json", cwd=proj, env=env),
                account.gpu("config", "validate", "--json", cwd=proj, env=env)]
        for run in runs:
            assert run.code == 1 and "Traceback" not in run.err, run.err
            assert f"serverless.{field}" in run.out + run.err  # the place is still named
            assert SECRET_VALUE not in run.out + run.err and key not in run.out + run.err, run.out + run.err


def test_a_value_gpu_jsonc_reads_from_any_variable_pasted_into_a_wrong_field_is_not_echoed(account, tmp_path):
    """A `${DB_URL}` value (no credential-like name) pasted into gpu_type or template: the
    config error quoted it back, because only credential-named variables were protected before
    gpu.jsonc loaded. Every variable gpu.jsonc reads is protected when its error is shown."""
    db_url = "postgres://app:s3cr3t-canary@db.internal/app"
    env = {**_runpod_env(account), "DB_URL": db_url}
    for field in ("gpu_type", "template"):
        config = echo_config(env={"DATABASE_URL": "${DB_URL}"})
        config["serverless"][field] = db_url
        proj = project(tmp_path / f"p{field}", config, {"handler.py": ECHO_HANDLER})
        runs = [account.gpu("--debug", "serverless", "deploy", "--plan", cwd=proj, env=env),
                account.gpu("serverless", "deploy", "-y", "--json", cwd=proj, env=env),
                account.gpu("config", "validate", "--json", cwd=proj, env=env),
                account.gpu("config", "validate", cwd=proj, env=env)]
        for run in runs:
            assert run.code == 1 and "Traceback" not in run.err, run.err
            assert f"serverless.{field}" in run.out + run.err  # the place is still named
            assert "s3cr3t-canary" not in run.out + run.err, run.out + run.err


def test_a_redacted_literal_cannot_be_guessed_from_the_record_in_a_snapshot_or_a_cassette(account, tmp_path):
    """F16: a snapshot and a `--record` cassette redact an env literal the account holds, but they
    kept the last-applied record, whose digest of that literal is unsalted sha256 over the
    endpoint id (in the same file), the path and the value: a guess could be confirmed offline.
    The env digests are written as "set"; the record is kept, and a plan against the snapshot
    still says what it cannot compare."""
    from gpuctl.plan.drift import digest

    old, new = "canary-old-literal-51", "canary-new-literal-52"
    proj = project(tmp_path / "p", echo_config(env={"MODEL_PATH": old}), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    endpoint_id = account.endpoints()[0]["id"]
    project(proj, echo_config(env={"MODEL_PATH": new}))  # the account's literal is now one gpu.jsonc no longer holds
    rec = tmp_path / "rec"
    runs = [account.gpu("serverless", "snapshot", "--out", "account.json", "--record", str(rec), cwd=proj),
            account.gpu("serverless", "deploy", "--plan", "--record", str(rec), cwd=proj)]
    assert [r.code for r in runs] == [0, 0], [r.err for r in runs]
    written = {"account.json": (proj / "account.json").read_text()} | {p.name: p.read_text() for p in rec.iterdir()}
    guesses = {value: digest(endpoint_id, "env.MODEL_PATH", value) for value in (old, new)}
    for name, text in written.items():
        assert old not in text, name
        assert not [v for v, d in guesses.items() if d in text], f"{name} lets {[v for v, d in guesses.items() if d in text]} be confirmed"
    hello = digest(endpoint_id, "env.GREETING", "hello")
    assert [name for name, text in written.items() if hello in text] == ["account.json"]  # only where "hello" is shown anyway
    snapshot = json.loads(written["account.json"])
    record = next(t for t in snapshot["templates"] if t["name"] == f"gpuctl-applied-{endpoint_id}")
    digests = json.loads(record["env"]["GPUCTL_APPLIED"])
    assert digests["env.MODEL_PATH"] == "set" and digests["env.GREETING"] == hello
    assert next(e for e in snapshot["endpoints"] if e["id"] == endpoint_id)["env"]["GREETING"] == "hello"
    assert digests["env.GPUCTL_PROJECT"] == digest(endpoint_id, "env.GPUCTL_PROJECT", "e2e")  # gpuctl's own marker, shown anyway
    assert digests["workers.max"] == digest(endpoint_id, "workers.max", 2)  # fields other than env keep theirs
    plan = account.gpu("serverless", "deploy", "--plan", "--observed", "account.json", cwd=proj)
    assert plan.code == 0, plan.err
    assert "the snapshot redacted env MODEL_PATH" in plan.out


def test_a_change_of_runpod_secret_is_planned_by_name(account, tmp_path):
    """F15: a pull request pointing an env var at another RunPod secret planned as
    `(sensitive) → (sensitive)`: review could not see production switched to a secret the author
    may control. A reference's name is no secret (pull and import print it), so every format
    names both: text, Markdown, JSON (`{"sensitive": true, "secret": NAME}`) and drift."""
    proj = project(tmp_path / "p", echo_config(env={"HF": {"secret": "hf_tok"}}), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    project(proj, echo_config(env={"HF": {"secret": "other_tok"}}))
    text = account.gpu("serverless", "deploy", "--plan", cwd=proj)
    assert text.code == 0, text.err
    assert "env.HF = (RunPod secret hf_tok) → (RunPod secret other_tok)" in text.out
    markdown = account.gpu("serverless", "deploy", "--plan", "--format", "markdown", cwd=proj)
    assert "(RunPod secret hf_tok)" in markdown.out and "(RunPod secret other_tok)" in markdown.out
    doc = account.gpu("serverless", "deploy", "--plan", "--json", cwd=proj).json()
    change = next(c for r in doc["resource_changes"] for c in r.get("changes") or [] if c["path"] == "env.HF")
    assert (change["before"], change["after"], change["sensitive"]) == ({"sensitive": True, "secret": "hf_tok"}, {"sensitive": True, "secret": "other_tok"}, True)
    drift = account.gpu("serverless", "drift", cwd=proj)
    assert "(RunPod secret hf_tok)" in drift.out and "(RunPod secret other_tok)" in drift.out, drift.out


def test_a_template_of_the_account_is_written_to_a_snapshot_or_a_cassette_without_its_env_values(account, tmp_path):
    """A pod template made in the console (or any template not gpuctl's) with a token in its
    env was written into the snapshot in clear: snapshots are for sharing, and only endpoint env
    was hidden. Its keys are kept, its values are not; gpuctl's own GPUCTL_* markers are."""
    canary = "tmpl-canary-s3cr3t-value-73"
    made = account.server.http.post("/v2/templates", json={"name": "my-pod", "image": "x/y:1",
                                                           "env": {"HF_TOKEN": canary}})
    assert made.status_code in (200, 201), made.text
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    rec = tmp_path / "rec"
    run = account.gpu("serverless", "snapshot", "--out", "account.json", "--record", str(rec), cwd=proj)
    assert run.code == 0, run.err
    texts = {"account.json": (proj / "account.json").read_text()} | {p.name: p.read_text() for p in rec.iterdir()}
    assert [name for name, text in texts.items() if canary in text] == []
    snapshot = json.loads(texts["account.json"])
    mine = next(t for t in snapshot["templates"] if t["name"] == "my-pod")
    assert mine["env"] == {"HF_TOKEN": "(redacted by gpuctl)"}
    record = next(t for t in snapshot["templates"] if t["name"].startswith("gpuctl-applied-"))
    assert record["env"]["GPUCTL_PROJECT"] == "e2e"


def test_a_password_variable_or_a_url_password_pasted_into_a_wrong_field_is_not_echoed(account, tmp_path):
    """Review 3, R1: only `*_TOKEN`, `*_KEY`, `*SECRET*` variables were protected from the start,
    so a DB_PASSWORD, or the password of a URL in any variable, pasted into gpu_type was quoted
    back by the config error."""
    password, url_password = "pw-canary-4417", "urlpw-canary-9902"
    env = {**_runpod_env(account), "DB_PASSWORD": password, "CACHE_URL": f"redis://app:{url_password}@cache:6379/0"}
    for pasted in (password, f"redis://app:{url_password}@cache:6379/0"):
        config = echo_config()
        config["serverless"]["gpu_type"] = pasted
        proj = project(tmp_path / f"p{len(list(tmp_path.iterdir()))}", config, {"handler.py": ECHO_HANDLER})
        runs = [account.gpu("serverless", "deploy", "--plan", cwd=proj, env=env), account.gpu("config", "validate", "--json", cwd=proj, env=env)]
        for run in runs:
            assert run.code == 1 and "Traceback" not in run.err, run.err
            assert "serverless.gpu_type" in run.out + run.err
            assert password not in run.out + run.err and url_password not in run.out + run.err, run.out + run.err
