"""Strings from outside (the account, a file, an argument) made safe to show on a terminal.

An endpoint created in the console or by another tool can be named with ESC or NUL in it;
printed as it is, such a name can recolour, rewrite or hide the lines around it. Everything
gpuctl prints for people goes through `printable`, which writes control characters as
escapes (`\\x1b`), the way the JSON output already does.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Select Graphic Rendition and nothing else: ESC [ digits and semicolons m sets colours and
# weight. It cannot move the cursor, erase, set a title, make a link (OSC 8) or reach the
# clipboard (OSC 52); every other sequence, 8-bit CSI included, stays escaped.
_SGR = re.compile(r"\x1b\[[0-9;]{0,64}m")
RESET = "\x1b[0m"


def printable(text: str, keep_newlines: bool = True, keep_colours: bool = False) -> str:
    """`text` with every control character except newline and tab written as an escape.
    `keep_colours` keeps SGR colour sequences as they are (what a terminal user of `logs`
    expects) and ends a text that has any with a reset, so they never colour what follows."""
    if keep_colours and "\x1b[" in text:
        parts = _SGR.split(text)
        if len(parts) > 1:
            colours = _SGR.findall(text)
            pieces = [printable(parts[0], keep_newlines)]
            for colour, part in zip(colours, parts[1:], strict=True):
                pieces += [colour, printable(part, keep_newlines)]
            return "".join(pieces) + RESET
    out = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return out if keep_newlines else out.replace("\n", "\\n").replace("\t", "\\t")
