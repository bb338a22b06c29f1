"""RunPod's v2 log stream (`.../workers/{id}/logs`, `/v2/pods/{id}/logs`) for one log file:
the query validated, the backfill it asks for, then the file followed while its process lives,
as Server-Sent Events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gpuctl.local.api.http import ApiError
from gpuctl.local.runtime import logs
from gpuctl.local.runtime.signals import Signals
from gpuctl.local.store import ids

HEADERS = {"Cache-Control": "no-cache", "Connection": "keep-alive", "X-Accel-Buffering": "no"}


def log_stream(request: Request, signals: Signals, path: Path, key: str, alive: Callable[[], bool]) -> Response:
    source = request.query_params.get("source")
    if source not in (None, "container", "system"):
        raise ApiError(400, "source must be container or system")
    if not path.exists():
        raise ApiError(404, f"{key} not found")
    after, since, tail = _resume_point(request)
    records, offset = logs.read_backfill(path)
    backfill = logs.select(records, source=source, tail=tail, after=after, since=since)
    body = logs.stream(path, backfill, offset, source, lambda: alive() and not signals.shutdown.is_set(),
                       lambda t: signals.wait(("logs", key), timeout=t))
    return StreamingResponse(body, media_type="text/event-stream", headers=HEADERS)


def _resume_point(request: Request) -> tuple[str | None, str | None, int]:
    """(Last-Event-ID, since, tail) from the v2 log query, validated."""
    after = request.headers.get("last-event-id") or None
    since = request.query_params.get("since")
    if since:
        try:
            moment = datetime.fromisoformat(since.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ApiError(400, "since must be an RFC 3339 timestamp") from None
        if moment.tzinfo is None:  # read in this machine's zone, it was hours away outside UTC (review 9, R9-7)
            raise ApiError(400, "since must be an RFC 3339 timestamp with a time zone: Z or an offset such as +02:00")
        since = ids.precise_timestamp(moment.timestamp())
    try:
        tail = int(request.query_params.get("tail", "100"))
    except ValueError:
        raise ApiError(400, "tail must be an integer from 0 to 5000") from None
    if not 0 <= tail <= logs.MAX_TAIL:
        raise ApiError(400, "tail must be an integer from 0 to 5000")
    return after, since, tail
