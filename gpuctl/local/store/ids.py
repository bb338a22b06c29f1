"""Identifier shapes copied from RunPod (api-notes §1): endpoints, workers and pods are 14
lowercase alphanumerics, templates and network volumes 10, async jobs `<uuid>-u1`, sync jobs
`sync-<uuid>`. Clients treat them as opaque; matching the shape keeps their length checks and
log formats honest."""

from __future__ import annotations

import re
import secrets
import string
import uuid
from datetime import UTC, datetime

ALPHABET = string.ascii_lowercase + string.digits
ID_SHAPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")  # the client's shape (provider/http.py) for these kinds
ID_SHAPE_TEXT = "1 to 64 ASCII letters, digits, '-' or '_', starting with a letter or digit"


def is_id(value: object) -> bool:
    """Whether `value` has the shape of a RunPod id, so it may name a row, a directory or a URL
    segment: nothing like `/`, `..`, `%`, `?`, spaces or control characters gets through."""
    return isinstance(value, str) and ID_SHAPE.fullmatch(value) is not None


def short_id(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def endpoint_id() -> str:
    return short_id(14)


def worker_id() -> str:
    return short_id(14)


def pod_id() -> str:
    return short_id(14)


def template_id() -> str:
    return short_id(10)


def volume_id() -> str:
    return short_id(10)


def release_id() -> str:
    return "rel_" + short_id(10)


def job_id(sync: bool = False) -> str:
    return f"sync-{uuid.uuid4()}" if sync else f"{uuid.uuid4()}-u1"


def timestamp(epoch: float | None = None) -> str:
    """RFC 3339 in UTC with a Z, second precision, as RunPod's v2 examples show."""
    moment = datetime.now(UTC) if epoch is None else datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def precise_timestamp(epoch: float) -> str:
    """RFC 3339 with microseconds, for log lines that need ordering within a second."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
