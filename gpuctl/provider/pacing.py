"""One pace for every request a client sends, from however many threads.

RunPod limits requests per key, not per connection, so a parallel apply must behave as one
polite client: a `Retry-After` that one answer asks for holds back every thread's next
request, and the `RateLimit` header's remaining count (`"minute";r=3;t=12`) is a budget the
threads share, so ten workers never spend more than the window has left and then meet a
wall of 429s. When the budget is spent, everyone waits for the window to reset.

Each window the header names is kept on its own (the minute window's count is never combined
with the hour window's reset). A window's count is kept conservatively: an answer can only
lower what is left of the current window (requests still in flight were not counted by the
server when it answered), and a new window starts from what the server says. When an answer
says a window is spent, its reset is the server's latest word on when the window starts again.

Whoever shows progress can be told when a pause begins (`on_pause`), so a wait of many seconds
reads as "rate limited", not as a hang.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

_WINDOW = re.compile(r'"?(\w+)"?\s*;\s*r=(\d+)\s*;\s*t=(\d+)')
_ANNOUNCE_S = 1.0  # shorter pauses go unmentioned


@dataclass(frozen=True)
class Window:
    """One window of a `RateLimit` header: `remaining` requests for the next `reset` seconds."""

    name: str
    remaining: int
    reset: int


def windows(header: str | None) -> list[Window]:
    return [Window(name, int(r), int(t)) for name, r, t in _WINDOW.findall(header or "")]


@dataclass
class Pacer:
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    on_pause: Callable[[float, str], None] | None = None  # (seconds, why): a pause of every request begins
    _not_before: float = 0.0  # no request before this moment (Retry-After)
    _windows: dict[str, list] = field(default_factory=dict)  # name -> [requests left, when the window ends]
    _announced: float = 0.0  # the end of the last pause reported to on_pause
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def held(self) -> float:
        """Seconds until the next request may go out (0: now)."""
        with self._lock:
            return self._wait(self.clock())[0]

    def take(self, longest: float, stop: Callable[[], bool] = lambda: False) -> float:
        """Wait until a request may go out, then count it against every window. Returns how
        long that was; a wait longer than `longest` is not slept: it returns it at once, for
        the caller to refuse. `stop()` true ends the wait early, nothing counted: the request
        will not be sent (an interrupt came)."""
        waited = 0.0
        while True:
            with self._lock:
                now = self.clock()
                wait, why = self._wait(now)
                if wait <= 0:
                    for window in self._windows.values():
                        if now < window[1]:
                            window[0] -= 1
                    return waited
                announce = wait >= _ANNOUNCE_S and now + wait > self._announced + _ANNOUNCE_S
                if announce:
                    self._announced = now + wait
            if waited + wait > longest:
                return waited + wait
            if stop():
                return waited
            if announce and self.on_pause is not None:
                self.on_pause(wait, why)
            self.sleep(wait)
            waited += wait

    def hold(self, seconds: float, jitter: bool = False) -> None:
        """Send nothing for `seconds`; with `jitter`, a little longer, so clients told the same
        pause do not all come back at the same instant."""
        extra = self.rng.uniform(0, min(1.0, seconds * 0.1)) if jitter else 0.0
        with self._lock:
            self._not_before = max(self._not_before, self.clock() + seconds + extra)

    def observe(self, retry_after: float | None, ratelimit: str | None) -> None:
        """What one answer says about the pace: its Retry-After, and its RateLimit windows."""
        if retry_after is not None:
            self.hold(retry_after, jitter=True)
        found = windows(ratelimit)
        if not found:
            return
        with self._lock:
            now = self.clock()
            for w in found:
                known = self._windows.get(w.name)
                if known is None or now >= known[1]:
                    self._windows[w.name] = [w.remaining, now + w.reset]
                else:
                    known[0] = min(known[0], w.remaining)
                    if w.remaining == 0:
                        known[1] = now + w.reset

    def _wait(self, now: float) -> tuple[float, str]:
        """How long until the next request may go out, and why."""
        wait, why = self._not_before - now, "RunPod asked for a pause (Retry-After)"
        for name, (left, end) in self._windows.items():
            if left <= 0 and end - now > wait:
                wait, why = end - now, f"the {name} rate-limit window is spent"
        return max(0.0, wait), why
