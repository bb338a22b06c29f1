"""Durations typed on the command line: `30`, `30s`, `5m`, `1h`, `2d`. One reading for every
flag that takes one (--lock-timeout, --timeout, --since)."""

from __future__ import annotations

import click

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds_of(value: str) -> float | None:
    """The seconds `value` spells (a plain number is seconds), or None when it is no duration."""
    number, unit = (value[:-1], UNITS[value[-1]]) if value[-1:] in UNITS else (value, 1)
    if not number.replace(".", "", 1).isdigit():
        return None
    return float(number) * unit


ACCEPTS = "must be a duration such as 30s, 5m or 1h (a plain number is seconds)"


class Duration(click.ParamType):
    """An option that takes a duration; click converts it, so a bad value is reported with the
    option's name (usage.py asks `ACCEPTS` of this type)."""

    name = "duration"

    def convert(self, value, param, ctx) -> float:
        if isinstance(value, (int, float)):
            return float(value)
        found = seconds_of(str(value))
        if found is None:
            self.fail(ACCEPTS, param, ctx)
        return found


DURATION = Duration()
