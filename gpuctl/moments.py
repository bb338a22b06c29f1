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


class NoZone(ValueError):
    """A date and time that names no time zone (`2026-12-07T15:00:00`). `moment` is it, naive."""

    def __init__(self, moment: datetime):
        super().__init__(moment.isoformat())
        self.moment = moment

    def choices(self) -> str:
        """The same time with a zone, to choose from: in UTC, and in this machine's zone."""
        local = self.moment.astimezone()  # a naive time, read as this machine's local time
        return (f"{self.moment.isoformat()}Z (UTC) or {local.isoformat()} "
                f"(this machine's zone{', ' + local.tzname() if local.tzname() and local.tzname()[0].isalpha() else ''})")


def rfc3339(text: str) -> datetime:
    """A time a user typed, as RFC 3339 has it: with a zone, `Z` or an offset (review 9, R9-7:
    a time without one was read in the machine's zone, hours away on a machine outside UTC).
    Raises NoZone for a time without a zone, ValueError for what is no time at all."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        raise NoZone(moment)
    return moment
