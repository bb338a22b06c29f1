"""The Starlette application: one port, every surface.

- control plane (RunPod's api.runpod.io): `/v2/serverless...`, `/v2/templates...`,
  `/v2/network-volumes...`, `/v2/catalog/...`, `/v2/pods...`, `/graphql`;
- job and worker API (RunPod's api.runpod.ai/v2): under `/ai/v2/{endpoint_id}/...`, so
  `/v2/serverless` and `/v2/{endpoint_id}` never collide on one host;
- admin: `/_admin/...`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gpuctl.local import admin, catalog, routes_jobs, routes_openai, routes_pods, routes_resources, routes_serverless, routes_worker
from gpuctl.local.gate import Gate
from gpuctl.local.runtime import Local
from gpuctl.local.web import ApiError, error_response, title

AI = "/ai/v2/{endpoint_id}"
Handler = Callable[[Request], Awaitable[Response]]


def route(path: str, **handlers: Handler) -> Route:
    """One route per path with a handler per method, so a 405 lists every allowed method."""
    table = {method.upper(): handler for method, handler in handlers.items()}

    async def dispatch(request: Request) -> Response:
        return await table["GET" if request.method == "HEAD" else request.method](request)

    return Route(path, dispatch, methods=list(table))


async def graphql(request: Request) -> Response:
    """GraphQL is deprecated and rarely called: its modules load on the first request."""
    from gpuctl.local.graphql.route import graphql as handle

    return await handle(request)


def control_routes() -> list[Route]:
    s, r, p = routes_serverless, routes_resources, routes_pods
    return [
        route("/v2/serverless", get=s.list_endpoints, post=s.create_endpoint),
        route("/v2/serverless/{id}", get=s.get_endpoint, patch=s.update_endpoint, delete=s.delete_endpoint),
        route("/v2/serverless/{id}/workers", get=s.list_workers),
        route("/v2/serverless/{id}/releases", get=s.list_releases),
        route("/v2/serverless/{id}/workers/{workerId}/logs", get=s.worker_logs),
        route("/v2/templates", get=r.list_templates, post=r.create_template),
        route("/v2/templates/{id}", get=r.get_template, patch=r.update_template, delete=r.delete_template),
        route("/v2/network-volumes", get=r.list_volumes, post=r.create_volume),
        route("/v2/network-volumes/{id}", get=r.get_volume, patch=r.update_volume, delete=r.delete_volume),
        route("/v2/pods", get=p.list_pods, post=p.create_pod),
        route("/v2/pods/{id}", get=p.get_pod, delete=p.delete_pod),
        route("/v2/pods/{id}/logs", get=p.pod_logs),
        route("/v2/catalog/gpus", get=catalog.list_gpus),
        route("/v2/catalog/gpus/{id:path}", get=catalog.get_gpu),
        route("/v2/catalog/datacenters", get=catalog.list_data_centers),
        route("/v2/catalog/datacenters/{id}", get=catalog.get_data_center),
        route("/graphql", post=graphql),
    ]


def job_routes() -> list[Route]:
    j, w = routes_jobs, routes_worker
    return [
        route(f"{AI}/run", post=j.run), route(f"{AI}/runsync", post=j.runsync),
        route(f"{AI}/status/{{job_id}}", get=j.status, post=j.status),
        route(f"{AI}/stream/{{job_id}}", get=j.stream, post=j.stream),
        route(f"{AI}/cancel/{{job_id}}", post=j.cancel), route(f"{AI}/retry/{{job_id}}", post=j.retry),
        route(f"{AI}/purge-queue", post=j.purge_queue), route(f"{AI}/health", get=j.endpoint_health),
        route(f"{AI}/openai/v1/{{path:path}}", get=routes_openai.openai, post=routes_openai.openai),
        route(f"{AI}/job-take/{{worker_id}}", get=w.job_take), route(f"{AI}/job-take-batch/{{worker_id}}", get=w.job_take),
        route(f"{AI}/job-done/{{worker_id}}/{{job_id}}", post=w.job_done),
        route(f"{AI}/job-stream/{{worker_id}}/{{job_id}}", post=w.job_stream),
        route(f"{AI}/job-stop/{{worker_id}}", get=w.job_stop), route(f"{AI}/ping/{{worker_id}}", get=w.ping),
    ]


def admin_routes() -> list[Route]:
    a = admin
    return [
        route("/_admin/faults", get=a.get_faults, post=a.add_faults, delete=a.clear_faults),
        route("/_admin/requests", get=a.get_requests), route("/_admin/requests/reset", post=a.reset_requests),
        route("/_admin/reset", post=a.reset), route("/_admin/seed", post=a.seed), route("/_admin/status", get=a.status),
        route("/_admin/worker-key/{endpoint_id}", get=a.worker_key),
    ]


async def on_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(request.url.path, exc)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = {404: "resource not found", 405: "The requested method is not allowed for this path."}.get(exc.status_code, title(exc.status_code))
    return error_response(request.url.path, ApiError(exc.status_code, detail, headers=dict(exc.headers or {})))


async def on_crash(request: Request, exc: Exception) -> Response:
    logging.getLogger("gpuctl.local").exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(request.url.path, ApiError(500, f"internal error: {type(exc).__name__}"))


def build_app(local: Local, lifespan) -> Starlette:
    app = Starlette(
        routes=control_routes() + job_routes() + admin_routes(),
        middleware=[Middleware(Gate, local=local)],
        exception_handlers={ApiError: on_api_error, HTTPException: on_http_error, Exception: on_crash},
        lifespan=lifespan,
    )
    app.state.local = local
    return app
