"""Timestamps: the ones gpuctl writes (UTC, ISO 8601, a `Z`), and the ones it reads from the
account (records, releases, log lines), where a time that names no zone is UTC: read as the
machine's local time, the same record had another age on a CI runner in another zone."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any


def iso_utc(epoch: float | None = None) -> str:
    """`epoch` (now when None) as `2026-12-06T21:54:00Z`."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def epoch_of(text: Any) -> float | None:
    """The moment an ISO 8601 timestamp names, as seconds since the epoch (UTC when it names
    no zone); None when it is not one."""
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
