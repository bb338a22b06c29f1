"""A damaged state.db (issue 9, item 5): one clear message with the fix, the damaged file moved
aside by `gpu local reset` so nothing is lost, and a server whose database goes bad while it
runs says so once and stops instead of logging a traceback every tick."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.local.conftest import wait_for

GARBAGE = b"this is not a SQLite database, it was overwritten\n" * 10


def damage(data: Path) -> None:
    assert run_cli(["local", "up", "--port", "0"], data.parent, {"GPUCTL_LOCAL_DIR": str(data), "HOME": str(data.parent)}).code == 0
    assert run_cli(["local", "down"], data.parent, {"GPUCTL_LOCAL_DIR": str(data), "HOME": str(data.parent)}).code == 0
    (data / "state.db").write_bytes(GARBAGE)


@pytest.mark.parametrize("command", [["local", "up", "--port", "0"], ["serverless", "deploy", "--plan", "--provider", "local"]], ids=["up", "on-demand"])
def test_a_damaged_state_file_is_one_clear_error_with_the_fix(env, tmp_path, command):
    environ, data = env
    damage(data)
    (tmp_path / "gpu.jsonc").write_text('{"serverless": {"template": "whisper", "gpu_type": "NVIDIA L4"}}')
    result = run_cli(command, tmp_path, environ)
    assert result.code == 1
    assert "state.db is damaged" in result.err and "gpu local reset" in result.err and "moves the damaged file aside" in result.err
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err


def test_reset_moves_the_damaged_file_aside_and_the_provider_starts_again(env, tmp_path):
    environ, data = env
    damage(data)
    reset = run_cli(["local", "reset", "-y"], tmp_path, environ)
    assert reset.code == 0, reset.err
    kept = [p for p in data.iterdir() if p.name.startswith("state.db.damaged-")]
    assert len(kept) == 1 and kept[0].read_bytes() == GARBAGE and str(kept[0]) in reset.err
    assert run_cli(["local", "up", "--port", "0"], tmp_path, environ).code == 0


def test_reset_of_a_healthy_state_keeps_no_copy(env, tmp_path):
    environ, data = env
    assert run_cli(["local", "up", "--port", "0"], tmp_path, environ).code == 0
    assert run_cli(["local", "down"], tmp_path, environ).code == 0
    assert run_cli(["local", "reset", "-y"], tmp_path, environ).code == 0
    assert not [p for p in data.iterdir() if "damaged" in p.name]


def test_a_database_that_goes_bad_while_running_is_reported_once_and_stops_the_server(env, tmp_path):
    environ, data = env
    assert run_cli(["local", "up", "--port", "0"], tmp_path, environ).code == 0
    for name in ("state.db", "state.db-wal", "state.db-shm"):
        path = data / name
        if path.exists():
            path.write_bytes(os.urandom(path.stat().st_size) if path.stat().st_size else GARBAGE)
    wait_for(lambda: not (data / "server.json").exists())
    log = (data / "server.log").read_text()
    assert log.count("state.db went bad while running") == 1, log
    assert "Traceback" not in log and "gpu local reset" in log
