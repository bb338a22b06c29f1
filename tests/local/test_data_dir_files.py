"""The data dir's own small files (token, server.json, server.log, state.db) replaced by
something that is no file the server wrote: a FIFO, a link to /dev/zero, a 1 GB file, bytes
that are not text. Each was read with `Path.read_text` or opened blocking: a FIFO made `gpu
local status`, `up` and `down` wait for ever (SIGTERM could not stop them), /dev/zero or a
1 GB token ended in MemoryError. Now a damaged token is one error naming the file with the way
out, and the files gpuctl rewrites anyway (server.json, server.log, a state.db `reset` moves
aside) are simply replaced.

The CLI runs as a subprocess with its address space capped (an endless read fails with
MemoryError instead of taking the machine) and a timeout that only catches a hang."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.local.conftest import own_environ

MEMORY = 1536 * 1024 * 1024
HANG = 60  # a guard against waiting for ever; a passing command takes about a second


def capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def gpu(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environ = own_environ()
    environ |= {"GPUCTL_LOCAL_DIR": str(data), "HOME": str(data.parent)}
    return subprocess.run([sys.executable, "-m", "gpuctl", *args], cwd=data.parent, env=environ, capture_output=True, text=True,
                          timeout=HANG, preexec_fn=capped, check=False)


def fifo(path: Path) -> None:
    os.mkfifo(path)


def dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def huge(path: Path) -> None:
    with path.open("wb") as handle:
        handle.truncate(1024 ** 3)  # sparse: no disk used


def not_text(path: Path) -> None:
    path.write_bytes(b"\xff\xfe\x00 not a token")


def two_words(path: Path) -> None:
    path.write_text("gpuctl-local-abc\nrm -rf ~\n")


DAMAGE: dict[str, Callable[[Path], None]] = {"fifo": fifo, "dev-zero": dev_zero, "1-GB": huge, "not-text": not_text, "two-words": two_words}


@pytest.fixture
def data(tmp_path: Path):
    data = tmp_path / "local"
    assert gpu(data, "local", "up", "--port", "0").returncode == 0
    assert gpu(data, "local", "down").returncode == 0
    yield data
    gpu(data, "local", "down")


def replace(path: Path, damage: Callable[[Path], None]) -> None:
    path.unlink(missing_ok=True)
    damage(path)


def clean(result: subprocess.CompletedProcess[str]) -> bool:
    return "Traceback" not in result.stderr and "internal error" not in result.stderr


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_a_damaged_token_file_is_one_error_naming_it_with_the_way_out(data: Path, damage: Callable[[Path], None]) -> None:
    replace(data / "token", damage)
    for command in (["local", "up", "--port", "0"], ["serverless", "invoke", "x", "--provider", "local"]):
        result = gpu(data, *command)
        assert result.returncode == 1, result.stderr
        assert f"token file {data / 'token'} cannot be used" in result.stderr, result.stderr
        assert "gpu local down" in result.stderr and "delete that file" in result.stderr and clean(result), result.stderr
    (data / "token").unlink()
    assert gpu(data, "local", "up", "--port", "0").returncode == 0  # the way out works
    assert (data / "token").read_text().startswith("gpuctl-local-")


@pytest.mark.parametrize("damage", [fifo, dev_zero, huge], ids=["fifo", "dev-zero", "1-GB"])
def test_a_damaged_server_json_means_not_running_and_is_replaced(data: Path, damage: Callable[[Path], None]) -> None:
    replace(data / "server.json", damage)
    status = gpu(data, "local", "status")
    assert status.returncode == 0 and "not running" in status.stdout and clean(status), status.stderr
    up = gpu(data, "local", "up", "--port", "0")
    assert up.returncode == 0 and clean(up), up.stderr
    assert "running at" in gpu(data, "local", "status").stdout
    down = gpu(data, "local", "down")
    assert down.returncode == 0 and "stopped" in down.stdout, down.stderr


def test_a_fifo_as_server_log_is_replaced_by_a_log(data: Path) -> None:
    replace(data / "server.log", fifo)
    up = gpu(data, "local", "up", "--port", "0")
    assert up.returncode == 0 and clean(up), up.stderr
    assert (data / "server.log").is_file()


def test_a_fifo_as_state_db_is_damaged_state_that_reset_moves_aside(data: Path) -> None:
    for name in ("state.db", "state.db-wal", "state.db-shm"):
        (data / name).unlink(missing_ok=True)
    fifo(data / "state.db")
    up = gpu(data, "local", "up", "--port", "0")
    assert up.returncode == 1 and "state.db is damaged" in up.stderr and "gpu local reset" in up.stderr and clean(up), up.stderr
    status = gpu(data, "local", "status")
    assert status.returncode == 0 and "0 endpoints" in status.stdout, status.stderr
    reset = gpu(data, "local", "reset", "-y")
    assert reset.returncode == 0 and "moved aside" in reset.stderr, reset.stderr
    assert gpu(data, "local", "up", "--port", "0").returncode == 0


def json_of_wrong_shape(change: dict) -> Callable[[Path], None]:
    """server.json as valid JSON the server never writes: a field of another type, or a URL
    that is not this server's on 127.0.0.1 (where the client would send the token)."""
    def damage(path: Path) -> None:
        import json

        path.write_text(json.dumps(json.loads(path.read_text()) | change))
    return damage


WRONG_SHAPE = {"url-a-number": {"url": 5}, "url-null": {"url": None}, "api-url-a-number": {"api_base_url": 5},
               "endpoint-url-a-list": {"endpoint_base_url": [1]}, "port-a-string": {"port": "x"}, "pid-true": {"pid": True},
               "bad-port-in-url": {"api_base_url": "http://127.0.0.1:notaport"},
               "another-host": {"url": "http://203.0.113.9:80", "api_base_url": "http://203.0.113.9:80", "endpoint_base_url": "http://203.0.113.9:80/ai/v2"}}


@pytest.mark.parametrize("change", WRONG_SHAPE.values(), ids=WRONG_SHAPE.keys())
def test_a_server_json_of_the_wrong_shape_while_the_server_runs_is_restored_by_it(data: Path, change: dict) -> None:
    """A running server's server.json damaged or replaced (valid JSON of the wrong shape
    crashed every command with `internal error: TypeError`; any damage made `local down` say
    "not running", delete the file and leave the server running, unreachable, for ever): the
    server puts its own back, and every command finds it."""
    assert gpu(data, "local", "up", "--port", "0").returncode == 0
    good = (data / "server.json").read_text()
    json_of_wrong_shape(change)(data / "server.json")
    for command in (["local", "status"], ["local", "env"], ["serverless", "list", "--all", "--provider", "local"]):
        result = gpu(data, *command)
        assert result.returncode == 0 and clean(result), (command, result.stderr)
        assert "203.0.113.9" not in result.stdout + result.stderr
    assert "running at" in gpu(data, "local", "status").stdout
    assert (data / "server.json").read_text() == good
    down = gpu(data, "local", "down")
    assert down.returncode == 0 and "stopped" in down.stdout, down.stderr
    assert not (data / "server.lock").exists() or "not running" in gpu(data, "local", "status").stdout


@pytest.mark.parametrize("damage", [not_text, lambda p: p.unlink()], ids=["not-text", "removed"])
def test_local_down_stops_a_server_whose_server_json_was_damaged(data: Path, damage: Callable[[Path], None]) -> None:
    assert gpu(data, "local", "up", "--port", "0").returncode == 0
    damage(data / "server.json")
    down = gpu(data, "local", "down")
    assert down.returncode == 0 and "stopped" in down.stdout and clean(down), down.stdout + down.stderr
    assert "not running" in gpu(data, "local", "status").stdout


def victim_link(path: Path) -> None:
    """A link to a file of the user's, which writing last-port through would have emptied."""
    victim = path.parent.parent / "precious.txt"
    victim.write_text("keep me\n")
    path.symlink_to(victim)


LAST_PORT_DAMAGE = DAMAGE | {"link-to-a-file": victim_link}


@pytest.mark.parametrize("damage", LAST_PORT_DAMAGE.values(), ids=LAST_PORT_DAMAGE.keys())
def test_a_damaged_last_port_is_ignored_and_replaced(data: Path, damage: Callable[[Path], None]) -> None:
    """`last-port` is read when an on-demand start finds its port taken, and written when it
    moves: it was read with `Path.read_text` (a FIFO hung the command, /dev/zero filled its
    memory) and written through whatever was there (into the FIFO, or through a link)."""
    replace(data / "last-port", damage)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        script = ("import sys; from pathlib import Path; from gpuctl.local.client import lifecycle; "
                  "print(lifecycle.ensure_running(Path(sys.argv[1]), port=int(sys.argv[2]))['port'])")
        started = subprocess.run([sys.executable, "-c", script, str(data), str(port)], capture_output=True, text=True, timeout=HANG,
                                 preexec_fn=capped, check=False, env=own_environ())
    assert started.returncode == 0 and clean(started), started.stderr
    moved = int(started.stdout)
    assert moved != port
    assert not (data / "last-port").is_symlink() and (data / "last-port").read_text() == f"{moved}\n"
    if (data.parent / "precious.txt").exists():
        assert (data.parent / "precious.txt").read_text() == "keep me\n"
    assert gpu(data, "local", "down").returncode == 0
