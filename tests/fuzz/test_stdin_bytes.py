"""What gpu reads from stdin (`invoke --input -`, `auth login` piped) in bytes that are not
UTF-8 is a usage error that says so, under any locale: with a strict UTF-8 stdin (the usual
en_US.UTF-8), Python's own decoding raised an internal UnicodeDecodeError. Run as the real
CLI: the decoding is that of the process's stdin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def gpu(tmp_path: Path, stdin: bytes, *args: str) -> subprocess.CompletedProcess:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("RUNPOD_", "GPUCTL_", "GPU_")) and k != "CI"}
    env = keep | {"PYTHONIOENCODING": "utf-8:strict", "HOME": str(tmp_path), "GPUCTL_CONFIG_DIR": str(tmp_path / "cfg"),
                  "GPUCTL_LOCAL_DIR": str(tmp_path / "no-provider"), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "gpuctl", *args], input=stdin, env=env, cwd=tmp_path, capture_output=True, timeout=60)


@pytest.mark.parametrize("args, words", [
    (("serverless", "invoke", "echo", "--input", "-"), "the job input on stdin is not UTF-8 text (line 2)"),
    (("auth", "login", "--no-verify"), "the API key on stdin is not UTF-8 text (line 2)"),
])
def test_stdin_that_is_not_utf8(tmp_path, args, words):
    done = gpu(tmp_path, b"\n\xff\xfe\n", *args)
    err = done.stderr.decode()
    assert done.returncode == 1 and "internal error" not in err and "Traceback" not in err, err
    assert err.startswith(f"error: {words}\nhint: "), err
    assert not (tmp_path / "cfg" / "credentials.json").exists()


def test_a_job_input_on_stdin_may_start_with_a_bom(tmp_path):
    """Read as JSON past the BOM (a number out of range here, refused before any provider is
    looked for), where a BOM was a syntax error."""
    err = gpu(tmp_path, b'\xef\xbb\xbf{"n": 1e400}', "serverless", "invoke", "echo", "--input", "-").stderr.decode()
    assert "the job input contains the number 1e400" in err and "in <stdin>" in err, err
