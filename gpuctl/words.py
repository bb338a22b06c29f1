"""How gpu writes counts and lists in words, the same way in every output (text, Markdown,
errors, notes). Here: a count and the noun or verb that agrees with it (`counted`, `agreeing`:
`1 field`, `2 fields`, `1 resource differs`), never a noun with `(s)` for the reader to agree
and never a hand-written `'s' if n != 1`; the first few of a long list and how many more
(`first_of`: `a, b, c and 4 more`); a short list as a sentence says it (`joined`: `a, b and
c`); a duration as a flag took it (`in_seconds`).

What does not belong here: the plan's own symbols and phrases (`+`, "will be created") are in
`gpuctl/render/words.py`; escaping for Markdown is `gpuctl/render/md.py`; control characters
and clipping for a terminal are `gpuctl/safetext.py`. This module is a leaf (`.importlinter`,
contract `leaves`): every layer may use it, so it imports nothing of gpuctl's."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")

_SIBILANT = re.compile(r"(s|x|z|ch|sh)$")
_CONSONANT_Y = re.compile(r"[^aeiou]y$")


def plural(noun: str) -> str:
    """English's regular plural of `noun` (of its last word): `field` → `fields`, `entry` →
    `entries`, `address` → `addresses`, `day` → `days`. An irregular one is passed to `counted`
    or `agreeing` as `many`."""
    if _CONSONANT_Y.search(noun):
        return noun[:-1] + "ies"
    if _SIBILANT.search(noun):
        return noun + "es"
    return noun + "s"


def agreeing(n: int, one: str, many: str | None = None) -> str:
    """The word that agrees with `n`: `one` for exactly 1, else `many` (by default `plural(one)`).
    For a verb or pronoun give both: `agreeing(n, "differs", "differ")`, `agreeing(n, "it", "them")`."""
    return one if n == 1 else many if many is not None else plural(one)


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and the noun that agrees with it: `1 field`, `0 fields`, `2 entries`; `plural` for an
    irregular one (`counted(n, "field differs", "fields differ")`)."""
    return f"{n} {agreeing(n, noun, plural)}"


def first_of(items: Sequence[T], n: int, sep: str = ", ", more: str = " and {} more", each: Callable[[T], str] = str) -> str:
    """The first `n` of `items`, each written by `each`, joined by `sep`, then `more` with the
    number left out: `a, b, c and 4 more`. All of them, with no `more`, when they are `n` or
    fewer: never "and 0 more". `more` is formatted with the count (`"- … and {} more in the
    JSON plan\\n"`); for lines give `sep=""` and an `each` that ends its line. Only the shown
    items are written, so a list of thousands costs what the first `n` do."""
    n = max(n, 0)
    return sep.join(each(i) for i in items[:n]) + (more.format(len(items) - n) if len(items) > n else "")


def joined(items: Sequence[str], n: int = 10) -> str:
    """`a`, `a and b`, `a, b and c`: a short list as a sentence says it; past `n` items, the
    first `n` and how many more (`first_of`)."""
    if len(items) > n or len(items) < 2:
        return first_of(items, n)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def in_seconds(value: float) -> str:
    """A duration as a flag took it: `2 s`, `0.5 s`, `900 s`. Never rounded to a whole second
    (a `--timeout 0.5` said "within 0 s"), nor written with an exponent."""
    text = f"{value:.3f}".rstrip("0").rstrip(".") if value >= 0.001 else f"{value:g}"
    return f"{text} s"
