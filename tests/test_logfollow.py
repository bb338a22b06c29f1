"""gpuctl.logfollow, the one log-stream follower of `logs -f` and `warm --cpu`: every record is
handed over once across reconnects, and what it remembers to tell records apart is bounded."""

from __future__ import annotations

import gc
import threading
import tracemalloc

from gpuctl.logfollow import MEMORY, Cursor
from gpuctl.provider.errors import ServerError
from tests.support.wait import DEADLINE_S


def record(i: int, ts: str | None = None) -> dict:
    return {"_id": f"{i}", "ts": ts or f"2026-06-01T12:00:{i % 60:02d}.{i:06d}Z", "source": "container", "line": f"line {i}"}


def test_the_cursor_remembers_at_most_its_memory():
    cursor = Cursor()
    assert all(cursor.fresh(record(i)) for i in range(MEMORY * 3))
    assert len(cursor) == MEMORY
    assert not any(cursor.fresh(record(i)) for i in range(MEMORY * 3 - 5000, MEMORY * 3))  # the longest backfill is still known


class Pod:
    """A pod log of `n` lines whose stream drops at the end, then, on the reconnect, backfills
    its last 100 lines (a stream that cannot be resumed) and stays quiet."""

    def __init__(self, n: int):
        self.n, self.connections, self.backfilled = n, 0, threading.Event()

    def pod_logs(self, pod_id: str):
        self.connections += 1
        if self.connections == 1:
            yield from (record(i) for i in range(self.n))
            raise ServerError("GET /v2/pods/p/logs: the stream was cut short")
        if self.connections == 2:
            yield {"_id": "s", "ts": None, "source": "system", "line": "pod restarted"}
            yield from (record(i) for i in range(self.n - 100, self.n))
            self.backfilled.set()


def test_a_long_pod_log_is_handed_over_once_in_bounded_memory():
    """`warm --cpu` remembered every line its pod ever printed, to recognise a reconnect's
    backfill: 200,000 lines kept about 20 MB for as long as the warm-up ran."""
    from gpuctl.warm.podlog import PodLog

    n = 200_000
    pod = Pod(n)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        with PodLog(pod, "p") as log:
            assert pod.backfilled.wait(DEADLINE_S), "the pod log never reconnected"
            lines = log.take(DEADLINE_S)
            taken = len(lines)
            assert lines[:2] == ["line 0", "line 1"] and lines[-1] == f"line {n - 1}"
            del lines
            taken += len(log.take(0))
            gc.collect()
            kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert taken == n  # no line twice, the system line not at all
    assert kept < 4 * 1024 * 1024, f"{kept:,} bytes kept after {n:,} lines"


def test_a_worker_stream_resumes_since_its_newest_line_without_repeats():
    from gpuctl.cli.logs_cmd import RECONNECT_S, LogSource

    calls, paused, emitted = [], [], []
    first = [record(1, "T1"), record(2, "T1"), record(3, "T2"), record(4, "T2")]

    class Provider:
        def worker_logs(self, endpoint_id, worker_id, *, follow=False, since=None, tail=None):
            calls.append({"since": since, "tail": tail})
            if len(calls) == 1:
                yield from first
                raise ServerError("the stream was cut short")
            yield from [record(3, "T2"), record(4, "T2"), record(5, "T3")]  # `since` repeats the lines of T2

    LogSource(Provider(), "ep", None, 50).follow("w1", emitted.append, lambda worker: len(calls) < 2, wait=paused.append)
    assert calls == [{"since": None, "tail": 50}, {"since": "T2", "tail": None}]
    assert [r["line"] for r in emitted] == [f"line {i}" for i in range(1, 6)] and {r["worker"] for r in emitted} == {"w1"}
    assert paused == [RECONNECT_S]
