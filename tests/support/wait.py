"""Waiting on an event a test can observe (the local provider's request log or admin view, a
command's output, a file) instead of sleeping and hoping. The deadline is a safety net for a
hung run, generous on a loaded machine, and never what a test measures."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

DEADLINE_S = 90.0  # for any one event; a hung run fails after it, never sooner


def until(condition: Callable[[], T], what: str, deadline: float = DEADLINE_S, every: float = 0.1) -> T:
    """Poll `condition` until it returns something truthy, and return that. If it never does,
    fail saying `what` was awaited and the last value seen."""
    give_up = time.monotonic() + deadline
    while not (value := condition()):
        if time.monotonic() > give_up:
            raise AssertionError(f"gave up after {deadline:.0f} s waiting for {what} (last seen: {value!r})")
        time.sleep(every)
    return value
