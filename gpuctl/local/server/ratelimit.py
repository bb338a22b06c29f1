"""What the gate counts: requests in RunPod's RateLimit windows, and the request log behind
`/_admin/requests`."""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Any


class RateWindows:
    """Counts requests in fixed minute/hour/day windows for the RateLimit headers of §4.1.

    The quotas are generous on purpose: the local provider never throttles by itself (fault
    rules do that), but clients still see real, moving numbers.
    """

    WINDOWS = (("minute", 60, 100_000), ("hour", 3600, 1_000_000), ("day", 86400, 10_000_000))

    def __init__(self) -> None:
        self.counts: dict[str, tuple[int, int]] = {}

    def hit(self) -> dict[str, str]:
        """Count one request and return the headers its response carries."""
        now = time.time()
        for name, width, _ in self.WINDOWS:
            window = int(now // width)
            start, used = self.counts.get(name, (window, 0))
            self.counts[name] = (window, used + 1 if start == window else 1)
        return self.headers(now)

    def headers(self, now: float | None = None) -> dict[str, str]:
        now = time.time() if now is None else now
        parts = []
        for name, width, quota in self.WINDOWS:
            window = int(now // width)
            start, used = self.counts.get(name, (window, 0))
            used = used if start == window else 0
            reset = math.ceil((window + 1) * width - now)
            parts.append(f'"{name}";r={max(quota - used, 0)};t={reset}')
        return {"RateLimit": ", ".join(parts), "RateLimit-Policy": self.policy()}

    def policy(self) -> str:
        return ", ".join(f'"{name}";q={quota};w={width}' for name, width, quota in self.WINDOWS)


class RequestLog:
    """What the admin route `/_admin/requests` reports: recent requests and a write counter;
    and `held`, how many requests a fault rule's hang held were answered and logged since the
    server started (never reset: the admin route that clears the rules waits for it to reach
    FaultBook.held, so the requests the rules held are in the log when it answers)."""

    def __init__(self, limit: int = 10_000) -> None:
        self.entries: deque[dict[str, Any]] = deque(maxlen=limit)
        self.writes = 0
        self.held = 0

    def record(self, method: str, path: str, status: int, at: float, write: bool, held: bool = False) -> None:
        self.entries.append({"method": method, "path": path, "status": status, "at": at})
        self.writes += int(write)
        self.held += int(held)

    def reset(self) -> None:
        self.entries.clear()
        self.writes = 0
