"""Ctrl-C or SIGTERM while `gpu local up` waits for the server it spawned (review 5, R5-11). It
said `error: interrupted` and left the server starting in the background: `gpu local status`
then said it was running, with nobody to stop it. Now an interrupt before the server is up stops
the server it spawned and says so; one after the server wrote server.json says it is running
and how to stop it. Both exit 130.

The server is held in its start (before it writes server.json) by a `sitecustomize` on its
PYTHONPATH that waits for the test's word, so the signal lands in that window and nowhere else."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gpuctl.local.client import lifecycle
from gpuctl.local.datadir import reaper
from tests.support.wait import until

ROOT = Path(__file__).resolve().parents[2]
HOLD = '''
import os, sys, time
if sys.orig_argv[1:3] == ["-m", "gpuctl.local"] and os.environ.get("GPUCTL_TEST_HOLD"):
    hold = os.environ["GPUCTL_TEST_HOLD"]
    with open(os.path.join(hold, "spawned.tmp"), "w") as f:
        f.write(str(os.getpid()))
    os.replace(os.path.join(hold, "spawned.tmp"), os.path.join(hold, "spawned"))
    while not os.path.exists(os.path.join(hold, "go")):
        time.sleep(0.05)
'''


def _environ(tmp_path: Path, hold: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("RUNPOD_", "GPUCTL_", "GPU_"))}
    path = os.pathsep.join([str(hold), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return keep | {"HOME": str(tmp_path), "PYTHONPATH": path, "GPUCTL_TEST_HOLD": str(hold), "NO_COLOR": "1"}


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_while_the_server_starts_stops_it_and_says_so(tmp_path, signum):
    hold, data = tmp_path / "hold", tmp_path / "data"
    hold.mkdir()
    (hold / "sitecustomize.py").write_text(HOLD)
    up = subprocess.Popen([sys.executable, "-m", "gpuctl", "local", "up", "--port", "0", "--data-dir", str(data)], env=_environ(tmp_path, hold),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    server = None
    try:
        until(lambda: (hold / "spawned").exists() or up.poll() is not None, "the server to be spawned")
        assert up.poll() is None, up.communicate()
        server = int((hold / "spawned").read_text())
        up.send_signal(signum)
        out, err = up.communicate(timeout=120)
    finally:
        (hold / "go").touch()  # a server left running (the defect) goes on to start, and is stopped below
    try:
        assert up.returncode == 130, err
        assert "the local provider was not started" in err and "stopped" in err, err
        assert not reaper.alive(server), "the server up spawned is still running"
        assert lifecycle.read_server_info(data) is None
    finally:
        if server is not None and reaper.alive(server):
            until(lambda: lifecycle.read_server_info(data) is not None or not reaper.alive(server), "the left server to start or end")
            lifecycle.stop(data)


def test_an_interrupt_once_the_server_is_up_says_it_runs_and_how_to_stop_it(env, monkeypatch):
    """Past server.json (up waits for its first answer then): stopping it would surprise a
    command that started it on demand as much as leaving it; it is said to run, with the way to
    stop it."""
    _, data = env
    answer = lifecycle.request

    def interrupted(*args, **kwargs):
        monkeypatch.setattr(lifecycle, "request", answer)
        raise KeyboardInterrupt

    monkeypatch.setattr(lifecycle, "request", interrupted)
    with pytest.raises(lifecycle.LocalProviderError) as info:
        lifecycle.start(data, 0)
    running = lifecycle.read_server_info(data)
    assert running is not None and info.value.exit_code == 130
    assert f"running at {running['url']} (pid {running['pid']})" in info.value.summary, info.value.summary
    assert "gpu local down" in info.value.hint
