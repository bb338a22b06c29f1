"""The one JSON reader of every route (REST, job API, worker protocol, GraphQL, admin): it
refuses, once, what no later step could store or send back, and what RunPod's own parser (Go's
encoding/json) refuses: NaN, Infinity and numbers beyond a 64-bit float (gpuctl.jsontext)."""

from __future__ import annotations

import json
import re
from typing import Any

from gpuctl.jsontext import loads

SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
MAX_DEPTH = 100  # nesting every later step (validation, storage, responses) handles within Python's recursion limit


def parse_json_text(raw: bytes) -> Any:
    """Parse a request body as JSON text that every later step can store and send back.

    JSON on the wire is UTF-8 (RFC 8259), decoded strictly, so encoded surrogates are refused.
    Nesting is bounded (MAX_DEPTH), so no later recursive step runs out of stack. NaN,
    Infinity and 1e999 are refused (NonFinite, a ValueError): JSON has no such numbers, and
    an answer echoing them would not be JSON either (review 9, R9-1).
    A `\\ud800` escape with no partner decodes to a lone surrogate that no UTF-8 writer (the
    response, SQLite, a log line) can encode, so it is refused here, once, for every route,
    rather than failing later as a 500. Raises ValueError saying what is wrong.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"it is not UTF-8 (byte {exc.start})") from None
    too_deep = f"it nests arrays and objects more than {MAX_DEPTH} deep"
    try:
        value = loads(text)
    except RecursionError:
        raise ValueError(too_deep) from None
    if text.count("[") + text.count("{") > MAX_DEPTH and depth(value) > MAX_DEPTH:
        raise ValueError(too_deep)
    if SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("it has a \\u escape of a lone UTF-16 surrogate (such as \\ud800), which is not a Unicode character") from None
    return value


def depth(value: Any) -> int:
    """How deeply arrays and objects nest in a parsed value, found without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is not None:
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in children)
    return deepest
