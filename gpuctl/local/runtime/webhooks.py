"""Job webhooks (api-notes §5.3): when a job reaches a terminal state, POST its /status
object to the URL given with the request; on anything but a 2xx try twice more, 10 s apart.
Only the answer's status is read, never its body: a receiver's answer of 200 MB was read into
memory whole, and a 200 whose body never ended counted as a failure and was sent again.
httpx is imported on the first webhook only, so the server starts without it."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


DEADLINE_S = 30.0  # one delivery, connection to status line


class Webhooks:
    def __init__(self, retry_delay_s: float = 10.0, attempts: int = 3):
        self.retry_delay_s = retry_delay_s
        self.attempts = attempts
        self.tasks: set[asyncio.Task] = set()
        self.client: Any = None

    def send(self, url: str, payload: dict[str, Any]) -> None:
        task = asyncio.ensure_future(self._deliver(url, payload))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _deliver(self, url: str, payload: dict[str, Any]) -> None:
        if self.client is None:
            import httpx

            self.client = httpx.AsyncClient(timeout=10.0, follow_redirects=False)
        for attempt in range(self.attempts):
            with contextlib.suppress(Exception):
                async with asyncio.timeout(DEADLINE_S), self.client.stream("POST", url, json=payload) as response:
                    if response.status_code < 300:  # leaving the block unread closes the connection
                        return
            if attempt + 1 < self.attempts:
                await asyncio.sleep(self.retry_delay_s)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.client is not None:
            await self.client.aclose()
