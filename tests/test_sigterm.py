"""SIGTERM is a Ctrl-C in gpu, by one mechanism (`interrupts.sigterm_as_ctrl_c`, installed by
`main`): no command installs its own. That SIGTERM ends `warm` and `status --watch` cleanly is
shown end to end by tests/e2e/test_warm.py (the pod deleted, exit 130) and
tests/e2e/test_status_watch.py (exit 0); here, the mechanism itself and the watch's pacing."""

from __future__ import annotations

import io
import os
import re
import signal
from pathlib import Path

import pytest

from gpuctl import interrupts

ROOT = Path(__file__).resolve().parent.parent / "gpuctl"


def test_sigterm_raises_a_keyboard_interrupt_once_installed():
    previous = signal.getsignal(signal.SIGTERM)
    try:
        interrupts.sigterm_as_ctrl_c()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_only_the_interrupts_module_installs_a_sigterm_handler():
    """The CLI's `main` and two commands (`warm`, `status --watch`) each made SIGTERM a Ctrl-C in
    their own way; a fourth copy would be the one that behaves differently."""
    installs = [f"{path.relative_to(ROOT)}:{n}" for path in ROOT.rglob("*.py") if "local" not in path.relative_to(ROOT).parts
                for n, line in enumerate(path.read_text().splitlines(), 1)
                if re.search(r"signal\.signal\(\s*signal\.SIGTERM", line) and path.name != "interrupts.py"]
    assert installs == []


def interrupted_after(pauses: int):
    """(the pauses asked for, a sleep that records each and is interrupted at the `pauses`-th)."""
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == pauses:
            raise KeyboardInterrupt

    return slept, sleep


def test_status_watch_refreshes_at_its_interval_until_interrupted():
    """`status --watch` slept with time.sleep itself; its pause is now injected, so its pacing
    and its ending on an interrupt are seen without waiting."""
    from gpuctl.cli.context import AppContext
    from gpuctl.cli.inspect_cmd import _watch

    out, (slept, sleep) = io.StringIO(), interrupted_after(3)

    docs = iter({"name": "echo", "n": i} for i in range(10))
    with pytest.raises(KeyboardInterrupt):
        _watch(AppContext(environ={}, stdout=out), lambda: next(docs), 2.5, as_json=True, sleep=sleep)
    assert slept == [2.5, 2.5, 2.5]
    assert [line for line in out.getvalue().splitlines()] == [f'{{"name": "echo", "n": {i}}}' for i in range(3)]


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_status_watch_on_a_dumb_terminal_writes_plain_lines(monkeypatch):
    """`status --watch` drew its panel live whenever stdout was a terminal, unlike every other
    progress view (AppContext.live): under TERM=dumb (Emacs' shell) the redraws' escapes showed
    as text. There it now writes one plain line per refresh, as in a pipe."""
    from gpuctl.cli import views
    from gpuctl.cli.context import AppContext
    from gpuctl.cli.inspect_cmd import _watch

    monkeypatch.setattr(views, "status_line", lambda doc: f"{doc['name']}: {doc['n']}")
    monkeypatch.setattr(views, "status_panel", lambda doc: f"panel {doc['n']}")
    out, (_, sleep) = Tty(), interrupted_after(2)

    docs = iter({"name": "echo", "n": i} for i in range(10))
    with pytest.raises(KeyboardInterrupt):
        _watch(AppContext(environ={"TERM": "dumb"}, stdout=out), lambda: next(docs), 1.0, as_json=False, sleep=sleep)
    lines = out.getvalue().splitlines()
    assert "\x1b" not in out.getvalue() and len(lines) == 2, repr(out.getvalue())
    assert all(re.fullmatch(rf"\d\d:\d\d:\d\d echo: {i}", line) for i, line in enumerate(lines)), lines
