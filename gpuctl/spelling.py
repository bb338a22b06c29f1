"""Did-you-mean suggestions for unknown keys, GPU types and data centers."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping

FAMILY_LIMIT = 4  # a "family" wider than this (e.g. just "NVIDIA") says nothing useful


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
    return f'did you mean "{_shown(guess)}"?' if guess else None


def _shown(name: str) -> str:
    """A suggestion as one line: the choices may be names from the account, which another
    tool may have written with a newline or an escape in them."""
    from gpuctl.safetext import one_line

    return one_line(name, 200)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _in_family(word: str, name: str) -> bool:
    """True when `name` starts with `word`, or each of word's words begins one of name's
    words, in order: "NVIDIA A100" and "a100" are of the family of "NVIDIA A100-SXM4-80GB"."""
    if name.lower().startswith(word.lower()):
        return True
    wanted, words = _words(word), iter(_words(name))
    return bool(wanted) and all(any(w.startswith(part) for w in words) for part in wanted)


def suggestions(word: str, names: Mapping[str, str]) -> list[str]:
    """What `word` may have meant, as values of `names` (a name people may write -> the
    value to suggest, e.g. a display name -> its id), best first and without repeats.

    An exact match in any case wins; then the family of names that start with the word or
    contain its words in order (so a model family suggests its members, not a look-alike of
    another family); then the closest spelling. A family of more than FAMILY_LIMIT members
    suggests nothing: the word is too broad for any one guess to be right."""
    exact = [value for name, value in names.items() if name.lower() == word.lower()]
    family = list(dict.fromkeys(value for name, value in names.items() if _in_family(word, name)))
    if exact or family:
        return list(dict.fromkeys(exact)) or (family if len(family) <= FAMILY_LIMIT else [])
    near = closest(word, list(names))
    return [names[near]] if near else []


def did_you_mean_one_of(word: str, names: Mapping[str, str]) -> str | None:
    """'did you mean "A"?', 'did you mean "A" or "B"?' or None, from `suggestions`."""
    found = [f'"{_shown(value)}"' for value in suggestions(word, names)]
    if not found:
        return None
    listed = found[0] if len(found) == 1 else f"{', '.join(found[:-1])} or {found[-1]}"
    return f"did you mean {listed}?"
