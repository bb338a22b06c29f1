"""Worker logs: every line a worker prints, plus the supervisor's own lifecycle lines, kept
as JSON lines in `logs/<endpoint>/<worker>.jsonl` and served as RunPod's v2 Server-Sent
Events stream (`id: <ts>/<seq>` and `data: {"ts","source","line"}`).

Files outlive their workers, so the logs of a worker that scaled down can still be read;
only the newest KEEP files per endpoint are kept, and a file that grows past its cap
(Settings.log_file_bytes) drops its oldest part, keeping the newest half: a chatty worker kept
alive grew one file without bound (review 9, R9-8). A trimmed log is a new file in the old
one's place, and a reader that follows it goes on from the last event it sent.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

from gpuctl.local.datadir.layout import read_own_piece
from gpuctl.local.datadir.private import write_new
from gpuctl.local.store import ids

KEEP = 20
MAX_TAIL = 5000
BACKFILL_BYTES = 16 * 1024 * 1024  # where a backfill is looked for: the newest 16 MiB of a log
READ_BYTES = 4 * 1024 * 1024  # the most one follow step reads
MAX_FILE_BYTES = 2 * BACKFILL_BYTES  # Settings.log_file_bytes: trimmed to the newest half, a backfill still has all it reads


class LogFile:
    """Appends lines for one worker. `on_line` wakes readers that follow the stream."""

    def __init__(self, path: Path, on_line: Callable[[], None], max_bytes: int = MAX_FILE_BYTES):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_bytes = max_bytes
        self.attach()
        self.seq = 0
        self.on_line = on_line

    def attach(self) -> None:
        """Append to the file at `path` (a trimmed log is a new one)."""
        self.handle = self.path.open("ab", buffering=0)
        self.size = os.fstat(self.handle.fileno()).st_size

    def write(self, source: str, line: str) -> None:
        if self.handle.closed:
            return
        self.seq += 1
        now = time.time()
        record = {"ts": ids.precise_timestamp(now), "source": source, "line": line.rstrip("\r\n"), "n": self.seq}
        data = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8", "surrogateescape")
        self.handle.write(data)
        self.size += len(data)
        if self.size > self.max_bytes:
            self.trim()
        self.on_line()

    def trim(self) -> None:
        """Drop the oldest part of the file, keeping the newest half of its cap from its first
        whole line: written to a new file that takes the old one's place (so a reader never
        reads half of one and half of the other), which is then appended to."""
        keep = self.max_bytes // 2
        data = read_own_piece(self.path, max(0, self.size - keep), keep)
        self.handle.close()
        kept = data[data.find(b"\n") + 1:] if self.size > keep else data
        write_new(self.path, kept)
        self.attach()

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
    place = Place(path, offset, event_id(backfill[-1]) if backfill else None)
    for record in backfill:
        yield sse(record)
    while alive():
        await wait(1.0)
        for event in place.appended(source):
            yield event
    for event in place.appended(source):
        yield event


def _file_id(path: Path) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


class Place:
    """Where a reader following a log is: the file (its device and inode), the offset in it,
    and the last event sent. A log trimmed past its cap (LogFile.trim) is another file in the
    same place, where the offset means nothing: the reader goes on from the first event after
    the last one it sent."""

    def __init__(self, path: Path, offset: int, last: str | None):
        self.path, self.offset, self.last = path, offset, last
        self.file = _file_id(path)

    def appended(self, source: str | None) -> Iterator[bytes]:
        """What was appended since, READ_BYTES at a time, as events of `source` (every source when None)."""
        while True:
            before = _file_id(self.path)
            records, moved = read_records(self.path, self.offset)
            if before != self.file or _file_id(self.path) != self.file:  # trimmed: what was read may be either file's
                self.file = before = _file_id(self.path)
                records, moved = read_backfill(self.path)
                if _file_id(self.path) != before:
                    continue  # trimmed again meanwhile
                records = [r for r in records if self.last is None or event_id(r) > self.last]
            elif moved == self.offset:
                return
            self.offset = moved
            if records:
                self.last = event_id(records[-1])
            for record in records:
                if source is None or record["source"] == source:
                    yield sse(record)
