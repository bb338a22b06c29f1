"""Waiting for something to happen by asking again: the one pacing every polling loop of gpuctl
uses (a job's final state, a rollout, the project lock, the account lease, an object becoming
visible after a create).

`Backoff` is the pacing alone: whether the time is up, and the next pause, which grows by
`factor` up to `cap` and never sleeps past the deadline. `stop` ends a wait early: a wait of
the engine's step threads (which no KeyboardInterrupt reaches) passes "an interrupt came", so
after Ctrl-C it looks once more and ends instead of holding the run (ADR 20); a pause under
way when it comes ends at the next tick (a wait with `stop` sleeps in ticks of `Backoff.TICK`). `poll_until` is the common loop built
on it. Clock and sleep are injected, so a test drives a wait of minutes without waiting.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def time_left(deadline: float, clock: Callable[[], float]) -> Callable[[], float]:
    """`remaining` for a wait that ends at `deadline` on `clock`."""
    return lambda: deadline - clock()


class Backoff:
    """The pauses of one wait: `first`, then each `factor` times the last, at most `cap`; the
    wait is over once `remaining()` is not positive, or once `stop()` says so."""

    TICK = 0.125  # with `stop`, a pause is slept in ticks of this (exact in binary: the ticks add up to the pause), `stop` asked between them

    def __init__(self, *, remaining: Callable[[], float], sleep: Callable[[float], None], first: float,
                 factor: float = 1.0, cap: float = math.inf, stop: Callable[[], bool] | None = None):
        self.remaining, self.sleep, self.factor, self.cap = remaining, sleep, factor, cap
        self.stop, self._ticks = stop or _never, stop is not None
        self.next = min(first, cap)

    @property
    def stopped(self) -> bool:
        """Whether `stop` ended the wait (not the time running out)."""
        return self.stop()

    @property
    def over(self) -> bool:
        return self.stop() or self.remaining() <= 0

    def pause(self) -> None:
        """Sleep the next pause, cut to what is left of the wait (nothing once it is over).
        With `stop`, the pause is slept in ticks of `TICK` and ends at the first tick after
        `stop` says so: an interrupt during a pause is not held until its end."""
        left = max(0.0, min(self.next, self.remaining()))
        self.next = min(self.next * self.factor, self.cap)
        if not self._ticks:
            self.sleep(left)
            return
        while left > 1e-9 and not self.stop():
            tick = min(self.TICK, left)
            self.sleep(tick)
            left -= tick


def _never() -> bool:
    return False


def poll_until(check: Callable[[], T], done: Callable[[T], bool], *, remaining: Callable[[], float],
               sleep: Callable[[float], None], first: float, factor: float = 1.0, cap: float = math.inf,
               seen: Callable[[T], None] = lambda value: None) -> T:
    """Call `check()` until `done` says its answer is the one waited for, or the time is up;
    `seen` gets every answer that is not done, before the pause that follows it. Returns the
    last answer either way: the caller decides what a timeout means (so it asks `done` again)."""
    waits = Backoff(remaining=remaining, sleep=sleep, first=first, factor=factor, cap=cap)
    while True:
        value = check()
        if done(value):
            return value
        seen(value)
        if waits.over:
            return value
        waits.pause()
