"""A client asking "does a server run here?" takes the data dir's lock for an instant
(`lifecycle.lock_held`), and `gpu local up` asks that every few milliseconds while the server
it spawned starts. A server whose own lock attempt met such a probe took it for another server,
exited "already running", and `up` waited 15 s for a server that never came (CI of stop 32:
`gpu local up --port 0` failed on a fresh data dir). The server now waits a moment for the
lock: a probe lets go at once, a server never does."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gpuctl.local.client import lifecycle
from gpuctl.local.datadir.layout import DataDir, ServerExit
from tests.local.conftest import own_environ
from tests.support.wait import until


def waiting_for(lock: Path) -> bool:
    """Whether some process is blocked waiting for an flock on `lock` (Linux's /proc/locks)."""
    inode = os.stat(lock).st_ino
    return any("->" in line and f":{inode} " in line for line in Path("/proc/locks").read_text().splitlines())


def test_a_server_starting_while_a_probe_holds_the_lock_waits_and_starts(tmp_path: Path) -> None:
    data = tmp_path / "local"
    data.mkdir(mode=0o700)
    files = DataDir(data)
    said = tmp_path / "server.err"  # a file, not a pipe: reading a pipe of a server still running would wait for ever
    with files.lock.open("a+") as probe, said.open("w") as err:
        fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what lock_held holds for an instant
        server = subprocess.Popen([sys.executable, "-m", "gpuctl.local", "--data-dir", str(data), "--port", "0"], env=own_environ(),
                                  stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        try:
            until(lambda: server.poll() is not None or waiting_for(files.lock), "the server to wait for the lock (or to give up)")
            fcntl.flock(probe, fcntl.LOCK_UN)
            assert server.poll() != ServerExit.ALREADY_RUNNING, said.read_text()
            info = until(lambda: server.poll() is not None or lifecycle.read_server_info(data), "the server to say where it listens")
            assert info is not True and info["pid"] == server.pid, said.read_text()
        finally:
            lifecycle.stop(data)
            server.wait(30)


def test_a_second_server_still_finds_the_first_running(tmp_path: Path) -> None:
    """The wait is for a probe: a server that holds the lock for good still turns the second away."""
    data = tmp_path / "local"
    first = lifecycle.start(data, 0, own_environ())
    try:
        second = subprocess.run([sys.executable, "-m", "gpuctl.local", "--data-dir", str(data), "--port", "0"], env=own_environ(),
                                capture_output=True, text=True, timeout=60, check=False)
        assert second.returncode == ServerExit.ALREADY_RUNNING and "already running" in second.stderr, second.stderr
        assert lifecycle.read_server_info(data)["pid"] == first["pid"]
    finally:
        lifecycle.stop(data)


def test_a_start_that_lost_the_lock_to_a_server_that_stopped_starts_one_itself(tmp_path: Path) -> None:
    """Two commands start the provider at once and the one whose server got the lock stops
    before it answers (it crashed while starting): the other one's server exited "already
    running", and its start waited 15 s and said only that nothing started. Now it starts a
    server again once the lock is free and no server.json names one."""
    data = tmp_path / "local"
    data.mkdir(mode=0o700)
    files = DataDir(data)
    try:
        with ThreadPoolExecutor(1) as pool, files.lock.open("a+") as winner:  # the lock let go before the pool waits for the start
            fcntl.flock(winner, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the server that won, starting: no server.json yet
            started = pool.submit(lifecycle.start, data, 0, own_environ())
            try:
                until(lambda: started.done() or waiting_for(files.lock), "the start's server to wait for the lock")
                until(lambda: started.done() or not waiting_for(files.lock), "the start's server to give up and exit already running")
            finally:
                fcntl.flock(winner, fcntl.LOCK_UN)  # the winner stops without ever answering
        info = started.result(timeout=120)
        assert lifecycle.read_server_info(data)["pid"] == info["pid"]
        assert lifecycle.request(info, lifecycle.read_token(data), "GET", "/_admin/status")
    finally:
        lifecycle.stop(data)
