"""Credentials as a request presents them, and the 401 each surface answers without one."""

from __future__ import annotations

import hmac

from starlette.requests import Request

from gpuctl.local.api.http import ApiError

ANONYMOUS = "gpuctl.anonymous"  # request scope key: a GraphQL request that presented no key at all


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


def unauthorized(path: str, request: Request) -> ApiError:
    missing = presented_token(request, allow_raw=True, allow_query=True) is None
    if path.startswith("/ai/"):
        return ApiError(401, "Unauthorized")
    if path.startswith("/graphql"):
        return ApiError(401, "Unauthorized request, please check your API key.")
    return ApiError(401, "missing bearer token" if missing else "invalid bearer token")
