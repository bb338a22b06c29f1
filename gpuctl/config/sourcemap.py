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


@dataclass
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
        try:
            return json.loads(token)
        except ValueError:
            return token[1:-1]
    if token[0] == "'":
        return token[1:-1].replace("\\'", "'")
    return token


def scan(text: str) -> SourceMap:
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def where(offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(line_starts, offset)
        return line, offset - line_starts[line - 1] + 1

    positions: dict[Path, tuple[int, int]] = {}
    duplicates: list[tuple[Path, int, int]] = []
    spans: dict[Path, Span] = {}
    stack: list[_Frame] = []

    def value_path() -> Path | None:
        if not stack:
            return ()
        top = stack[-1]
        return top.path + (top.key,) if top.is_object else top.path + (top.index,)

    for match in _TOKEN.finditer(text):
        kind, token = match.lastgroup, match.group()
        if kind in ("ws", "comment"):
            continue
        top = stack[-1] if stack else None
        if kind == "punct" and token in "{[":
            path = value_path()
            if top is not None and not top.is_object:
                positions.setdefault(path, where(match.start()))
            own_key = top.key_at if top is not None and top.is_object else None
            stack.append(_Frame(path=path, is_object=token == "{", start=match.start(), own_key=own_key))
        elif kind == "punct" and token in "}]":
            done = stack.pop()
            spans[done.path] = Span(done.own_key, done.start, match.end())
        elif kind == "punct" and token == ":":
            top.expecting_key = False
        elif kind == "punct" and token == ",":
            if top.is_object:
                top.expecting_key = True
            else:
                top.index += 1
        elif top is not None and top.is_object and top.expecting_key:
            top.key = _decode_key(token)
            top.key_at = match.start()
            line, col = where(match.start())
            if top.key in top.seen:
                duplicates.append((top.path + (top.key,), line, col))
            else:
                positions[top.path + (top.key,)] = (line, col)
                top.seen.add(top.key)
        elif top is not None and not top.is_object:
            positions.setdefault(value_path(), where(match.start()))
            spans[value_path()] = Span(None, match.start(), match.end())
        elif top is not None:
            spans[value_path()] = Span(top.key_at, match.start(), match.end())
        else:
            spans[()] = Span(None, match.start(), match.end())
    return SourceMap(positions, duplicates, spans)


def dotted(path: Path) -> str:
    """`("serverless", 1, "scaling")` -> `serverless[1].scaling`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
