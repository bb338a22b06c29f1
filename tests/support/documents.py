"""Key paths into a JSON document and copies of it with one value replaced: what the fuzz tests
of damaged files (snapshots, saved plans) walk."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any


def key_paths(node: Any, at: tuple = ()) -> Iterator[tuple]:
    """Every path in `node`, the document itself (`()`) first, then depth first."""
    yield at
    if isinstance(node, dict):
        for key, value in node.items():
            yield from key_paths(value, (*at, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from key_paths(value, (*at, i))


def replaced(doc: Any, path: tuple, value: Any) -> Any:
    """A deep copy of `doc` with `value` at `path` (`value` itself for the empty path)."""
    if not path:
        return value
    out = copy.deepcopy(doc)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out
