"""Which provider a command talks to when none is named (issue 8, items 3 and 4): no silent
fallback to the local provider where nobody is watching, snapshots plan for the provider they
were taken from, and the key and URLs `gpu local env` exports mean the local provider."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import ECHO_HANDLER, ROOT, Run, echo_config, project
from tests.support.terminal import run_on_terminal

LOCAL_ENV = ("GPUCTL_LOCAL_COMMAND", "GPUCTL_LOCAL_CWD")


def _unchosen(account, **extra: str) -> dict[str, str]:
    """The account's environment with no provider chosen, plus `extra`."""
    return {k: v for k, v in account.env.items() if k != "GPU_PROVIDER"} | extra


def _gpu(*args: str, cwd: Path, env: dict[str, str]) -> Run:
    """`gpu ARGS` with exactly `env`, no terminal anywhere."""
    done = subprocess.run([sys.executable, "-m", "gpuctl", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    return Run(done.returncode, done.stdout, done.stderr)


def _local_env_paths(plan: dict) -> list[str]:
    return [f["path"] for rc in plan["resource_changes"] for f in rc.get("changes", []) if f["path"].startswith(tuple(f"env.{k}" for k in LOCAL_ENV))]


@pytest.mark.parametrize(("ci", "reason"), [({"CI": "true"}, "CI is set"), ({}, "stdin is not a terminal")], ids=["ci", "no-tty"])
def test_without_a_key_and_a_person_the_nightly_drift_check_fails_and_starts_nothing(account, tmp_path, ci, reason):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    unused = tmp_path / "unused-local-dir"
    drift = _gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj, env=_unchosen(account, GPUCTL_LOCAL_DIR=str(unused), **ci))
    assert drift.code == 1, drift.out + drift.err
    assert drift.out == "" and "Traceback" not in drift.err
    assert "error: no RunPod API key is configured" in drift.err and reason in drift.err
    assert "set RUNPOD_API_KEY" in drift.err and "--provider local" in drift.err
    assert not unused.exists()  # no server.json, no lock, no state: nothing was started
    chosen = _gpu("serverless", "deploy", "--plan", "--json", "--provider", "local", cwd=proj, env=_unchosen(account, **ci))
    assert chosen.code == 0, chosen.err
    assert chosen.json()["provider"] == "local" and chosen.json()["summary"]["create"] == 1


def test_a_person_at_a_terminal_falls_back_to_local_with_one_notice(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    code, out = run_on_terminal(["serverless", "deploy", "--plan"], proj, _unchosen(account))
    assert code == 0, out
    notice = "note: no RunPod API key is configured, so this uses the local provider"
    assert out.count(notice) == 1 and "gpu auth login" in out
    assert "endpoint.echo" in out


def test_observed_plans_need_no_key_and_start_no_server(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    (proj / "account.json").write_text('{"endpoints": [], "networkVolumes": [], "templates": []}')
    unused = tmp_path / "unused-local-dir"
    plan = _gpu("serverless", "deploy", "--plan", "--json", "--observed", "account.json", cwd=proj,
                env=_unchosen(account, GPUCTL_LOCAL_DIR=str(unused), CI="true"))
    assert plan.code == 0, plan.err
    assert plan.json()["summary"]["create"] == 1
    assert not unused.exists()


def _deployed_snapshot(account, tmp_path) -> tuple[Path, dict]:
    """A project deployed to the local provider (its endpoint carries GPUCTL_LOCAL_*) and the
    snapshot `gpu serverless snapshot` takes of it."""
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    assert set(LOCAL_ENV) <= set(account.endpoints()[0]["env"])
    taken = account.gpu("serverless", "snapshot", "--config", "gpu.jsonc", "--out", "account.json", cwd=proj)
    assert taken.code == 0, taken.err
    return proj, json.loads((proj / "account.json").read_text())


def test_a_local_snapshot_plans_for_local_even_when_the_environment_says_runpod(account, tmp_path):
    proj, snapshot = _deployed_snapshot(account, tmp_path)
    assert snapshot["provider"] == "local"
    env = _unchosen(account, GPU_PROVIDER="runpod", RUNPOD_API_KEY="rpa_SOMEREALLOOKINGKEY0000000000")
    plan = _gpu("serverless", "deploy", "--plan", "--json", "--detailed-exitcode", "--observed", "account.json", cwd=proj, env=env)
    assert plan.code == 0, plan.out + plan.err
    assert plan.json()["provider"] == "local" and _local_env_paths(plan.json()) == []


def test_a_runpod_snapshot_never_plans_local_env(account, tmp_path):
    proj, snapshot = _deployed_snapshot(account, tmp_path)
    for endpoint in snapshot["endpoints"]:  # as RunPod holds it: gpuctl never sends GPUCTL_LOCAL_* there
        endpoint["env"] = {k: v for k, v in endpoint["env"].items() if k not in LOCAL_ENV}
    (proj / "runpod.json").write_text(json.dumps(snapshot | {"provider": "runpod"}))
    old = {k: v for k, v in snapshot.items() if k != "provider"}  # taken before snapshots recorded it
    (proj / "old.json").write_text(json.dumps(old))
    recorded = account.gpu("serverless", "deploy", "--plan", "--json", "--detailed-exitcode", "--observed", "runpod.json", cwd=proj)
    assert recorded.code == 0, recorded.out + recorded.err  # GPU_PROVIDER=local is set, the snapshot wins
    assert recorded.json()["provider"] == "runpod" and _local_env_paths(recorded.json()) == []
    unrecorded = _gpu("serverless", "deploy", "--plan", "--json", "--detailed-exitcode", "--observed", "old.json", cwd=proj, env=_unchosen(account))
    assert unrecorded.code == 0, unrecorded.out + unrecorded.err
    assert unrecorded.json()["provider"] == "runpod" and _local_env_paths(unrecorded.json()) == []
    contradicted = account.gpu("serverless", "deploy", "--plan", "--observed", "runpod.json", "--provider", "local", cwd=proj)
    assert contradicted.code == 1 and "runpod.json was taken from the runpod provider, but --provider says local" in contradicted.err
    assert "hint: drop --provider" in contradicted.err


def _exports(account, cwd: Path) -> dict[str, str]:
    """What `eval "$(gpu local env)"` would set."""
    printed = account.gpu("local", "env", cwd=cwd)
    assert printed.code == 0, printed.err
    return dict(shlex.split(line.removeprefix("export "))[0].split("=", 1) for line in printed.out.splitlines())


def test_after_eval_gpu_local_env_deploys_stay_local_and_invoke_answers(account, tmp_path):
    example = tmp_path / "echo"
    shutil.copytree(ROOT / "examples" / "echo", example)
    assert account.gpu("serverless", "deploy", "-y", cwd=example).code == 0
    exports = _exports(account, example)
    assert exports["RUNPOD_API_KEY"] == account.server.token
    # only the exports say where the provider is: no GPU_PROVIDER, no GPUCTL_LOCAL_DIR of our own
    env = {k: v for k, v in _unchosen(account).items() if k != "GPUCTL_LOCAL_DIR"} | exports
    again = _gpu("serverless", "deploy", "-y", cwd=example, env=env)
    assert again.code == 0, again.out + again.err
    assert "No changes were needed." in again.out and "GPUCTL_LOCAL" not in again.out
    answer = _gpu("serverless", "invoke", "echo", "--input", '{"prompt": "after eval"}', cwd=example, env=env)
    assert answer.code == 0, answer.err
    assert '"echo": "after eval"' in answer.out


def test_a_base_url_of_the_local_provider_means_local_whatever_the_key(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    env = _unchosen(account, RUNPOD_API_BASE_URL=account.server.info["api_base_url"], RUNPOD_API_KEY="rpa_SOMEREALLOOKINGKEY0000000000")
    plan = _gpu("serverless", "deploy", "--plan", "--json", cwd=proj, env=env)
    assert plan.code == 0, plan.err
    assert plan.json()["provider"] == "local"


DAMAGED_KEY_FILES = {
    "not-json": b"rpa_PASTED0BY0HAND0KEY",
    "a-list": b"[]",
    "no-key": b'{"api_key": 5}',
    "not-utf8": b'{"api_key": "rpa_\xff\xfe"}',
    "key-with-a-space": b'{"api_key": "rpa_CANARY0KEY1 NOT2REAL3XYZ9"}',
    "key-not-ascii": '{"api_key": "rpa_CANARY0KEY1\u00e9NOT2REAL3XYZ9"}'.encode(),
}


@pytest.mark.parametrize("content", DAMAGED_KEY_FILES.values(), ids=DAMAGED_KEY_FILES.keys())
def test_a_damaged_key_file_is_named_and_never_read_as_no_key(account, tmp_path, content):
    """`gpu auth login` stored a key, then the file got damaged: that is not "no key". A person
    at a terminal would otherwise be moved to the local provider with a notice to log in, and a
    script told no key is configured; a key httpx cannot send was an internal error."""
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    config = tmp_path / "cfg"
    config.mkdir()
    (config / "credentials.json").write_bytes(content)
    env = _unchosen(account, GPUCTL_CONFIG_DIR=str(config), RUNPOD_API_BASE_URL="http://127.0.0.1:9")
    code, out = run_on_terminal(["serverless", "deploy", "--plan"], proj, env)
    assert code == 1, out
    assert "uses the local provider" not in out and "endpoint.echo" not in out
    assert str(config / "credentials.json") in out and "gpu auth login" in out and "gpu auth logout" in out
    for args in (("serverless", "list"), ("serverless", "status", "echo"), ("serverless", "list", "--provider", "runpod"),
                 ("auth", "status")):  # the command that reports on the key says it as an error too
        run = _gpu(*args, cwd=proj, env=env)
        assert run.code == 1 and run.out == "" and run.err.startswith("error: "), run.err
        assert str(config / "credentials.json") in run.err and "internal error" not in run.err and "CANARY" not in run.err
    exported = env | {"RUNPOD_API_BASE_URL": account.server.info["api_base_url"]}  # the URL `gpu local env` exports
    assert _gpu("serverless", "list", cwd=proj, env=exported).code == 0  # still means local, whatever the key file
    status = _gpu("auth", "status", "--json", cwd=proj, env=env)
    assert status.code == 1 and str(config / "credentials.json") in status.json()["problem"]["summary"]
    assert "CANARY" not in status.out + status.err
    assert _gpu("auth", "logout", cwd=proj, env=env).code == 0 and not (config / "credentials.json").exists()
    # once the file is gone there is simply no key
    assert "no RunPod API key is configured" in _gpu("serverless", "list", cwd=proj, env=env).err


def test_a_key_in_the_variable_that_cannot_be_sent_is_named(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    env = _unchosen(account, RUNPOD_API_KEY="rpa_CANARY0KEY1\u00e9NOT2REAL3XYZ9", RUNPOD_API_BASE_URL="http://127.0.0.1:9")
    run = _gpu("serverless", "list", "--provider", "runpod", cwd=proj, env=env)
    assert run.code == 1 and "the API key in the RUNPOD_API_KEY environment variable contains" in run.err, run.err
    assert "internal error" not in run.err and "CANARY" not in run.err


@pytest.mark.parametrize("choice", ["flag", "env", "config"])
def test_provider_runpod_after_eval_gpu_local_env_is_refused_and_changes_nothing(account, tmp_path, choice):
    """Review 2 F19: after the README's `eval "$(gpu local env)"`, an explicit runpod choice
    planned (and `-y` applied) against the LOCAL server, labelled provider runpod."""
    example = tmp_path / "echo"
    shutil.copytree(ROOT / "examples" / "echo", example)
    assert account.gpu("serverless", "deploy", "-y", cwd=example).code == 0
    exports = _exports(account, example)
    env = {k: v for k, v in _unchosen(account).items() if k != "GPUCTL_LOCAL_DIR"} | exports
    args = ["serverless", "deploy", "-y"]
    if choice == "flag":
        args += ["--provider", "runpod"]
    elif choice == "env":
        env["GPU_PROVIDER"] = "runpod"
    else:
        text = (example / "gpu.jsonc").read_text()
        assert '"project_id"' in text
        (example / "gpu.jsonc").write_text(text.replace('"project_id"', '"provider": "runpod", "project_id"', 1))
    before = account.writes()
    refused = _gpu(*args, cwd=example, env=env)
    assert refused.code == 1, refused.out + refused.err
    assert refused.out == "" and "Traceback" not in refused.err
    assert "chooses provider runpod, but" in refused.err and "is the local provider's" in refused.err
    assert 'eval "$(gpu local env --unset)"' in refused.err and "--provider local" in refused.err
    assert account.writes() == before
    assert set(LOCAL_ENV) <= set(account.endpoints()[0]["env"])  # the local endpoint keeps its command


def test_gpu_local_env_unset_undoes_every_export(account, tmp_path):
    exports = _exports(account, tmp_path)
    unset = _gpu("local", "env", "--unset", cwd=tmp_path, env=_unchosen(account, GPUCTL_LOCAL_DIR=str(tmp_path / "none")))
    assert unset.code == 0, unset.err
    assert unset.out.startswith("unset ") and sorted(unset.out.split()[1:]) == sorted(exports)
    shell = subprocess.run(["sh", "-c", f'{"; ".join(f"export {k}={shlex.quote(v)}" for k, v in exports.items())}; eval "$1"; env', "sh", unset.out],
                           capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}, check=True)
    assert not any(line.split("=", 1)[0] in exports for line in shell.stdout.splitlines())


def test_provider_runpod_with_a_base_url_that_is_not_the_local_providers_still_runs(account, tmp_path):
    """Only the local provider's own token and URLs are refused: a RunPod stand-in on loopback
    (a proxy, a test double) that gpuctl does not know as its local provider is the user's choice."""
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    info = account.server.info
    env = _unchosen(account, GPU_PROVIDER="runpod", RUNPOD_API_KEY=account.server.token, RUNPOD_API_BASE_URL=info["api_base_url"],
                    RUNPOD_ENDPOINT_BASE_URL=info["endpoint_base_url"], GPUCTL_LOCAL_DIR=str(tmp_path / "another-local-dir"))
    plan = _gpu("serverless", "deploy", "--plan", "--json", cwd=proj, env=env)
    assert plan.code == 0, plan.out + plan.err
    assert plan.json()["provider"] == "runpod"


def test_auth_login_refuses_the_local_provider_s_key_as_a_runpod_key(account, tmp_path):
    """Review 4, R4-6: after `eval "$(gpu local env)"`, docs/auth.md's
    `printenv RUNPOD_API_KEY | gpu auth login` checked the key against the local provider (the
    exported base URL), then stored it as the RunPod key: `auth status --check` sent it to
    api.runpod.io, and from a new shell every command quietly used the local provider."""
    exports = _exports(account, tmp_path)
    env = {k: v for k, v in _unchosen(account).items() if k != "GPUCTL_LOCAL_DIR"} | exports
    login = _gpu_with_input("auth", "login", cwd=tmp_path, env=env, given=exports["RUNPOD_API_KEY"] + "\n")
    assert login.code == 1, login.out + login.err
    assert "gpu auth login stores a RunPod API key, but the API key is the local provider's token" in login.err, login.err
    assert "gpu local env --unset" in login.err and exports["RUNPOD_API_KEY"] not in login.out + login.err
    assert not list((account.home / ".config").rglob("credentials.json")) if (account.home / ".config").exists() else True
    status = _gpu("auth", "status", "--json", cwd=tmp_path, env=env | {"RUNPOD_API_KEY": ""})
    assert status.json()["configured"] is False, status.out


def _gpu_with_input(*args: str, cwd: Path, env: dict[str, str], given: str) -> Run:
    done = subprocess.run([sys.executable, "-m", "gpuctl", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, input=given)
    return Run(done.returncode, done.stdout, done.stderr)
