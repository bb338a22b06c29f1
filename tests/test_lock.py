"""R12's building block: the project lock names its holder and never breaks a stale lock."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from gpuctl.engine.lock import EXIT_LOCKED, LockHeld, ProjectLock


def test_second_holder_is_refused_with_the_holder_named(tmp_path):
    first = ProjectLock(tmp_path / "deploy.lock", "gpu serverless deploy")
    first.acquire(0)
    child = subprocess.run([sys.executable, "-c", f"from gpuctl.engine.lock import ProjectLock; ProjectLock(__import__('pathlib').Path({str(tmp_path / 'deploy.lock')!r}), 'x').acquire(0)"], capture_output=True, text=True)
    assert child.returncode != 0 and f"pid {os.getpid()}" in child.stderr
    first.release()
    assert not (tmp_path / "deploy.lock").exists()


def test_waits_up_to_the_timeout(tmp_path):
    lock = ProjectLock(tmp_path / "deploy.lock", "a")
    lock.acquire(0)
    now = [0.0]
    waiter = ProjectLock(tmp_path / "deploy.lock", "b", clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    messages = []
    with pytest.raises(LockHeld) as info:
        waiter.acquire(5.0, on_wait=messages.append)
    assert now[0] >= 5.0 and info.value.exit_code == EXIT_LOCKED
    assert messages and "waiting for the lock" in messages[0]


def test_stale_lock_is_reported_not_broken(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    path = tmp_path / "deploy.lock"
    path.write_text(json.dumps({"pid": int(dead), "host": socket.gethostname(), "command": "gpu serverless deploy", "started_at": "2026-11-27T00:00:00Z"}))
    with pytest.raises(LockHeld) as info:
        ProjectLock(path, "x").acquire(10)
    assert "stale lock" in info.value.summary and "remove" in info.value.hint
    assert path.exists()
