"""Job webhooks (api-notes §5.3): when a job reaches a terminal state, POST its /status
object to the URL given with the request; on anything but a 2xx try twice more, 10 s apart.
Only the answer's status is read, never its body: a receiver's answer of 200 MB was read into
memory whole, and a 200 whose body never ended counted as a failure and was sent again.
httpx is imported on the first webhook only, so the server starts without it.

The body is written by the one JSON writer (gpuctl.jsontext): httpx's own refused a status
holding NaN, and the failure was swallowed with every other. A delivery that ends without a
2xx after every attempt is a line in server.log naming the job, the receiver's origin and the
last reason; never the URL's path, query or user info, which may hold the receiver's secret (a
Slack-style path token, `?token=`)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit

from gpuctl.jsontext import dumps


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
        body = dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        reason = ""
        for attempt in range(self.attempts):
            try:
                async with asyncio.timeout(DEADLINE_S), self.client.stream("POST", url, content=body,
                                                                            headers={"Content-Type": "application/json"}) as response:
                    if response.status_code < 300:  # leaving the block unread closes the connection
                        return
                    reason = f"it answered {response.status_code}"
            except TimeoutError:
                reason = f"no answer within {DEADLINE_S:g} s"
            except Exception as exc:  # noqa: BLE001 - any failure is one more attempt; its kind is logged, not its text (it may quote the URL)
                reason = type(exc).__name__
            if attempt + 1 < self.attempts:
                await asyncio.sleep(self.retry_delay_s)
        logging.getLogger("gpuctl.local").warning("webhook of job %s to %s gave up after %d attempts: %s", payload.get("id"), origin(url),
                                                  self.attempts, reason)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.client is not None:
            await self.client.aclose()


def origin(url: str) -> str:
    """`scheme://host:port` of a webhook URL, for the log: its path, query and user info may hold
    the receiver's secret."""
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]} (path not shown)"
    except ValueError:
        return "(an unparsable URL)"
