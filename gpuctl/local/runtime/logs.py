"""Worker logs: every line a worker prints, plus the supervisor's own lifecycle lines, kept
as JSON lines in `logs/<endpoint>/<worker>.jsonl` and served as RunPod's v2 Server-Sent
Events stream (`id: <ts>/<seq>` and `data: {"ts","source","line"}`).

Files outlive their workers, so the logs of a worker that scaled down can still be read;
only the newest KEEP files per endpoint are kept.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

from gpuctl.local.datadir.layout import read_own_piece
from gpuctl.local.store import ids

KEEP = 20
MAX_TAIL = 5000
BACKFILL_BYTES = 16 * 1024 * 1024  # where a backfill is looked for: the newest 16 MiB of a log
READ_BYTES = 4 * 1024 * 1024  # the most one follow step reads


class LogFile:
    """Appends lines for one worker. `on_line` wakes readers that follow the stream."""

    def __init__(self, path: Path, on_line: Callable[[], None]):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.handle = path.open("a", encoding="utf-8", buffering=1)
        self.seq = 0
        self.on_line = on_line

    def write(self, source: str, line: str) -> None:
        if self.handle.closed:
            return
        self.seq += 1
        now = time.time()
        record = {"ts": ids.precise_timestamp(now), "source": source, "line": line.rstrip("\r\n"), "n": self.seq}
        self.handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.on_line()

    def close(self) -> None:
        if not self.handle.closed:
            self.handle.close()


def worker_log_path(logs_dir: Path, endpoint_id: str, worker_id: str) -> Path:
    return logs_dir / endpoint_id / f"{worker_id}.jsonl"


def prune(directory: Path, keep: int = KEEP) -> None:
    if not directory.is_dir():
        return
    files = sorted(directory.glob("*.jsonl"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[keep:]:
        old.unlink(missing_ok=True)


def event_id(record: dict[str, Any]) -> str:
    return f"{record['ts']}/{record['n']:012d}"


def read_records(path: Path, offset: int = 0, limit: int = READ_BYTES) -> tuple[list[dict[str, Any]], int]:
    """Complete lines from `offset` on, at most `limit` bytes of them, and the offset after the
    last complete line read. A line that is not a record (the file was damaged) is skipped; a
    path that is no regular file (a FIFO would block the server, a device could be endless, a
    directory) holds nothing: it is read through the data dir's one bounded reader (layout.read_own_piece)."""
    data = read_own_piece(path, offset, limit)
    end = data.rfind(b"\n") + 1
    if end == 0 and limit and len(data) == limit:  # one line longer than limit: no record, step over it
        return [], offset + len(data)
    return [record for line in data[:end].splitlines() if (record := _record(line))], offset + end


def _record(line: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    ok = isinstance(record, dict) and all(isinstance(record.get(k), str) for k in ("ts", "source", "line")) and isinstance(record.get("n"), int)
    return record if ok else None


def read_backfill(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The records of the newest BACKFILL_BYTES of a log (from the first whole line in them),
    and the offset its end: what a backfill chooses from, however large the log grew (a worker
    that printed a gigabyte once made every log request read and parse all of it)."""
    try:
        size = os.stat(path).st_size
    except OSError:
        return [], 0
    start = max(0, size - BACKFILL_BYTES)
    return read_records(path, start, size - start)  # a line cut at the start is no record (its quotes are escaped)


def select(records: list[dict[str, Any]], *, source: str | None, tail: int, after: str | None, since: str | None) -> list[dict[str, Any]]:
    """Backfill per the v2 query: Last-Event-ID beats since, which beats tail."""
    chosen = [r for r in records if source is None or r["source"] == source]
    if after:
        return [r for r in chosen if event_id(r) > after]
    if since:
        return [r for r in chosen if r["ts"] >= since]
    return chosen[-tail:] if tail else []


def sse(record: dict[str, Any]) -> bytes:
    data = json.dumps({"ts": record["ts"], "source": record["source"], "line": record["line"]}, ensure_ascii=False)
    return f"id: {event_id(record)}\ndata: {data}\n\n".encode()


async def stream(path: Path, backfill: list[dict[str, Any]], offset: int, source: str | None,
                 alive: Callable[[], bool], wait: Callable[[float], Any]) -> AsyncIterator[bytes]:
    """Send the backfill, then follow the file while its worker lives, then send what it left."""
    for record in backfill:
        yield sse(record)
    while alive():
        await wait(1.0)
        for events, offset in _appended(path, offset, source):
            for event in events:
                yield event
    for events, offset in _appended(path, offset, source):
        for event in events:
            yield event


def _appended(path: Path, offset: int, source: str | None) -> Iterator[tuple[list[bytes], int]]:
    """What was appended to the log since `offset`, READ_BYTES at a time: each piece's events
    of `source` (every source when None) and the offset after it."""
    while True:
        records, moved = read_records(path, offset)
        if moved == offset:
            return
        yield [sse(r) for r in records if source is None or r["source"] == source], moved
        offset = moved
