"""SIGTERM or Ctrl-C while `gpu serverless job cancel` has its cancel in flight. The cancel was
the last write of a command sent outside gpuctl.interrupts.writing (looked up by name, which
tests/test_one_write_seam.py could not read), so an interrupt ended it with a bare
`interrupted` whether or not the job was cancelled. Now it follows the rule `delete` follows:
the cancel in flight finishes, the command says the job's state after it (or, after a second
interrupt, that the outcome is unknown and how to find out), and exits 130. The local
provider's job API holds the cancel (fault kind `job`)."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.conftest import Account, echo_config, project
from tests.local.conftest import WORKERS
from tests.support.terminal import Output
from tests.support.wait import until

pytestmark = pytest.mark.e2e

HELD = {"op": "update", "kind": "job", "action": "hang", "seconds": 3600}


@pytest.fixture
def running(account: Account, tmp_path: Path) -> tuple[Path, str, str]:
    """A deployed endpoint with a job that runs for ten minutes (the local tests' echo worker,
    which sleeps on request): the project, the endpoint's id and the job's id."""
    proj = project(tmp_path / "project", echo_config("echo"), {"handler.py": (WORKERS / "echo_worker.py").read_text()})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    endpoint_id = account.endpoints()[0]["id"]
    job_id = account.server.job(endpoint_id, "run", {"input": {"sleep": 600}}).json()["id"]
    until(lambda: _state(account, endpoint_id, job_id) == "IN_PROGRESS", "the job to run")
    return proj, endpoint_id, job_id


def _state(account: Account, endpoint_id: str, job_id: str) -> str:
    return account.server.job(endpoint_id, f"status/{job_id}", method="GET").json()["status"]


@contextmanager
def _interrupted_cancel(account: Account, proj: Path, job_id: str, signum: int) -> Iterator[tuple[subprocess.Popen, Output]]:
    """`job cancel` with its cancel held at the account, interrupted once (`signum`) and seen
    waiting for that cancel: the process and its stderr."""
    account.faults(HELD)
    process = account.popen("serverless", "job", "cancel", "echo", job_id, cwd=proj)
    err = Output.of_pipe(process.stderr)
    with account.driving(process):
        until(lambda: bool(account.server.admin("GET", "faults")["rules"][0]["fired"]) or process.poll() is not None, "the cancel to be held")
        assert process.poll() is None, err.rest()
        process.send_signal(signum)
        err.wait_for("waiting for the cancel in flight to finish")
        yield process, err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_cancel_finishes_says_the_jobs_state_and_exits_130(account, running, signum):
    proj, endpoint_id, job_id = running
    with _interrupted_cancel(account, proj, job_id, signum) as (process, err):
        pass  # the rules are cleared: the held cancel goes on
    said = err.rest()
    assert process.wait(timeout=120) == 130, said
    assert f"interrupted, after the cancel: job {job_id}: CANCELLED" in said, said
    assert "nothing to repeat" in said and "error: interrupted\n" not in said, said
    assert _state(account, endpoint_id, job_id) == "CANCELLED"


def test_a_second_interrupt_says_the_outcome_is_unknown_and_how_to_find_out(account, running):
    proj, endpoint_id, job_id = running
    with _interrupted_cancel(account, proj, job_id, signal.SIGINT) as (process, err):
        process.send_signal(signal.SIGINT)
        said = err.rest()  # to the end: the second interrupt ends the wait while the cancel is still held
        assert process.wait(timeout=120) == 130, said
        assert _state(account, endpoint_id, job_id) != "CANCELLED"  # still held: gpu could not know
    assert f"interrupted while the cancel of job {job_id} was in flight: its outcome is unknown" in said, said
    assert f"gpu serverless job status echo {job_id}" in said and f"gpu serverless job cancel echo {job_id}" in said, said
