"""HTTP plumbing shared by every route: errors in each surface's shape, JSON bodies, tokens and
RateLimit headers.

Three surfaces answer errors differently, as RunPod's do: REST v2 and the admin routes use RFC
9457 `application/problem+json` (§4.1), the job and worker API a small `{"error": ...}` object
(its real shape is undocumented, §5.4), and GraphQL an `errors` array (§2.1).
"""

from __future__ import annotations

import hmac
import json
import math
import re
import time
from http import HTTPStatus
from typing import Any

from starlette.requests import Request
from starlette.responses import Response


class ApiError(Exception):
    """An answer other than success. `errors` lists individual validation failures."""

    def __init__(self, status: int, detail: str, *, errors: list[str] | None = None, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


def title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def problem(status: int, detail: str, errors: list[str] | None = None, headers: dict[str, str] | None = None) -> Response:
    doc: dict[str, Any] = {"title": title(status), "status": status, "detail": detail}
    if errors:
        doc["errors"] = errors
    body = json.dumps(doc, ensure_ascii=False)
    return Response(body, status_code=status, headers=headers, media_type="application/problem+json")


def job_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response({"error": message}, status, headers)


def error_response(path: str, exc: ApiError) -> Response:
    """Render an ApiError in the shape of the surface the path belongs to."""
    if path.startswith("/ai/"):
        return job_error(exc.status, exc.detail, exc.headers)
    if path.startswith("/graphql"):
        return json_response({"errors": [{"message": exc.detail}]}, exc.status, exc.headers)
    return problem(exc.status, exc.detail, exc.errors, exc.headers)


SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
MAX_DEPTH = 100  # nesting every later step (validation, storage, responses) handles within Python's recursion limit


def parse_json_text(raw: bytes) -> Any:
    """Parse a request body as JSON text that every later step can store and send back.

    JSON on the wire is UTF-8 (RFC 8259), decoded strictly, so encoded surrogates are refused.
    Nesting is bounded (MAX_DEPTH), so no later recursive step runs out of stack.
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
        value = json.loads(text)
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


async def json_body(request: Request, *, limit: int | None = None, required: bool = True) -> Any:
    """The request body parsed as JSON; malformed JSON (or text that is not Unicode) is a 400
    as RunPod answers it."""
    raw = await request.body()
    if limit is not None and len(raw) > limit:
        raise ApiError(400, f"request body is {len(raw)} bytes; the limit is {limit} bytes")
    if not raw.strip():
        if required:
            raise ApiError(400, "request body is empty; send a JSON object")
        return None
    try:
        return parse_json_text(raw)
    except ValueError as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc}") from None


def presented_token(request: Request, *, allow_raw: bool, allow_query: bool = False) -> str | None:
    """The credential the caller sent: `Bearer X`, or the raw key where RunPod accepts it."""
    header = request.headers.get("authorization", "").strip()
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    if header and allow_raw:
        return header
    if allow_query:
        return request.query_params.get("api_key") or None
    return None


def token_matches(presented: str | None, *expected: str) -> bool:
    if not presented:
        return False
    return any(hmac.compare_digest(presented.encode(), e.encode()) for e in expected if e)


class RateWindows:
    """Counts requests in fixed minute/hour/day windows for the RateLimit headers of §4.1.

    The quotas are generous on purpose: the local provider never throttles by itself (fault
    rules do that), but clients still see real, moving numbers.
    """

    WINDOWS = (("minute", 60, 100_000), ("hour", 3600, 1_000_000), ("day", 86400, 10_000_000))

    def __init__(self) -> None:
        self.counts: dict[str, tuple[int, int]] = {}

    def hit(self) -> dict[str, str]:
        """Count one request and return the headers its response carries."""
        now = time.time()
        for name, width, _ in self.WINDOWS:
            window = int(now // width)
            start, used = self.counts.get(name, (window, 0))
            self.counts[name] = (window, used + 1 if start == window else 1)
        return self.headers(now)

    def headers(self, now: float | None = None) -> dict[str, str]:
        now = time.time() if now is None else now
        parts = []
        for name, width, quota in self.WINDOWS:
            window = int(now // width)
            start, used = self.counts.get(name, (window, 0))
            used = used if start == window else 0
            reset = math.ceil((window + 1) * width - now)
            parts.append(f'"{name}";r={max(quota - used, 0)};t={reset}')
        return {"RateLimit": ", ".join(parts), "RateLimit-Policy": self.policy()}

    def policy(self) -> str:
        return ", ".join(f'"{name}";q={quota};w={width}' for name, width, quota in self.WINDOWS)
