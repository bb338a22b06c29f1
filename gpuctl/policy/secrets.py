"""What looks like a credential: an env key by its name (`*_TOKEN`, `*_KEY`, `*PASSWORD*`,
`*SECRET*`, ...: `gpuctl.redact.credential_key`, which also decides what the CLI masks), a URL
with a password (`redact.url_passwords`), and a literal value by its shape (a long
random-looking token). Names decide the rule that fails a plan; shapes only
warn, because no test of randomness is certain."""

from __future__ import annotations

import re
from collections import Counter
from math import log2

_TOKEN = re.compile(r"[A-Za-z0-9+/=_]{20,}")  # a base64, base62 or hex run; '-', '.', ':' and '@' split words, URLs and repo ids
_HEX = re.compile(r"[0-9a-fA-F]{32,}")


def looks_generated(value: str) -> bool:
    """A run of 20+ token characters that is random-looking: hex of 32+ digits with entropy of
    3 bits a character or more, or a mix of letters and digits with 4 bits or more that changes
    between upper case, lower case and digits at least every 2.5 characters. Words joined by
    '_' or '/' (MY_SETTING_2024, a model id) change class too rarely; a UUID splits at '-'."""
    return any(_random(run) for run in _TOKEN.findall(value))


def _random(run: str) -> bool:
    if _HEX.fullmatch(run):
        return _entropy(run) >= 3.0
    has_letters, has_digits = any(c.isalpha() for c in run), any(c.isdigit() for c in run)
    return has_letters and has_digits and _entropy(run) >= 4.0 and _changes(run) >= 0.4


def _entropy(text: str) -> float:
    n = len(text)
    return -sum(k / n * log2(k / n) for k in Counter(text).values())


def _changes(text: str) -> float:
    """How often neighbouring characters differ in class (upper, lower, digit, other), 0..1."""
    kind = lambda c: 0 if c.isupper() else 1 if c.islower() else 2 if c.isdigit() else 3  # noqa: E731
    return sum(kind(a) != kind(b) for a, b in zip(text, text[1:])) / (len(text) - 1)
