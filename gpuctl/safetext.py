"""Strings from outside (the account, a file, an argument) made safe to show on a terminal.

An endpoint created in the console or by another tool can be named with ESC or NUL in it;
printed as it is, such a name can recolour, rewrite or hide the lines around it. Everything
gpuctl prints for people goes through `printable`, which writes control characters as
escapes (`\\x1b`), the way the JSON output already does.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str, keep_newlines: bool = True) -> str:
    """`text` with every control character except newline and tab written as an escape."""
    out = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return out if keep_newlines else out.replace("\n", "\\n").replace("\t", "\\t")
