"""Following a RunPod v2 log stream (Server-Sent Events: a worker's logs for `gpu serverless
logs -f`, the CPU pre-warm pod's output for `warm --cpu`): the one reader both use.

A stream may not exist yet, may drop, and ends after a quiet spell; the reader reconnects until
told to stop. A reconnect repeats lines: a stream resumed `since` a time repeats the lines of
that moment, and one that cannot be resumed (the pod log) backfills its recent lines. So each
record is recognised (its event id, else its time, source and text) and handed over once. The
memory of records handed over is bounded (`MEMORY` keys, the newest): a pod that logs for
hours costs no more than one that logs for a minute, and a backfill (RunPod's default tail is
100 lines, at most 5000 when asked) is still recognised whole.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable

MEMORY = 8192  # the newest record keys remembered; more than the longest backfill (tail 5000)


class Cursor:
    """Where a stream resumes (`since`: the time of the newest record handed over) and which
    recent records were handed over already."""

    def __init__(self, since: str | None = None, memory: int = MEMORY):
        self.since = since
        self._order: deque[Hashable] = deque()
        self._keys: set[Hashable] = set()
        self.memory = memory

    def __len__(self) -> int:
        """How many record keys it remembers (at most `memory`)."""
        return len(self._keys)

    def fresh(self, record: dict) -> bool:
        """True the first time a record is seen (then it is remembered), False for a repeat."""
        key = record.get("_id") or (record.get("ts"), record.get("source"), record.get("line"))
        if key in self._keys:
            return False
        self._keys.add(key)
        self._order.append(key)
        if len(self._order) > self.memory:
            self._keys.discard(self._order.popleft())
        if record.get("ts"):
            self.since = record["ts"]
        return True


def follow(open_stream: Callable[[Cursor], Iterable[dict]], emit: Callable[[dict], None], *, again: Callable[[], bool],
           errors: tuple[type[BaseException], ...], cursor: Cursor | None = None, pause: float = 1.0,
           wait: Callable[[float], object] = time.sleep, stopped: Callable[[], bool] = lambda: False) -> None:
    """Emit each fresh record of `open_stream(cursor)` (a new connection, resumed from `cursor`
    where the stream can be), reconnecting `pause` seconds after the stream ends or fails with
    one of `errors` for as long as `again()` says to; `stopped()` ends it at once, between two
    records too. `wait` is the pause (time.sleep, or a threading.Event's wait that a stop cuts
    short)."""
    cursor = cursor or Cursor()
    while not stopped():
        try:
            for record in open_stream(cursor):
                if stopped():
                    return
                if cursor.fresh(record):
                    emit(record)
        except errors:  # not there yet, gone, or dropped: the caller's own loop decides; we retry
            pass
        if stopped() or not again():
            return
        wait(pause)
