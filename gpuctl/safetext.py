"""Strings from outside (the account, a file, an argument) made safe to show on a terminal
(or in a GitHub Actions log).

An endpoint created in the console or by another tool can be named with ESC or NUL in it;
printed as it is, such a name can recolour, rewrite or hide the lines around it. Everything
gpuctl prints for people goes through `printable`, which writes control characters as
escapes (`\\x1b`), the way the JSON output already does.

Under GitHub Actions the log is read by the runner too: `WorkflowCommandGuard` keeps a quoted
line from being a workflow command. It and `redact.Redacting` are `Wrapping` streams, which
rewrite what is written and leave everything else to the stream they wrap.
"""

from __future__ import annotations

import io
import re
from typing import TextIO

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


class Wrapping(io.TextIOBase):
    """A text stream that rewrites what is written and hands it to `inner`, which stays the
    terminal (or file) for everything else."""

    def __init__(self, inner: TextIO):
        self.inner = inner

    def flush(self) -> None:
        self.inner.flush()

    def isatty(self) -> bool:
        return self.inner.isatty()

    def fileno(self) -> int:
        return self.inner.fileno()


class WorkflowCommandGuard(Wrapping):
    """A text stream for GitHub Actions' log, where a line that starts with `::` (after leading
    whitespace) is a workflow command the runner obeys (`::error::`, `::add-mask::`,
    `::stop-commands::`, `::set-output`), and `##[` is the older form. gpuctl never writes a
    command, but its output quotes text from outside: a fork's config in the privileged fork
    plan, names and messages from the account. Such a line is written with a backslash first
    (`\\::error::`), and `##[` as `#\\#[`, so the log shows it and the runner ignores it. The start
    of a line is held back while it is only whitespace or one `:`, until it is known."""

    def __init__(self, inner: TextIO):
        super().__init__(inner)
        self._held = ""  # the start of the current line, not yet known to be harmless
        self._start = True  # the next character begins a line (or continues `_held`)

    def write(self, text: str) -> int:
        out = []
        for piece in re.split(r"(\n)", text.replace("##[", "#\\#[")):
            if piece == "\n":
                out.append(self._held + "\n")
                self._held, self._start = "", True
            elif piece and self._start:
                line = self._held + piece
                body = line.lstrip()
                if body in ("", ":"):
                    self._held = line
                    continue
                out.append(line[: len(line) - len(body)] + ("\\" if body.startswith("::") else "") + body)
                self._held, self._start = "", False
            elif piece:
                out.append(piece)
        self.inner.write("".join(out))
        return len(text)
