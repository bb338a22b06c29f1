"""Durations typed on the command line: `30`, `30s`, `5m`, `1h`, `2d`, and Go's compounds such as
`1h30m` (each unit once, largest first). One reading for every flag that takes one
(--lock-timeout, --timeout, --since)."""

from __future__ import annotations

import math
import re

import click

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# The longest wait any flag takes: time.sleep() and Event.wait() raise OverflowError past the
# platform's time_t (1e300 seconds is a finite float), and no wait of gpu's is meant to be longer.
MAX_SECONDS = 3650 * 86400


NUMBER = r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+"  # ASCII digits only: str.isdigit() is also true of "²" and "١"
PLAIN = re.compile(NUMBER)
COMPOUND = re.compile("".join(rf"(?:(?P<{u}>{NUMBER}){u})?" for u in "dhms"))


def seconds_of(value: str) -> float | None:
    """The seconds `value` spells (a plain number is seconds), or None when it is no duration."""
    if PLAIN.fullmatch(value):
        return float(value)
    parts = COMPOUND.fullmatch(value)
    if not value or parts is None:
        return None
    return sum(float(number) * UNITS[unit] for unit, number in parts.groupdict().items() if number is not None)


ACCEPTS = "must be a duration such as 30s, 5m, 1h or 1h30m (a plain number is seconds), of at most 3650d"
ACCEPTS_POSITIVE = "must be a duration of more than 0, such as 30s, 5m, 1h or 1h30m (a plain number is seconds), of at most 3650d"


class Duration(click.ParamType):
    """An option that takes a duration; click converts it, so a bad value is reported with the
    option's name (usage.py shows `accepts`, never the value typed). `positive`: 0 is refused
    too, with words that say so."""

    name = "duration"

    def __init__(self, positive: bool = False, minimum: float = 0.0):
        self.positive = positive
        self.minimum = minimum

    @property
    def accepts(self) -> str:
        if self.minimum:
            return f"must be a duration of at least {self.minimum:g}s, such as 2s, 30s or 1m (a plain number is seconds), of at most 3650d"
        return ACCEPTS_POSITIVE if self.positive else ACCEPTS

    def convert(self, value, param, ctx) -> float:
        found = float(value) if isinstance(value, (int, float)) else seconds_of(str(value))
        if (found is None or not math.isfinite(found) or found > MAX_SECONDS or (self.positive and found <= 0)
                or found < self.minimum):
            self.fail(self.accepts, param, ctx)
        return found


DURATION = Duration()
POSITIVE_DURATION = Duration(positive=True)
