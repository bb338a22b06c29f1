"""Positions of keys in a JSONC document, for `file:line:col` diagnostics.

pyjson5 parses the document (fast, with good syntax errors) but keeps no positions and lets a
repeated key silently win. This scanner walks the already-valid text once with one regular
expression and records, for every key path, where its key starts, and every key that is
repeated inside one object.
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
    index: int = 0
    expecting_key: bool = True
    key: str | None = None
    seen: set[str] = field(default_factory=set)


@dataclass
class SourceMap:
    """Key path -> (line, col), both 1-based, plus repeated keys."""

    positions: dict[Path, tuple[int, int]]
    duplicates: list[tuple[Path, int, int]]

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
            stack.append(_Frame(path=path, is_object=token == "{"))
        elif kind == "punct" and token in "}]":
            stack.pop()
        elif kind == "punct" and token == ":":
            top.expecting_key = False
        elif kind == "punct" and token == ",":
            if top.is_object:
                top.expecting_key = True
            else:
                top.index += 1
        elif top is not None and top.is_object and top.expecting_key:
            top.key = _decode_key(token)
            line, col = where(match.start())
            if top.key in top.seen:
                duplicates.append((top.path + (top.key,), line, col))
            else:
                positions[top.path + (top.key,)] = (line, col)
                top.seen.add(top.key)
        elif top is not None and not top.is_object:
            positions.setdefault(value_path(), where(match.start()))
    return SourceMap(positions, duplicates)


def dotted(path: Path) -> str:
    """`("serverless", 1, "scaling")` -> `serverless[1].scaling`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
