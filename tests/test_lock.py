"""R12's building block: the project lock names its holder, and a run killed with -9 never
blocks the next one (the kernel drops its flock) but is reported."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from gpuctl.engine.lock import LockHeld, ProjectLock
from gpuctl.errors import ExitCode

HOLD = "import sys; from pathlib import Path; from gpuctl.engine.lock import ProjectLock; lock = ProjectLock(Path(sys.argv[1]), 'gpu serverless deploy'); lock.acquire(0); print('held', flush=True); sys.stdin.read()"  # holds until the test kills it (or closes its stdin), not for a fixed 60 s


def test_second_holder_is_refused_with_the_holder_named(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "deploy.lock")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockHeld) as info:
            ProjectLock(tmp_path / "deploy.lock", "x").acquire(0)
        assert f"pid {holder.pid}" in info.value.summary and info.value.exit_code == ExitCode.LOCKED
    finally:
        holder.kill()
        holder.wait()


def test_waits_up_to_the_timeout(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "deploy.lock")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        now = [0.0]
        waiter = ProjectLock(tmp_path / "deploy.lock", "b", clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
        messages = []
        with pytest.raises(LockHeld):
            waiter.acquire(5.0, on_wait=messages.append)
        assert now[0] >= 5.0 and "waiting for the lock" in messages[0]
    finally:
        holder.kill()
        holder.wait()


def test_killed_holder_does_not_block_but_is_reported(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "deploy.lock")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    holder.kill()  # SIGKILL: no chance to release
    holder.wait()
    lock = ProjectLock(tmp_path / "deploy.lock", "next")
    lock.acquire(0)
    assert lock.interrupted and lock.interrupted["pid"] == holder.pid
    lock.release()
    again = ProjectLock(tmp_path / "deploy.lock", "after")
    again.acquire(0)
    assert again.interrupted is None and json.loads((tmp_path / "deploy.lock").read_text())["pid"] == os.getpid()
    again.release()


@pytest.mark.parametrize("record", [{"pid": "x" * 5000, "host": [1], "command": "\x1b[2J", "started_at": float("nan")},
                                    {"pid": json.loads("[" * 900 + "]" * 900)}], ids=["long-and-odd-types", "deep"])
def test_a_holder_record_of_odd_values_is_named_short_and_as_json_spells_it(tmp_path, record):
    """A deploy.lock left with an edited holder record was described whole (5,000 characters, or
    900 nested brackets) and as Python spells it (`[1]`, `nan`)."""
    from gpuctl.engine.lock import describe

    (tmp_path / "deploy.lock").write_text(json.dumps(record))
    lock = ProjectLock(tmp_path / "deploy.lock", "next")
    lock.acquire(0)
    lock.release()
    shown = describe(lock.interrupted)
    assert len(shown) < 250, shown
    assert "nan" not in shown and "[1]" not in shown and "[[" not in shown, shown
