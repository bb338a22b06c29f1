"""`gpu auth` against a real server (the local provider stands in for RunPod): login checks the
key before storing it, a refused key leaves nothing behind, status --check tells a working key
from a refused one, a stored key is what later commands use, and the key appears in no output
and no file (R10, R11), at umask 000 and 022, from stdin and from a hidden terminal prompt."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project
from tests.support.terminal import run_on_terminal

WRONG = "rpa_WRONGCANARY0KEY1NOT2REAL3Q7Z1"


def _env(account) -> dict[str, str]:
    """No RUNPOD_API_KEY: the key comes from `gpu auth login` only. The key is the server's own
    token, which would mean the local provider, so provider runpod is chosen explicitly, and
    GPUCTL_LOCAL_DIR names another data dir: provider runpod is refused a key or URL gpuctl
    knows as its local provider's."""
    return account.env | {"GPU_PROVIDER": "runpod", "RUNPOD_API_BASE_URL": account.server.info["api_base_url"],
                          "RUNPOD_ENDPOINT_BASE_URL": account.server.info["endpoint_base_url"],
                          "GPUCTL_LOCAL_DIR": str(account.home / "no-local-provider")}


def _gpu(account, *args: str, stdin: str = "", umask: int = 0o022, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gpuctl", *args], input=stdin, env=_env(account) | (env or {}), cwd=account.home,
                          capture_output=True, text=True, umask=umask, timeout=120)


def _key_file(account) -> Path:
    return account.home / ".config" / "gpuctl" / "credentials.json"


def _everything_written(*roots: Path) -> str:
    """Every file under `roots`, except the server's own token file (which is its key)."""
    return "".join(p.read_text(errors="replace") for root in roots for p in root.rglob("*") if p.is_file() and p.name != "token")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o000, 0o022], ids=lambda u: f"umask{u:03o}")
def test_login_checks_stores_privately_and_the_key_never_shows(account, tmp_path, umask):
    key = account.server.token
    runs = [_gpu(account, "--debug", "auth", "login", stdin=key + "\n", umask=umask)]
    assert runs[0].returncode == 0, runs[0].stderr
    assert f"checked against {account.server.info['api_base_url']}" in runs[0].stdout
    assert "debug: GET" in runs[0].stderr and "/v2/serverless -> 200" in runs[0].stderr
    path = _key_file(account)
    assert json.loads(path.read_text()) == {"api_key": key}
    assert (_mode(path), _mode(path.parent), _mode(path.parent.parent)) == (0o600, 0o700, 0o700)
    assert os.listdir(path.parent) == ["credentials.json"]
    runs.append(_gpu(account, "--debug", "auth", "status", "--check", umask=umask))
    assert runs[-1].returncode == 0 and "the key works" in runs[-1].stdout
    runs.append(_gpu(account, "--debug", "auth", "status", "--check", "--json", umask=umask))
    assert json.loads(runs[-1].stdout)["works"] is True
    # the stored key is what the other commands now use, with no RUNPOD_API_KEY anywhere
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    plan = subprocess.run([sys.executable, "-m", "gpuctl", "--debug", "serverless", "deploy", "--plan"], env=_env(account), cwd=proj,
                          capture_output=True, text=True, umask=umask, timeout=120)
    assert plan.returncode == 0, plan.stderr
    assert f"{account.server.info['api_base_url']}/v2/serverless -> 200" in plan.stderr
    runs += [plan, _gpu(account, "--debug", "auth", "logout", umask=umask)]
    assert runs[-1].returncode == 0 and not path.exists()
    for run in runs:
        assert key not in run.stdout and key not in run.stderr
    assert key not in _everything_written(account.home, proj, account.server.data_dir)


def test_a_refused_key_is_not_stored_and_never_shown(account):
    login = _gpu(account, "--debug", "auth", "login", stdin=WRONG)
    assert login.returncode == 1
    assert "refused this API key (401 unauthorized); nothing was stored" in login.stderr
    assert not _key_file(account).parent.exists()
    assert WRONG not in login.stdout + login.stderr
    assert WRONG not in _everything_written(account.home, account.server.data_dir)


def test_no_verify_stores_a_key_status_check_then_refuses(account):
    assert _gpu(account, "auth", "login", "--no-verify", stdin=WRONG).returncode == 0
    status = _gpu(account, "--debug", "auth", "status", "--check")
    # a failed check is an error like every other: `error:` and `hint:` on stderr (it was a line on stdout)
    assert status.returncode == 1 and "using the key stored in" in status.stdout and "refused" not in status.stdout, status.stdout
    assert "the key does not work there" in status.stdout and "add --check" not in status.stdout, status.stdout
    assert re.search(r"^error: \S+ refused the API key rpa_…Q7Z1 \(401 unauthorized\)$", status.stderr, re.M), status.stderr
    assert re.search(r"^hint: the key was revoked or mistyped: .*`gpu auth login`", status.stderr, re.M), status.stderr
    assert "Traceback" not in status.stderr
    doc = json.loads(_gpu(account, "auth", "status", "--check", "--json").stdout)
    assert (doc["source"], doc["works"], doc["error"]) == ("file", False, "refused (401 unauthorized)")
    assert WRONG not in status.stdout + status.stderr


def test_the_variable_wins_over_the_stored_key(account):
    assert _gpu(account, "auth", "login", "--no-verify", stdin=WRONG).returncode == 0
    status = _gpu(account, "auth", "status", "--check", env={"RUNPOD_API_KEY": account.server.token})
    assert status.returncode == 0, status.stdout + status.stderr
    assert "using the key in the RUNPOD_API_KEY environment variable" in status.stdout and "the key works" in status.stdout
    assert "RUNPOD_API_KEY wins over it" in status.stdout
    assert account.server.token not in status.stdout + status.stderr and WRONG not in status.stdout + status.stderr


def test_login_on_a_terminal_prompts_with_echo_off(account):
    key = account.server.token
    code, transcript = run_on_terminal(["auth", "login"], account.home, _env(account), [("API key:", key)])
    assert code == 0, transcript
    assert "input is hidden" in transcript and "saved to" in transcript
    assert key not in transcript  # the terminal did not echo what was typed, and nothing printed it
    assert json.loads(_key_file(account).read_text()) == {"api_key": key}


def test_a_check_that_fails_says_on_stdout_that_it_was_checked(account):
    """Review 9, R9-6: `status --check` whose check could not be made (a 400, a 5xx, no answer)
    said "not checked; add --check to verify it" on stdout, to someone who had passed --check."""
    assert _gpu(account, "auth", "login", "--no-verify", stdin=account.server.token).returncode == 0
    account.faults({"op": "list", "kind": "endpoint", "action": "status", "status": 400})
    status = _gpu(account, "auth", "status", "--check")
    assert status.returncode == 1, status.stdout + status.stderr
    assert "not checked" not in status.stdout and "add --check" not in status.stdout, status.stdout
    assert f"checked against {account.server.info['api_base_url']}: could not tell whether the key works" in status.stdout, status.stdout
    assert re.search(r"^error: could not check the API key \S+ against ", status.stderr, re.M), status.stderr
    doc = json.loads(_gpu(account, "auth", "status", "--check", "--json").stdout)
    assert (doc["checked"], doc["works"]) == (True, None)
