"""Review 9, R9-8: a worker's log file had no byte cap (one job printing 20 MB left a 21.7 MB
file, and a chatty worker kept alive grew one without bound); only the number of files per
endpoint was capped. A file past Settings.log_file_bytes drops its oldest part, and a reader
following it goes on from the last line it sent, missing none and repeating none."""

from __future__ import annotations

import asyncio
import json

from gpuctl.local.runtime import logs
from tests.local.conftest import start_server, stop_server


def records(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_log_file_past_its_cap_keeps_its_newest_lines(tmp_path):
    path = tmp_path / "w.jsonl"
    log = logs.LogFile(path, lambda: None, max_bytes=4000)
    for n in range(500):
        log.write("container", f"line {n:04d} ✓")  # non-ASCII: the cap counts bytes, not characters
        assert path.stat().st_size <= 4000
    log.close()
    kept = records(path)
    assert kept[-1]["line"] == "line 0499 ✓" and kept[0]["line"] != "line 0000 ✓"
    assert [r["n"] for r in kept] == list(range(kept[0]["n"], 501))  # whole lines, newest, in order
    assert logs.read_backfill(path)[0] == kept


def test_a_reader_following_a_log_that_drops_its_oldest_part_misses_and_repeats_nothing(tmp_path):
    path = tmp_path / "w.jsonl"
    log = logs.LogFile(path, lambda: None, max_bytes=3000)
    written = iter(range(400))

    async def write_some(_timeout: float) -> None:  # each follow step: less than half the cap is new, so nothing unread is dropped
        for n in [next(written, None) for _ in range(7)]:
            if n is not None:
                log.write("container", f"line {n:04d}")

    async def follow() -> list[str]:
        backfill, offset = logs.read_backfill(path)
        seen = []
        async for event in logs.stream(path, backfill, offset, None, lambda: len(seen) < 400 and path.stat().st_size > 0, write_some):
            seen.append(json.loads(event.decode().split("data: ", 1)[1])["line"])
            if len(seen) == 400:
                break
        return seen

    log.write("container", "first")
    seen = asyncio.run(follow())
    log.close()
    assert seen == ["first", *(f"line {n:04d}" for n in range(399))], seen[:5]


def test_the_local_provider_caps_a_chatty_workers_log(tmp_path):
    server = start_server(tmp_path / "data", {"log_file_bytes": 20_000})
    try:
        ep = server.create_endpoint("chatty")
        job = server.job(ep["id"], "runsync", {"input": {"lines": 2000}}).json()
        assert job["status"] == "COMPLETED", job
        path = logs.worker_log_path(server.data_dir / "logs", ep["id"], job["workerId"])
        assert 0 < path.stat().st_size <= 20_000
        kept = [r["line"] for r in records(path)]
        assert f"line 001999 of {job['id']}" in kept and f"line 000000 of {job['id']}" not in kept
    finally:
        stop_server(server)
