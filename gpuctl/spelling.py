"""Did-you-mean suggestions for unknown keys, GPU types and data centers."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The choice closest to `word`, compared case-insensitively, or None."""
    options = list(choices)
    by_lower = {c.lower(): c for c in options}
    if word.lower() in by_lower:
        return by_lower[word.lower()]
    match = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=cutoff)
    if match:
        return by_lower[match[0]]
    contained = [c for c in options if word.lower() in c.lower()]
    return contained[0] if len(contained) == 1 else None


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    guess = closest(word, choices)
    return f'did you mean "{guess}"?' if guess else None
