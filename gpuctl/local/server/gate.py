"""The ASGI layer every request passes: authentication, RateLimit headers on /v2 responses,
the request log and the write counter.

Who may call what: the control plane (`/v2/...`, `/graphql`) and the admin routes want
`Authorization: Bearer <token>` (GraphQL also takes `?api_key=`, as RunPod's does, and answers
its public catalog queries `gpuTypes` and `dataCenters` to a request with no key at all); the
job API also takes the raw token (RunPod's docs show both); the worker protocol of an endpoint
takes only the `RUNPOD_AI_API_KEY` issued to that endpoint's workers (`WorkerKeys`), so
one endpoint's worker can never take, finish or stop another endpoint's jobs. The token is
never logged: the request log keeps the path without its query string.
"""

from __future__ import annotations

import re
import time
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gpuctl.local.api.auth import ANONYMOUS, presented_token, token_matches, unauthorized
from gpuctl.local.api.control import HELD
from gpuctl.local.api.http import WRITE, error_response
from gpuctl.local.runtime.keys import WorkerKeys
from gpuctl.local.server.ratelimit import RateWindows, RequestLog

WORKER_ROUTE = re.compile(r"^/ai/v2/(?P<endpoint>[^/]+)/(job-take|job-take-batch|job-done|job-stream|job-stop|ping)/")
WRITE_PREFIXES = ("/v2/serverless", "/v2/templates", "/v2/network-volumes", "/v2/pods")
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


def is_write(method: str, path: str) -> bool:
    return method in WRITE_METHODS and path.startswith(WRITE_PREFIXES)


def anonymous_graphql(request: Request) -> bool:
    """A GraphQL request with no key at all: the route answers it only for public queries."""
    return request.url.path == "/graphql" and presented_token(request, allow_raw=True, allow_query=True) is None


class Gate:
    def __init__(self, app: ASGIApp, token: str, keys: WorkerKeys, rates: RateWindows, requests: RequestLog):
        self.app = app
        self.token = token
        self.keys = keys
        self.rates = rates
        self.requests = requests

    def authorized(self, request: Request) -> bool:
        path = request.url.path
        worker = WORKER_ROUTE.match(path)
        if worker:
            return token_matches(presented_token(request, allow_raw=True), self.keys.key(worker["endpoint"]))
        if path.startswith("/ai/"):
            return token_matches(presented_token(request, allow_raw=True), self.token)
        return token_matches(presented_token(request, allow_raw=False, allow_query=path.startswith("/graphql")), self.token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        rate = self.rates.hit() if path.startswith("/v2/") else None
        arrived = time.time()  # logged at arrival, so tests can check when a client sent it
        seen: dict[str, Any] = {"status": 500}

        async def tracked(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                if rate is not None:
                    present = {k.lower() for k, _ in message.get("headers", [])}
                    extra = [(k.encode(), v.encode()) for k, v in rate.items() if k.lower().encode() not in present]
                    message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        try:
            request = Request(scope, receive)
            if self.authorized(request):
                await self.app(scope, receive, tracked)
            elif anonymous_graphql(request):
                scope[ANONYMOUS] = True
                await self.app(scope, receive, tracked)
            else:
                await error_response(path, unauthorized(path, request))(scope, receive, tracked)
        finally:
            if not path.startswith("/_admin"):
                write = is_write(method, path) or bool(scope.get(WRITE))
                self.requests.record(method, path, seen["status"], arrived, write, held=bool(scope.get(HELD)))
