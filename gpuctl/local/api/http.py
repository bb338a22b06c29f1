"""HTTP plumbing shared by every route: errors in each surface's shape, JSON bodies, and the
route table helper.

Three surfaces answer errors differently, as RunPod's do: REST v2 and the admin routes use RFC
9457 `application/problem+json` (§4.1), the job and worker API a small `{"error": ...}` object
(its real shape is undocumented, §5.4), and GraphQL an `errors` array (§2.1). The control plane
and the runtime raise `gpuctl.local.errors`; `from_refusal` gives each its status.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from gpuctl.jsontext import NonFinite, dumps
from gpuctl.local.api.jsontext import parse_json_text
from gpuctl.local.errors import Invalid, NotFound, Refusal, Rejected

Handler = Callable[[Request], Awaitable[Response]]
WRITE = "gpuctl.write"  # request scope key: a GraphQL mutation, counted as a write by the request log
STATUS = {NotFound: 404, Rejected: 400, Invalid: 422}


class ApiError(Exception):
    """An answer other than success. `errors` lists individual validation failures."""

    def __init__(self, status: int, detail: str, *, errors: list[str] | None = None, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


def from_refusal(exc: Refusal) -> ApiError:
    status = next(code for kind, code in STATUS.items() if isinstance(exc, kind))
    return ApiError(status, exc.message, errors=getattr(exc, "errors", None))


def title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None, media_type: str = "application/json") -> Response:
    """`data` as RFC 8259 JSON (gpuctl.jsontext.dumps): a non-finite float, which no request
    can bring in any more but an older state.db may hold, is null."""
    body = dumps(data, separators=(",", ":"), ensure_ascii=False)
    return Response(body, status_code=status, headers=headers, media_type=media_type)


def no_content() -> Response:
    return Response(status_code=204)


def problem(status: int, detail: str, errors: list[str] | None = None, headers: dict[str, str] | None = None) -> Response:
    doc: dict[str, Any] = {"title": title(status), "status": status, "detail": detail}
    if errors:
        doc["errors"] = errors
    return json_response(doc, status, headers, media_type="application/problem+json")


def error_response(path: str, exc: ApiError) -> Response:
    """Render an ApiError in the shape of the surface the path belongs to."""
    if path.startswith("/ai/"):
        return json_response({"error": exc.detail}, exc.status, exc.headers)
    if path.startswith("/graphql"):
        return json_response({"errors": [{"message": exc.detail}]}, exc.status, exc.headers)
    return problem(exc.status, exc.detail, exc.errors, exc.headers)


MB = 1024 * 1024
MAX_BODY = 64 * MB  # any route without its own limit: 3x RunPod's largest documented payload (/runsync, 20 MB)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, read no further than `limit` bytes: a declared Content-Length over it
    is refused before a byte is read, and a body that turns out longer is refused as soon as it
    passes the limit, so no request can make the server hold more than `limit` bytes of it
    (a 600 MB body to `/v2/serverless` held 1.2 GB before). A second read (a `hang` fault reads
    the body before the route does) gets the same bytes, kept in `request.state`, under the
    same limit."""
    too_large = ApiError(413, f"request body is larger than {limit} bytes, the most this route accepts")
    kept = getattr(request.state, "body", None)
    if kept is not None:
        if len(kept) > limit:
            raise too_large
        return kept
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, total = [], 0
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if total > limit:
                raise too_large
            chunks.append(chunk)
    except ClientDisconnect:  # the client left, or sent too slowly (server/connections.py): no one reads the answer
        raise ApiError(408, "the connection closed before the request body arrived") from None
    request.state.body = b"".join(chunks)
    return request.state.body


async def json_body(request: Request, *, limit: int = MAX_BODY, required: bool = True) -> Any:
    """The request body parsed as JSON, at most `limit` bytes of it (a 413 beyond); malformed
    JSON (or text that is not Unicode) is a 400 as RunPod answers it."""
    raw = await read_body(request, limit)
    if not raw.strip():
        if required:
            raise ApiError(400, "request body is empty; send a JSON object")
        return None
    try:
        return parse_json_text(raw)
    except NonFinite as exc:  # kept as the cause: the worker protocol fails the job it answers (api/worker.py)
        raise ApiError(400, f"request body is not valid JSON: {exc}") from exc
    except ValueError as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc}") from None


def route(path: str, **handlers: Handler) -> Route:
    """One route per path with a handler per method, so a 405 lists every allowed method."""
    table = {method.upper(): handler for method, handler in handlers.items()}

    async def dispatch(request: Request) -> Response:
        return await table["GET" if request.method == "HEAD" else request.method](request)

    return Route(path, dispatch, methods=list(table))
