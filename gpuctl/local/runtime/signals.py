"""Wake-ups for long polls, shared by the runtime and the routes that wait on it."""

from __future__ import annotations

import asyncio
from typing import Any


class Signals:
    """A waiter sleeps on keys until someone notifies one of them, the timeout passes, or the
    server begins shutting down.

    `wait` registers its keys before it first yields, so a notify that happens while the
    waiter is getting ready is never lost; await it directly, never through a task.
    """

    def __init__(self) -> None:
        self._events: dict[Any, asyncio.Event] = {}
        self.shutdown = asyncio.Event()

    def notify(self, key: Any) -> None:
        event = self._events.pop(key, None)
        if event is not None:
            event.set()

    async def wait(self, *keys: Any, timeout: float) -> None:
        if timeout <= 0 or self.shutdown.is_set():
            return
        events = [self._events.setdefault(key, asyncio.Event()) for key in keys] + [self.shutdown]
        waiters = [asyncio.ensure_future(e.wait()) for e in events]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
