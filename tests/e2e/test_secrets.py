"""R10: a canary API key and a canary secret env value appear nowhere: not in stdout, stderr,
JSON, plans, snapshots or `.gpu/`, also under --debug and on failure paths.

The RunPod provider is pointed at the local provider (any RunPod-compatible server works), so
the API key is the server's token: a real secret the server checks."""

from __future__ import annotations

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
