"""Connections that send nothing cannot hold the server.

uvicorn waits for a request's head and body for as long as the client likes, and keeps no
count of connections: 1,005 sockets opened and left silent (or sending half a head) took
every file descriptor a server with the usual limit of 1,024 had, and real clients were
reset; a half-sent request stayed open for ever. `guarded_protocol` wraps the HTTP protocol
uvicorn picks with two rules:

- **read timeout**: a request must arrive whole (head and body) within `read_timeout_s` of the
  moment the server started waiting for it (the connection opened, or the first byte of the
  next request on a kept-alive one). Past it the connection is closed, with a 408 when part
  of a head came. Time the server itself stopped reading (a large body the app has not
  consumed yet) does not count. A request being handled (a long poll) and an idle kept-alive
  connection are not waiting on the client.
- **connection cap**: past `max_connections` open connections, each new one closes the
  quietest connection that is doing nothing for anyone: idle ones first, then those whose
  head is still coming, then those whose body is still coming, the longest waiting first. A
  request the server is handling (a long poll too) is never closed, so a client that sends
  its request is served whatever else is open.
"""

from __future__ import annotations

import asyncio
import resource
import time
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol

REQUEST_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


def default_max_connections() -> int:
    """Half the process's file descriptors: the rest stay for SQLite, logs and workers' pipes."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 10_000
    return max(32, min(10_000, soft // 2))


def guarded_protocol(read_timeout_s: float, max_connections: int) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol class (httptools or h11, as uvicorn would pick) with the read
    timeout and the connection cap above."""
    base: Any = AutoHTTPProtocol

    class Guarded(base):  # type: ignore[misc, valid-type]
        _deadline: asyncio.TimerHandle | None = None
        _partial = False  # bytes of a next request's head have come, not the whole head
        _quiet_since = 0.0

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._quiet_since = time.monotonic()
            self._check()
            if len(self.connections) > max_connections:
                self._make_room()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            before = self.cycle
            super().data_received(data)
            if self.cycle is not before:
                self._partial = False  # a new head came whole
            elif before is None or before.response_complete or not before.more_body:
                self._partial = True  # bytes of a head that has not ended yet
            self._check()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._quiet_since = time.monotonic()
            self._check()

        def _waiting_on_client(self) -> bool:
            if self.transport is None or self.transport.is_closing():
                return False
            cycle = self.cycle
            if cycle is None or cycle.response_complete:
                return cycle is None or self._partial  # the first head, or a next one begun
            return bool(cycle.more_body) and not self._partial

        def _idle(self) -> bool:
            cycle = self.cycle
            return cycle is None or cycle.response_complete

        def _check(self) -> None:
            if self._waiting_on_client():
                if self._deadline is None:
                    self._deadline = self.loop.call_later(read_timeout_s, self._expired)
            else:
                self._disarm()

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expired(self) -> None:
            self._deadline = None
            if not self._waiting_on_client():
                return
            if self.flow is not None and self.flow.read_paused:  # the server is not reading: not the client's delay
                self._deadline = self.loop.call_later(read_timeout_s, self._expired)
                return
            if self._partial:
                self.transport.write(REQUEST_TIMEOUT)
            self.transport.close()

        def _make_room(self) -> None:
            others = [c for c in self.connections if c is not self and isinstance(c, Guarded)]
            victims = sorted((c for c in others if c._idle() or c._waiting_on_client()), key=lambda c: (c._rank(), c._quiet_since))
            for victim in victims[: len(self.connections) - max_connections]:
                victim.transport.close()
                self.connections.discard(victim)  # closed: it no longer counts, whenever its connection_lost comes

        def _rank(self) -> int:
            """Which to close first: idle, then a head still coming, then a body still coming."""
            if self._idle():
                return 1 if self._partial else 0
            return 2

    return Guarded
