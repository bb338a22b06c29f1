"""R11 (credentials at rest) and the R10 side of `gpu auth`: the key file is 0600 in a 0700
directory whatever the umask, replaced atomically, never taken from argv, and the key reaches no
output. These runs use --no-verify; tests/e2e/test_auth_e2e.py checks keys against a server."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from gpuctl.cli.context import AppContext
from gpuctl.cli.planning import NoApiKey, choose_provider
from gpuctl.credentials import config_dir, key_file, mask
from tests.conftest import ROOT, run_cli

KEY = "rpa_UNITCANARY0KEY1NOT2REAL3XYZ9"
ENV_KEY = "rpa_ENVCANARY0KEY1NOT2REAL3ABCD"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """A private HOME and config dir: the real home is never touched."""
    return {"HOME": str(tmp_path / "home"), "GPUCTL_CONFIG_DIR": str(tmp_path / "home" / "cfg")}


@pytest.fixture
def gpu(tmp_path, env, monkeypatch):
    """`gpu ARGS` in-process with `stdin` as standard input (not a terminal)."""
    def run(*args: str, stdin: str = "", extra: dict | None = None):
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        return run_cli(list(args), tmp_path, env | (extra or {}))
    return run


def _no_key_in(*runs) -> None:
    for run in runs:
        for key in (KEY, ENV_KEY):
            assert key not in run.out and key not in run.err


def test_login_from_stdin_stores_a_private_file_and_prints_only_a_masked_key(gpu, env):
    login = gpu("--debug", "auth", "login", "--no-verify", stdin=f"\n  {KEY}  \nignored\n")
    assert login.code == 0, login.err
    path = Path(env["GPUCTL_CONFIG_DIR"]) / "credentials.json"
    assert json.loads(path.read_text()) == {"api_key": KEY}
    assert (_mode(path), _mode(path.parent)) == (0o600, 0o700)
    assert os.listdir(path.parent) == ["credentials.json"]  # no temp file left behind
    assert f"rpa_…XYZ9 saved to {path}" in login.out and "not checked" in login.out
    _no_key_in(login)


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077, 0o277], ids=lambda u: f"umask{u:03o}")
def test_modes_hold_whatever_the_umask(tmp_path, umask):
    """A real process with the umask set, as a user's shell would have it."""
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNPOD_", "GPUCTL_", "XDG_"))} | {"HOME": str(home)}
    done = subprocess.run([sys.executable, "-m", "gpuctl", "auth", "login", "--no-verify"], input=KEY + "\n", env=env, cwd=tmp_path,
                          capture_output=True, text=True, umask=umask, timeout=60)
    assert done.returncode == 0, done.stderr
    path = home / ".config" / "gpuctl" / "credentials.json"
    assert (_mode(path), _mode(path.parent), _mode(home / ".config")) == (0o600, 0o700, 0o700)
    assert KEY not in done.stdout + done.stderr


def test_a_looser_existing_directory_is_tightened_and_the_old_file_replaced_not_rewritten(gpu, env):
    directory = Path(env["GPUCTL_CONFIG_DIR"])
    directory.mkdir(parents=True)
    directory.chmod(0o755)
    old = directory / "credentials.json"
    old.write_text('{"api_key": "rpa_old"}')
    old.chmod(0o644)
    inode = old.stat().st_ino
    login = gpu("auth", "login", "--no-verify", stdin=KEY)
    assert login.code == 0, login.err
    assert "tightened" in login.err and "0755 to 0700" in login.err
    assert (_mode(old), _mode(directory)) == (0o600, 0o700)
    assert old.stat().st_ino != inode  # a new file renamed into place: readers see old or new, never half
    assert sorted(os.listdir(directory)) == ["credentials.json"]


def test_a_symlink_at_the_key_path_is_replaced_not_followed(gpu, env, tmp_path):
    directory = Path(env["GPUCTL_CONFIG_DIR"])
    directory.mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("untouched")
    (directory / "credentials.json").symlink_to(elsewhere)
    assert gpu("auth", "login", "--no-verify", stdin=KEY).code == 0
    assert elsewhere.read_text() == "untouched"
    assert not (directory / "credentials.json").is_symlink() and _mode(directory / "credentials.json") == 0o600


def test_a_failed_write_leaves_no_temp_file_and_says_so(gpu, env):
    directory = Path(env["GPUCTL_CONFIG_DIR"])
    (directory / "credentials.json").mkdir(parents=True)  # rename onto a directory fails
    login = gpu("auth", "login", "--no-verify", stdin=KEY)
    assert login.code == 1 and "cannot store the API key" in login.err
    assert os.listdir(directory) == ["credentials.json"]
    _no_key_in(login)


def test_a_config_dir_that_is_a_file_is_an_error_not_a_traceback(gpu, env):
    Path(env["GPUCTL_CONFIG_DIR"]).parent.mkdir(parents=True)
    Path(env["GPUCTL_CONFIG_DIR"]).write_text("")
    login = gpu("auth", "login", "--no-verify", stdin=KEY)
    assert login.code == 1 and "cannot store the API key" in login.err and "not a directory" in login.err


@pytest.mark.parametrize("args", [[KEY], ["--no-verify", KEY], ["--", KEY], [f"--api-key={KEY}"], ["--api-key", KEY], ["-k", KEY]])
def test_the_key_is_never_accepted_as_an_argument_nor_echoed(gpu, env, args):
    login = gpu("--debug", "auth", "login", *args, stdin=KEY)
    assert login.code == 1
    _no_key_in(login)
    assert not Path(env["GPUCTL_CONFIG_DIR"]).exists()


@pytest.mark.parametrize("stdin", ["", "\n \n", f"{KEY[:10]} {KEY[10:]}", "rpa_é" + KEY])
def test_no_key_or_a_malformed_key_on_stdin_is_refused(gpu, env, stdin):
    login = gpu("auth", "login", "--no-verify", stdin=stdin)
    assert login.code == 1 and login.err.startswith("error: ")
    assert KEY[10:] not in login.err and not Path(env["GPUCTL_CONFIG_DIR"]).exists()


def test_status_says_where_the_key_comes_from_and_the_variable_wins(gpu):
    none = gpu("auth", "status")
    assert none.code == 1 and "no RunPod API key is configured" in none.out and "gpu auth login" in none.err
    assert gpu("auth", "login", "--no-verify", stdin=KEY).code == 0
    stored = gpu("--debug", "auth", "status")
    assert stored.code == 0 and "using the key stored in" in stored.out and "rpa_…XYZ9" in stored.out
    both = gpu("--debug", "auth", "status", extra={"RUNPOD_API_KEY": ENV_KEY})
    assert both.code == 0 and "RUNPOD_API_KEY environment variable (rpa_…ABCD)" in both.out
    assert "also stored" in both.out and "RUNPOD_API_KEY wins" in both.out
    doc = json.loads(gpu("auth", "status", "--json", extra={"RUNPOD_API_KEY": ENV_KEY}).out)
    assert (doc["source"], doc["masked"], doc["key_file_masked"], doc["checked"]) == ("environment", "rpa_…ABCD", "rpa_…XYZ9", False)
    _no_key_in(none, stored, both)


def test_status_warns_when_others_can_read_the_key(gpu, env):
    assert gpu("auth", "login", "--no-verify", stdin=KEY).code == 0
    path = Path(env["GPUCTL_CONFIG_DIR"]) / "credentials.json"
    path.chmod(0o644)
    status = gpu("auth", "status")
    assert status.code == 0 and f"warning: {path} has mode 0644" in status.err
    assert json.loads(gpu("auth", "status", "--json").out)["loose_permissions"] == [{"path": str(path), "mode": "0644"}]


def test_status_of_a_file_without_a_key(gpu, env):
    Path(env["GPUCTL_CONFIG_DIR"]).mkdir(parents=True)
    (Path(env["GPUCTL_CONFIG_DIR"]) / "credentials.json").write_text("not json")
    status = gpu("auth", "status")
    # a key that is there but cannot be used is an error, reported as every other command reports
    # it: problem and fix together on stderr, `error:` first; stdout holds no half of it
    damaged = f"the API key file {Path(env['GPUCTL_CONFIG_DIR']) / 'credentials.json'} is damaged"
    assert status.code == 1 and status.out == ""
    assert status.err.startswith(f"error: {damaged}") and "\nhint: " in status.err
    assert "gpu auth login" in status.err and "gpu auth logout" in status.err
    assert status.err == gpu("serverless", "list").err  # the same words as a command that needs the key
    with_env = gpu("auth", "status", "--json", extra={"RUNPOD_API_KEY": ENV_KEY})  # the variable wins: a warning only
    assert with_env.code == 0 and json.loads(with_env.out)["problem"] is None and "is damaged" in json.loads(with_env.out)["key_file_problem"]["summary"]


def test_logout_removes_the_key_and_stale_temp_files_and_is_idempotent(gpu, env):
    assert gpu("auth", "login", "--no-verify", stdin=KEY).code == 0
    directory = Path(env["GPUCTL_CONFIG_DIR"])
    (directory / ".credentials.json.abc123.tmp").write_text(json.dumps({"api_key": KEY}))  # a login killed mid-write
    first = gpu("--debug", "auth", "logout")
    assert first.code == 0 and "removed the stored API key" in first.out
    assert os.listdir(directory) == []
    again = gpu("auth", "logout")
    assert again.code == 0 and "nothing to remove" in again.out
    with_env = gpu("auth", "logout", extra={"RUNPOD_API_KEY": ENV_KEY})
    assert with_env.code == 0 and "RUNPOD_API_KEY is still set" in with_env.err
    assert gpu("auth", "status").code == 1
    _no_key_in(first, again, with_env)


def test_login_notes_when_the_variable_will_win(gpu):
    login = gpu("auth", "login", "--no-verify", stdin=KEY, extra={"RUNPOD_API_KEY": ENV_KEY})
    assert login.code == 0 and "RUNPOD_API_KEY is set in this environment and wins" in login.err
    _no_key_in(login)


def test_the_config_dir_follows_gpuctl_config_dir_then_xdg_then_home(tmp_path):
    assert config_dir({"GPUCTL_CONFIG_DIR": "/a", "XDG_CONFIG_HOME": "/b", "HOME": "/c"}) == Path("/a")
    assert config_dir({"XDG_CONFIG_HOME": "/b", "HOME": "/c"}) == Path("/b/gpuctl")
    assert config_dir({"HOME": "/c"}) == Path("/c/.config/gpuctl")


def test_a_stored_key_makes_runpod_the_default_provider(tmp_path, gpu, env):
    app = AppContext(environ=env, cwd=tmp_path)
    with pytest.raises(NoApiKey, match="no RunPod API key"):
        choose_provider(app, None, None)  # no key and no terminal: no silent fallback to local
    assert gpu("auth", "login", "--no-verify", stdin=KEY).code == 0
    provider, why = choose_provider(app, None, None)
    assert provider == "runpod" and "credentials.json" in why and KEY not in why
    assert choose_provider(AppContext(environ=env | {"RUNPOD_API_KEY": ENV_KEY}, cwd=tmp_path), None, None) == ("runpod", "RUNPOD_API_KEY is set")
    assert choose_provider(app, "local", None) == ("local", "--provider")


def test_masks_tell_keys_apart_without_revealing_them():
    assert mask(KEY) == "rpa_…XYZ9"
    assert mask("gpuctl-local-" + "x" * 32).startswith("…")
    assert mask("rpa_short") == "rpa_…"  # too short to show any of it


def test_auth_stays_out_of_the_startup_path():
    """`gpu --help` must not import the auth module's dependencies (the group is lazy)."""
    code = "import sys; from gpuctl.cli import cli; assert 'gpuctl.cli.auth_cmd' not in sys.modules and 'httpx' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60).returncode == 0


def test_no_module_asks_a_person_but_the_confirmation_helper():
    """`auth login` called click.prompt itself, so a Ctrl-D at its prompt printed click's bare
    `aborted`: every question goes through gpuctl/cli/confirm.py, which says what was not done."""
    asking = [f"{p.relative_to(ROOT)}:{n}" for p in sorted((ROOT / "gpuctl").rglob("*.py")) if p.relative_to(ROOT).as_posix() != "gpuctl/cli/confirm.py"
              for n, line in enumerate(p.read_text().splitlines(), 1) if "click.prompt(" in line or "click.confirm(" in line]
    assert asking == []


def test_the_end_of_input_at_the_hidden_key_prompt_says_nothing_was_stored(env, tmp_path):
    """Ctrl-D at `auth login`'s prompt printed `aborted`: it now says what was not done."""
    from tests.support.terminal import Terminal

    login = Terminal(["auth", "login", "--no-verify"], tmp_path, {k: v for k, v in os.environ.items() if k != "RUNPOD_API_KEY"} | env)
    login.wait_for("API key")
    login.wait_until_reading()
    login.child.sendeof()
    code = login.exit_code()
    assert code == 1 and "cancelled: nothing was stored" in login.transcript, login.transcript
    assert "aborted" not in login.transcript and "Traceback" not in login.transcript
    assert not key_file(env).exists()
