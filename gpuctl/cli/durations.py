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


def duration(value: str) -> float:
    """`seconds_of` for a click option: a value that is no duration is a usage error."""
    found = seconds_of(value)
    if found is None:
        raise click.BadParameter(f"{value!r} is not a duration such as 30s, 5m or 1h") from None
    return found
