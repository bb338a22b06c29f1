"""A stopped worker takes everything it started with it, as a RunPod worker's container does
(review 6, R6-7): processes its handler starts in their own session, with a cleared
environment (no GPUCTL_LOCAL_SERVER marker), or orphaned by a shell, end when the worker scales
to zero, when the server stops, and when the server is killed with -9. Liveness is read from
/proc by pid and start time, never from the server's word."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gpuctl.local.client import lifecycle
from gpuctl.local.datadir import private, reaper
from tests.local.conftest import FAST, LocalServer, stop_server
from tests.support.wait import until

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process trees are read from /proc (Linux)")


def _started(pid: int) -> str | None:
    """The process's start time (field 22 of /proc/<pid>/stat): a pid reused later differs."""
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    return None


class Spawned:
    """The pids a handler reported, each with its start time, so a reused pid is never taken
    for a survivor, nor killed at teardown."""

    def __init__(self) -> None:
        self.procs: dict[int, str | None] = {}

    def add(self, pids: list[int]) -> None:
        self.procs |= {pid: _started(pid) for pid in pids}

    def alive(self) -> list[int]:
        return [pid for pid, started in self.procs.items() if started is not None and _started(pid) == started and reaper.alive(pid)]


@pytest.fixture
def spawned() -> Iterator[Spawned]:
    found = Spawned()
    yield found
    for pid in found.alive():  # a failing test leaks nothing
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _run(server: LocalServer, spawned: Spawned, **fields) -> tuple[dict, int]:
    """The endpoint, and the pid of the worker that ran its job."""
    ep = server.create_endpoint("tree", worker="spawn_worker.py", **fields)
    done = server.job(ep["id"], "runsync", {"input": {}}).json()
    assert done["status"] == "COMPLETED", done
    spawned.add(done["output"]["pids"])
    assert len(spawned.alive()) == 4, "the handler's processes run while their worker does"
    return ep, done["output"]["worker_pid"]


def test_a_worker_scaled_to_zero_takes_its_processes_with_it(fresh_server: LocalServer, spawned: Spawned) -> None:
    server = fresh_server
    ep, _ = _run(server, spawned, workers={"min": 0, "max": 1, "idleTimeout": 3600})
    assert server.http.patch(f"/v2/serverless/{ep['id']}", json={"workers": {"idleTimeout": 1}}).status_code == 200
    until(lambda: not server.http.get(f"/v2/serverless/{ep['id']}/workers").json()["workers"], "the worker to scale to zero")
    until(lambda: not spawned.alive(), "no process the worker started to be left")
    assert lifecycle.read_server_info(server.data_dir) is not None, "the server is still up: the worker's stop did it"


def test_stopping_the_server_takes_worker_processes_with_it(fresh_server: LocalServer, spawned: Spawned) -> None:
    _run(fresh_server, spawned)
    lifecycle.stop(fresh_server.data_dir)
    until(lambda: not spawned.alive(), "no process a worker started to outlive the server's stop")


def test_a_killed_server_takes_worker_processes_with_it(fresh_server: LocalServer, spawned: Spawned) -> None:
    _run(fresh_server, spawned)
    os.kill(fresh_server.info["pid"], signal.SIGKILL)
    until(lambda: not reaper.alive(fresh_server.info["pid"]), "the server to die")
    until(lambda: not spawned.alive(), "no process a worker started to outlive the server's kill -9")


def test_gpu_local_down_finds_by_ancestry_what_a_stuck_subreaper_left(fresh_server: LocalServer, spawned: Spawned) -> None:
    """The subreaper a worker runs under cannot act (stopped here): `gpu local down` still ends
    the process with a cleared environment, a descendant of a marked one though unmarked."""
    _, worker = _run(fresh_server, spawned)
    subreaper = int(Path(f"/proc/{worker}/stat").read_text().rsplit(")", 1)[1].split()[1])
    os.kill(subreaper, signal.SIGSTOP)
    lifecycle.stop(fresh_server.data_dir)
    until(lambda: not spawned.alive(), "no process a worker started to outlive `gpu local down`")


def test_a_killed_subreaper_still_takes_the_workers_processes_with_it(fresh_server: LocalServer, spawned: Spawned) -> None:
    """A subreaper killed outright (SIGKILL) cannot kill its tree. What it had adopted (the
    shell's orphan) and what its worker started in other sessions went to init, where neither the
    server nor `gpu local down` found them by ancestry again: the one with a cleared environment
    (no marker) outlived everything. The server is a subreaper itself (ADR 55): they come to it,
    and it ends them when it sees the subreaper end, as a stopped worker's would end."""
    server = fresh_server
    _, worker = _run(server, spawned)
    subreaper = int(Path(f"/proc/{worker}/stat").read_text().rsplit(")", 1)[1].split()[1])
    assert subreaper != server.info["pid"]
    os.kill(subreaper, signal.SIGKILL)
    until(lambda: not spawned.alive(), "no process the worker started to outlive its subreaper's kill -9")
    assert reaper.alive(server.info["pid"]), "the server is still up: it ended them, not a `gpu local down`"
    until(lambda: not reaper.alive(worker), "the worker itself to be gone (and reaped)")


def test_a_process_the_server_inherited_is_not_taken_for_a_subreapers(tmp_path: Path, spawned: Spawned) -> None:
    """Review 10, R10-1. Started the way a container entrypoint or wrapper does, `bash -c 'sleep
    1000 & exec python -m gpuctl.local ...'`, the server has a child it did not start before it
    ever started a worker. It was SIGKILLed when a worker ended, taken for what a killed subreaper
    held. Only what comes from a subreaper's tree is: the killed subreaper's processes still end."""
    data_dir = private.make_dir(tmp_path / "data")
    marker = tmp_path / "sleep.pid"
    env = dict(os.environ) | {"GPUCTL_LOCAL_SETTINGS": json.dumps(FAST)}
    env.pop("RUNPOD_API_KEY", None)
    inherited = Spawned()
    command = f"sleep 1000 & echo $! > {marker}; exec {sys.executable} -m gpuctl.local --data-dir {data_dir} --port 0"
    with private.open_append(tmp_path / "server.log") as log:
        child = subprocess.Popen(["bash", "-c", command], stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, env=env)
    try:
        info = until(lambda: (i := lifecycle.read_server_info(data_dir)) is not None and i["pid"] == child.pid and i, "the server to start")
        inherited.add([int(until(lambda: marker.exists() and marker.read_text().strip(), "the wrapper's sleep"))])
        server = LocalServer(data_dir, info, lifecycle.read_token(data_dir))
        try:
            _, worker = _run(server, spawned)
            subreaper = int(Path(f"/proc/{worker}/stat").read_text().rsplit(")", 1)[1].split()[1])
            os.kill(subreaper, signal.SIGKILL)
            until(lambda: not spawned.alive(), "the killed subreaper's processes to end")
            until(lambda: not reaper.alive(worker), "the worker itself to be gone (and reaped)")
            assert inherited.alive(), "the process the server inherited still runs"
            assert "killed 1 processes" not in (tmp_path / "server.log").read_text()
        finally:
            stop_server(server)
    finally:
        with contextlib.suppress(OSError):
            child.kill()
        child.wait()
        for pid in inherited.alive():
            os.kill(pid, signal.SIGKILL)
