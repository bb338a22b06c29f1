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

# Control characters, and the characters that show nothing or move what follows: Unicode's
# format characters (Cf: bidi embeddings, overrides and isolates, zero-width spaces and joiners,
# the soft hyphen, the byte order mark, tag characters), the line and paragraph separators, every
# space but the ASCII one (a no-break space makes "api\xa0" look like "api"), and the Hangul
# fillers, which are letters that draw nothing. A name with U+202E reverses the rest of its line
# as a reviewer reads it ("Trojan source"); one with U+200B looks like another endpoint's name.
# tests/test_safetext.py checks this list against unicodedata.
_UNSEEN = (
    "\xa0\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064"
    "\u2066-\u206f\u3000\u3164\ufeff\uffa0\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_CONTROL = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{_UNSEEN}]")


def _escape(char: str) -> str:
    n = ord(char)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


# Select Graphic Rendition and nothing else: ESC [ digits and semicolons m sets colours and
# weight. It cannot move the cursor, erase, set a title, make a link (OSC 8) or reach the
# clipboard (OSC 52); every other sequence, 8-bit CSI included, stays escaped.
_SGR = re.compile(r"\x1b\[[0-9;]{0,64}m")
RESET = "\x1b[0m"


def printable(text: str, keep_newlines: bool = True, keep_colours: bool = False) -> str:
    """`text` with every control character except newline and tab, and every character that
    shows nothing or reorders what follows, written as an escape (`\\x1b`, `\\u202e`).
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
    out = _CONTROL.sub(lambda m: _escape(m.group()), text)
    return out if keep_newlines else out.replace("\n", "\\n").replace("\t", "\\t")


def one_line(text: object, limit: int, quoted: bool = False) -> str:
    """A string from outside (a record in the account, an API's error message, a file anyone
    may edit) as it goes into one of gpuctl's own lines: at most `limit` characters, the cut
    marked (`redact.clip`), and every control character, newline and tab included, written as
    an escape. Kept whole, a lease holder of megabytes was printed whole, and a newline in it
    began a line of its own that read like gpuctl's (`error: ...`). `quoted` puts it in double
    quotes with its own `"` and `\\` escaped, so where it ends is plain (a bad id, `"a\\"b"`)."""
    from gpuctl.redact import clip

    cut = clip(str(text), limit)
    if quoted:
        return '"' + printable(cut.replace("\\", "\\\\").replace('"', '\\"'), keep_newlines=False) + '"'
    return printable(cut, keep_newlines=False)


def _json_escape(char: str) -> str:
    n = ord(char)
    if n < 0x10000:
        return f"\\u{n:04x}"
    n -= 0x10000
    return f"\\u{0xd800 + (n >> 10):04x}\\u{0xdc00 + (n & 0x3ff):04x}"  # JSON spells an astral character as a surrogate pair


def json_safe(text: str) -> str:
    """JSON text (written with ensure_ascii=False) with every character `printable` escapes
    written as a JSON `\\u` escape: the same document to every JSON reader, and nothing a
    terminal obeys or that reorders a line (a C1 CSI, U+202E) when it is printed. Such a
    character can only be inside a string: JSON's own syntax is ASCII.

    ASCII text has nothing to escape but DEL (json.dumps escapes the C0 controls itself), and
    `str.isascii` answers at memory speed, where the regex took 145 ms over 8 MB: a
    1,000-endpoint `deploy --plan --json` went from 1.79× the import floor with the scan to
    1.54× without it (bench/startup_and_plan.py, one run each).

    `##[`, the older form of a GitHub Actions workflow command, is written `#\\u0023[`: in
    Actions, `WorkflowCommandGuard` writes it `#\\#[` in any text, an escape JSON does not have,
    so a document naming an endpoint called `x##[error]` was no longer JSON there."""
    if "##[" in text:
        text = text.replace("##[", "#\\u0023[")
    if text.isascii() and "\x7f" not in text:
        return text
    return _CONTROL.sub(lambda m: _json_escape(m.group()), text)


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
