"""Names that look like other names: a pull request can add an endpoint `аpi` (with a Cyrillic
`а`) beside the account's `api`, and a reviewer reads both as the same. The plan warns of a
gpu.jsonc name (an endpoint's, a volume's) that mixes scripts, and of one that looks like
another name in the plan or the account (an endpoint, a volume, a template) without being it.

Standard library only (`unicodedata`), and kept simple: a letter's script is the first word of
its Unicode name (LATIN, CYRILLIC, GREEK; Han, Hiragana and Katakana count as one, as Japanese
mixes them), and a name's look-alike form ("skeleton") is its NFKC form with the Cyrillic and
Greek letters that look like Latin ones replaced by those. An ASCII name mixes nothing and is
its own skeleton, so a plan of ASCII names costs a set lookup per name."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from gpuctl.model import Notice
from gpuctl.words import first_of

# Cyrillic and Greek letters drawn like Latin ones (a subset of Unicode's confusables.txt).
_LOOKS_LATIN = str.maketrans({
    "а": "a", "в": "B", "е": "e", "з": "3", "і": "i", "ј": "j", "к": "k", "м": "M", "н": "H", "о": "o", "р": "p", "с": "c", "т": "T",
    "у": "y", "х": "x", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ү": "y", "һ": "h", "ӏ": "l",
    "А": "A", "В": "B", "Е": "E", "З": "3", "І": "I", "Ј": "J", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
    "У": "Y", "Х": "X", "Ѕ": "S", "Ү": "Y", "Һ": "h", "Ӏ": "I",
    "α": "a", "ο": "o", "ν": "v", "ι": "i", "κ": "k", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "γ": "y",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
})
# Names read side by side: an endpoint's with the others' and with templates' (RunPod names an
# endpoint's template after it), a volume's with volumes'.
_GROUP = {"endpoint": "endpoint", "template": "endpoint", "network volume": "network volume"}
_ONE_SCRIPT = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "CJK": "CJK", "HALFWIDTH": "CJK"}  # Japanese mixes these


def _script(char: str) -> str | None:
    if not char.isalpha():
        return None  # digits, `-`, `_` and the like belong to every script
    word = unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]
    return _ONE_SCRIPT.get(word, word)


def scripts(name: str) -> list[str]:
    """The scripts of `name`'s letters, in the order they first occur."""
    if name.isascii():
        return ["LATIN"] if any(c.isalpha() for c in name) else []
    return list(dict.fromkeys(s for s in map(_script, name) if s))


def skeleton(name: str) -> str:
    """What `name` looks like: equal for `аpi` and `api`, and for `ａｐｉ` (full width) and `api`."""
    if name.isascii():
        return name
    return unicodedata.normalize("NFKC", name).translate(_LOOKS_LATIN)


def _letters(name: str) -> str:
    """Each letter of `name` outside ASCII by its code point, which shows what the eye does not:
    `а is U+0430 CYRILLIC SMALL LETTER A`."""
    seen = dict.fromkeys(c for c in name if not c.isascii() and c.isalpha())
    shown = [f"{c} is U+{ord(c):04X} {unicodedata.name(c, '?')}" for c in list(seen)[:3]]
    return "; ".join(shown) + ("; …" if len(seen) > 3 else "")


def lookalike_notices(names: Iterable[tuple[str, str, str]], others: Iterable[tuple[str, str]]) -> list[Notice]:
    """Warnings for gpu.jsonc's `names` ((kind, name, address): "endpoint", "api",
    "endpoint.api"): one that mixes scripts, and one that looks like another of them or like one
    of `others` ((kind, name) in the account) without being it."""
    names = list(names)
    if all(name.isascii() for _, name, _ in names):
        return []  # every name is its own skeleton and in one script: only a non-ASCII one can look like another
    names = list(dict.fromkeys(names))
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}  # (kind's group, skeleton) -> (what, name)
    for kind, name, _ in names:
        found.setdefault((_GROUP.get(kind, kind), skeleton(name)), []).append((f"{kind} in gpu.jsonc", name))
    for kind, name in others:
        key = (_GROUP.get(kind, kind), skeleton(name))
        if key in found:
            found[key].append((f"{kind} in the account", name))
    out = []
    for kind, name, address in names:
        key = (_GROUP.get(kind, kind), skeleton(name))
        if name.isascii() and len(found[key]) == 1:
            continue  # in one script, and nothing else looks like it
        written = scripts(name)
        if len(written) > 1:
            said = ", ".join(s.title() for s in written)
            out.append(Notice("mixed-script-name", f'{kind} name "{name}" mixes scripts ({said}): letters of one can look like another\'s '
                                                   f"({_letters(name)}); write it in one script, or make sure the reviewers meant it", address))
        alike = list(dict.fromkeys((what, other) for what, other in found[key] if other != name))
        if alike:
            listed = first_of([f'{what.split(" ", 1)[0]} "{other}" {what.split(" ", 1)[1]}' for what, other in alike], 3)
            letters = _letters(name) or _letters(alike[0][1])
            out.append(Notice("confusable-name", f'{kind} name "{name}" looks like {listed} but is another name ({letters}): '
                                                 "a reviewer may read them as one; rename it, or make sure the reviewers meant it", address))
    return out
