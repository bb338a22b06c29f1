"""`eval "$(gpu local env)"` run twice keeps the key (review 4, R4-2). The second run has
RUNPOD_API_KEY in its environment, a credential gpu protects, and wrote
`export RUNPOD_API_KEY=(redacted)` through the masking stdout: bash read it as an array, and curl
and the runpod SDK got 401. `gpu local env` is the one command whose job is to print the key."""

from __future__ import annotations

import shlex
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def _bash(account, script: str, cwd, env: dict | None = None) -> subprocess.CompletedProcess:
    """`script` in bash, with `gpu` the CLI under test."""
    gpu = f"{shlex.quote(sys.executable)} -m gpuctl"
    return subprocess.run(["bash", "-c", f"gpu() {{ {gpu} \"$@\"; }}\n{script}"], cwd=cwd, env=account.env | (env or {}),
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)


def test_eval_of_gpu_local_env_twice_exports_the_key_both_times(account, tmp_path):
    script = ('eval "$(gpu local env)"; printf "%s\\n" "$RUNPOD_API_KEY"\n'
              'eval "$(gpu local env)"; printf "%s\\n" "$RUNPOD_API_KEY"\n'
              'gpu local env | grep RUNPOD_API_KEY\n')
    done = _bash(account, script, tmp_path)
    assert done.returncode == 0, done.stderr
    first, second, printed = done.stdout.splitlines()
    assert first == second == account.server.token
    assert printed == f"export RUNPOD_API_KEY={shlex.quote(account.server.token)}"


def test_gpu_local_env_with_the_key_already_set_prints_it_and_unset_undoes_it(account, tmp_path):
    env = {"RUNPOD_API_KEY": account.server.token}
    printed = account.gpu("local", "env", cwd=tmp_path, env=env)
    assert printed.code == 0, printed.err
    assert f"export RUNPOD_API_KEY={shlex.quote(account.server.token)}" in printed.out.splitlines()
    assert "(redacted)" not in printed.out
    unset = account.gpu("local", "env", "--unset", cwd=tmp_path, env=env)
    assert unset.code == 0 and unset.out.startswith("unset RUNPOD_API_KEY ")
    done = _bash(account, 'eval "$(gpu local env)"; eval "$(gpu local env --unset)"; printf "[%s]" "${RUNPOD_API_KEY-gone}"', tmp_path, env)
    assert done.stdout == "[gone]", done.stderr


def test_other_commands_still_mask_the_key(account, tmp_path):
    """Only `local env` prints it: an error that quotes the key (a wrong gpu_type) does not."""
    (tmp_path / "gpu.jsonc").write_text('{"project_id": "p", "serverless": {"name": "e", "template": "custom-image", '
                                        f'"gpu_type": "{account.server.token}", "runpod": {{"image_name": "ghcr.io/x/y:1"}}}}}}')
    run = account.gpu("config", "validate", cwd=tmp_path, env={"RUNPOD_API_KEY": account.server.token})
    assert run.code == 1 and account.server.token not in run.out + run.err and "(redacted)" in run.out + run.err
