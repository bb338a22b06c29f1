"""How gpu writes a count in words: `1 field`, `2 fields`, never a noun with `(s)` for the reader to agree."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and the noun that agrees with it: `noun` for one, else `plural` (default noun + "s")."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def in_seconds(value: float) -> str:
    """A duration as a flag took it: `2 s`, `0.5 s`, `900 s`. Never rounded to a whole second
    (a `--timeout 0.5` said "within 0 s"), nor written with an exponent."""
    text = f"{value:.3f}".rstrip("0").rstrip(".") if value >= 0.001 else f"{value:g}"
    return f"{text} s"
