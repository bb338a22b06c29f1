"""`gpu ... | head -1`: when the reader of gpu's output goes away, gpu ends as git and kubectl
do, killed by SIGPIPE (a shell reports 141), with nothing on stderr: no traceback, no
"Exception ignored", and no exit 1 that a `set -o pipefail` script would take for an error.
The real CLI writes into a pipe whose reader has closed: before gpu starts (every command's
first write fails), or after the first line of a stream."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tests.e2e.conftest import ECHO_HANDLER, STAYS, echo_config, project

pytestmark = pytest.mark.e2e

KILLED_BY_SIGPIPE = -signal.SIGPIPE

ONE_SHOT = [
    ["serverless", "list"], ["serverless", "list", "--json"], ["serverless", "status", "echo"], ["serverless", "history", "echo"],
    ["serverless", "history", "echo", "--json"], ["serverless", "drift"], ["serverless", "deploy", "--plan"],
    ["serverless", "deploy", "--plan", "--json"], ["serverless", "invoke", "echo", "--input", '{"prompt": "x"}'],
    ["serverless", "invoke", "echo", "--input", '{"prompt": "x"}', "--json"], ["serverless", "logs", "echo"], ["--help"], ["config", "schema"],
]
STREAMS = [["serverless", "status", "echo", "--watch"], ["serverless", "logs", "echo", "-f"]]


@pytest.fixture
def deployed(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(idle_timeout=STAYS), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    assert account.gpu("serverless", "invoke", "echo", "--input", '{"prompt": "x"}', cwd=proj).code == 0  # a worker with logs
    return proj


def _start(account, args: list[str], cwd, stdout) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gpuctl", *args], cwd=cwd, env=account.env, stdout=stdout, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)


def test_a_reader_gone_before_the_first_write_ends_every_command_quietly(account, deployed):
    ended = {}
    for args in ONE_SHOT:
        read_end, write_end = os.pipe()
        os.close(read_end)  # `| head -0`: nobody will read
        run = _start(account, args, deployed, write_end)
        os.close(write_end)
        _, err = run.communicate(timeout=120)
        ended[" ".join(args)] = (run.returncode, err.decode())
    assert ended == {" ".join(args): (KILLED_BY_SIGPIPE, "") for args in ONE_SHOT}


@pytest.mark.parametrize("args", STREAMS, ids=["status-watch", "logs-follow"])
def test_a_stream_whose_reader_closes_after_one_line_ends_quietly(account, deployed, args):
    run = _start(account, args, deployed, subprocess.PIPE)
    first = run.stdout.readline()  # `| head -1`
    run.stdout.close()
    code = run.wait(timeout=120)
    assert first.strip() and code == KILLED_BY_SIGPIPE and run.stderr.read() == b"", (first, code)
