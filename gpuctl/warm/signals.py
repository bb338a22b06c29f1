"""Signals during a warm-up: a pod or a job left behind costs money, so both Ctrl-C (SIGINT)
and SIGTERM (a CI runner cancelling, `kill`) must reach the `finally` that removes it, and
that removal must not itself be cut short.

Handlers can only be installed from the main thread; elsewhere both helpers do nothing and
the caller's own handling applies.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from gpuctl.errors import ExitCode, GpuctlError


class Interrupted(GpuctlError):
    exit_code = ExitCode.INTERRUPTED


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt, so it unwinds through the same `finally` as Ctrl-C."""
    if not _main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def held(interrupt_after: bool = True) -> Iterator[list[int]]:
    """Run a step that must finish (create, then delete, a pod): SIGINT and SIGTERM that arrive
    meanwhile are held and raised as KeyboardInterrupt once it is done. With
    `interrupt_after=False` the step is the last of a command whose outcome is decided (writing
    its result): they are not raised, the outcome stands; the caller gets the signals caught
    (the list yielded) to say so."""
    caught: list[int] = []
    if not _main_thread():
        yield caught
        return
    previous = {s: signal.signal(s, lambda signum, frame: caught.append(signum)) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield caught
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if caught and interrupt_after:
        raise KeyboardInterrupt
