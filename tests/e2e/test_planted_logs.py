"""The local provider's worker logs (`logs/<endpoint>/<worker>.jsonl` in its data dir) read
through gpuctl's one bounded reader (gpuctl.files.read_piece), as its other files are: a log
replaced by a FIFO, a directory, a link to /dev/zero or a 1 GB file makes `gpu serverless logs`
show nothing of it, at once, never hang the server, fill its memory or fail with an internal
error. (A directory there ended in a 500: the logs reader did its own checks and missed it.)"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ECHO_HANDLER, Account, echo_config, project
from tests.local.conftest import start_server, stop_server

pytestmark = pytest.mark.e2e


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _directory(path: Path) -> None:
    path.mkdir()


def _dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _huge(path: Path) -> None:
    with path.open("wb") as handle:
        handle.truncate(1024 ** 3)  # sparse: no disk used, and no newline in it


PLANTED: dict[str, Callable[[Path], None]] = {"fifo": _fifo, "directory": _directory, "dev-zero": _dev_zero, "1-GB": _huge}


@pytest.fixture(scope="module")
def worked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Account, Path, str]]:
    """An endpoint whose worker ran a job, so it has a log file; (account, project, worker id)."""
    root = tmp_path_factory.mktemp("planted")
    server = start_server(root / "provider")
    (root / "home").mkdir()
    account = Account(server, root / "home")
    proj = project(root / "p", echo_config(idle_timeout=600), {"handler.py": ECHO_HANDLER})
    try:
        assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
        job = account.gpu("serverless", "invoke", "echo", "--json", "--input", '{"x": 1}', cwd=proj)
        assert job.code == 0, job.err
        yield account, proj, job.json()["workerId"]
    finally:
        stop_server(server)


@pytest.mark.parametrize("plant", PLANTED.values(), ids=PLANTED.keys())
def test_a_planted_worker_log_shows_nothing_and_hangs_nothing(worked, plant):
    account, proj, worker = worked
    endpoint_id = account.endpoints()[0]["id"]
    path = account.server.data_dir / "logs" / endpoint_id / f"{worker}.jsonl"
    assert path.is_file()
    saved = path.with_suffix(".saved")
    path.rename(saved)
    try:
        plant(path)
        result = account.gpu("serverless", "logs", "echo", "--worker", worker, "--tail", "5", cwd=proj, timeout=60)
        assert result.code == 0 and result.out == "", result.err
        assert "Traceback" not in result.err and "internal" not in result.err.lower(), result.err
    finally:
        if path.is_dir() and not path.is_symlink():
            path.rmdir()
        else:
            path.unlink()
        saved.rename(path)
    again = account.gpu("serverless", "logs", "echo", "--worker", worker, "--tail", "5", cwd=proj)
    assert again.code == 0 and again.out, again.err  # the real log is read as before
