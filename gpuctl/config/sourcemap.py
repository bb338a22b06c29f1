"""Positions of keys in a JSONC document, for `file:line:col` diagnostics and text edits.

pyjson5 parses the document (fast, with good syntax errors) but keeps no positions and lets a
repeated key silently win. This scanner walks the already-valid text once with one regular
expression and records, for every key path, where its key starts, every key that is repeated
inside one object, and the character span of every value (what `gpuctl.config.edit` rewrites
in place, so the comments and layout around it are kept).
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field

Path = tuple[str | int, ...]

_TOKEN = re.compile(
    r"""
    (?P<ws>[\s\ufeff]+)
  | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<punct>[{}\[\]:,])
  | (?P<lit>[^\s{}\[\]:,"'/]+|/)
    """,
    re.S | re.X,
)


# What `scan` reads: one significant token, after any whitespace and comments (folded into the
# same match, so each match is one token the scanner acts on); the empty token is the end of the
# text, so matches follow each other and a search never restarts inside a comment.
_NEXT = re.compile(
    r"""(?:[\s\ufeff]+|//[^\n]*|/\*.*?\*/)*+  # possessive: a comment is never given back as a "/"
    ("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[{}\[\]:,]|[^\s{}\[\]:,"'/]+|/|\Z)""",
    re.S | re.X,
)


@dataclass(slots=True)
class _Frame:
    path: Path
    is_object: bool
    start: int = 0  # offset of the opening bracket
    own_key: int | None = None  # offset of the key this object or list is the value of
    index: int = 0
    expecting_key: bool = True
    key: str | None = None
    key_at: int | None = None  # offset of the member key being read
    seen: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Span:
    """Where one value is in the text, as character offsets: `key` is where its member key
    starts (None for list items and the top-level value), `start`/`end` delimit the value
    itself (brackets included for objects and lists)."""

    key: int | None
    start: int
    end: int


@dataclass
class SourceMap:
    """Key path -> (line, col), both 1-based, plus repeated keys and value spans."""

    positions: dict[Path, tuple[int, int]]
    duplicates: list[tuple[Path, int, int]]
    spans: dict[Path, Span] = field(default_factory=dict)  # value path -> its span (the last of a repeated key)

    def locate(self, path: Path) -> tuple[int, int]:
        """Position of `path`, or of its nearest ancestor that exists in the file."""
        for end in range(len(path), 0, -1):
            found = self.positions.get(tuple(path[:end]))
            if found:
                return found
        return (1, 1)


def _decode_key(token: str) -> str:
    if token[0] == '"':
        if "\\" not in token:
            return token[1:-1]
        try:
            return json.loads(token)
        except ValueError:
            return token[1:-1]
    if token[0] == "'":
        return token[1:-1].replace("\\'", "'")
    return token


class _Scanner:
    """One pass over the tokens of valid JSONC, keeping a stack of the open objects and lists."""

    def __init__(self, text: str):
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.positions: dict[Path, tuple[int, int]] = {}
        self.duplicates: list[tuple[Path, int, int]] = []
        self.spans: dict[Path, Span] = {}
        self.stack: list[_Frame] = []

    def where(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1] + 1

    def open(self, top: _Frame | None, is_object: bool, at: int) -> None:
        if top is None:
            path: Path = ()
        elif top.is_object:
            path = (*top.path, top.key)
        else:
            path = (*top.path, top.index)
            self.positions.setdefault(path, self.where(at))
        own_key = top.key_at if top is not None and top.is_object else None
        self.stack.append(_Frame(path, is_object, at, own_key))

    def close(self, end: int) -> None:
        done = self.stack.pop()
        self.spans[done.path] = Span(done.own_key, done.start, end)

    def key(self, top: _Frame, token: str, at: int) -> None:
        key = top.key = _decode_key(token)
        top.key_at = at
        path = (*top.path, key)
        if key in top.seen:
            self.duplicates.append((path, *self.where(at)))
        else:
            self.positions[path] = self.where(at)
            top.seen.add(key)

    def value(self, top: _Frame | None, at: int, end: int) -> None:
        if top is None:
            self.spans[()] = Span(None, at, end)
        elif top.is_object:
            self.spans[(*top.path, top.key)] = Span(top.key_at, at, end)
        else:
            path = (*top.path, top.index)
            self.positions.setdefault(path, self.where(at))
            self.spans[path] = Span(None, at, end)


def scan(text: str) -> SourceMap:
    """The source map of `text`, which pyjson5 has already accepted."""
    s = _Scanner(text)
    stack = s.stack
    for match in _NEXT.finditer(text):
        token = match.group(1)
        if not token:
            break
        at, c = match.start(1), token[0]
        top = stack[-1] if stack else None
        if c == "{" or c == "[":
            s.open(top, c == "{", at)
        elif c == "}" or c == "]":
            s.close(match.end())
        elif c == ":":
            top.expecting_key = False
        elif c == ",":
            if top.is_object:
                top.expecting_key = True
            else:
                top.index += 1
        elif top is not None and top.is_object and top.expecting_key:
            s.key(top, token, at)
        else:
            s.value(top, at, match.end())
    return SourceMap(s.positions, s.duplicates, s.spans)


def dotted(path: Path) -> str:
    """`("serverless", 1, "scaling")` -> `serverless[1].scaling`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
