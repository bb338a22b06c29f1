"""How gpu writes a count in words: `1 field`, `2 fields`, never a noun with `(s)` for the reader to agree."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and the noun that agrees with it: `noun` for one, else `plural` (default noun + "s")."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
