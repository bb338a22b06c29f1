"""The Starlette application: one port, every surface.

- control plane (RunPod's api.runpod.io): `/v2/serverless...`, `/v2/templates...`,
  `/v2/network-volumes...`, `/v2/catalog/...`, `/v2/pods...`, `/graphql`;
- job and worker API (RunPod's api.runpod.ai/v2): under `/ai/v2/{endpoint_id}/...`, so
  `/v2/serverless` and `/v2/{endpoint_id}` never collide on one host;
- admin: `/_admin/...`.
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gpuctl.local import admin, catalog, routes_jobs, routes_openai, routes_pods, routes_resources, routes_serverless, routes_worker
from gpuctl.local.gate import Gate
from gpuctl.local.graphql.route import graphql
from gpuctl.local.runtime import Local
from gpuctl.local.web import ApiError, error_response, title

GET, POST, PATCH, DELETE = ["GET"], ["POST"], ["PATCH"], ["DELETE"]
AI = "/ai/v2/{endpoint_id}"


def control_routes() -> list[Route]:
    s, r = routes_serverless, routes_resources
    return [
        Route("/v2/serverless", s.list_endpoints, methods=GET), Route("/v2/serverless", s.create_endpoint, methods=POST),
        Route("/v2/serverless/{id}", s.get_endpoint, methods=GET), Route("/v2/serverless/{id}", s.update_endpoint, methods=PATCH),
        Route("/v2/serverless/{id}", s.delete_endpoint, methods=DELETE),
        Route("/v2/serverless/{id}/workers", s.list_workers, methods=GET),
        Route("/v2/serverless/{id}/releases", s.list_releases, methods=GET),
        Route("/v2/serverless/{id}/workers/{workerId}/logs", s.worker_logs, methods=GET),
        Route("/v2/templates", r.list_templates, methods=GET), Route("/v2/templates", r.create_template, methods=POST),
        Route("/v2/templates/{id}", r.get_template, methods=GET), Route("/v2/templates/{id}", r.update_template, methods=PATCH),
        Route("/v2/templates/{id}", r.delete_template, methods=DELETE),
        Route("/v2/network-volumes", r.list_volumes, methods=GET), Route("/v2/network-volumes", r.create_volume, methods=POST),
        Route("/v2/network-volumes/{id}", r.get_volume, methods=GET), Route("/v2/network-volumes/{id}", r.update_volume, methods=PATCH),
        Route("/v2/network-volumes/{id}", r.delete_volume, methods=DELETE),
        Route("/v2/pods", routes_pods.list_pods, methods=GET), Route("/v2/pods", routes_pods.create_pod, methods=POST),
        Route("/v2/pods/{id}", routes_pods.get_pod, methods=GET), Route("/v2/pods/{id}", routes_pods.delete_pod, methods=DELETE),
        Route("/v2/catalog/gpus", catalog.list_gpus, methods=GET), Route("/v2/catalog/gpus/{id:path}", catalog.get_gpu, methods=GET),
        Route("/v2/catalog/datacenters", catalog.list_data_centers, methods=GET),
        Route("/v2/catalog/datacenters/{id}", catalog.get_data_center, methods=GET),
        Route("/graphql", graphql, methods=POST),
    ]


def job_routes() -> list[Route]:
    j, w = routes_jobs, routes_worker
    return [
        Route(f"{AI}/run", j.run, methods=POST), Route(f"{AI}/runsync", j.runsync, methods=POST),
        Route(f"{AI}/status/{{job_id}}", j.status, methods=["GET", "POST"]),
        Route(f"{AI}/stream/{{job_id}}", j.stream, methods=["GET", "POST"]),
        Route(f"{AI}/cancel/{{job_id}}", j.cancel, methods=POST), Route(f"{AI}/retry/{{job_id}}", j.retry, methods=POST),
        Route(f"{AI}/purge-queue", j.purge_queue, methods=POST), Route(f"{AI}/health", j.endpoint_health, methods=GET),
        Route(f"{AI}/openai/v1/{{path:path}}", routes_openai.openai, methods=["GET", "POST"]),
        Route(f"{AI}/job-take/{{worker_id}}", w.job_take, methods=GET),
        Route(f"{AI}/job-take-batch/{{worker_id}}", w.job_take, methods=GET),
        Route(f"{AI}/job-done/{{worker_id}}/{{job_id}}", w.job_done, methods=POST),
        Route(f"{AI}/job-stream/{{worker_id}}/{{job_id}}", w.job_stream, methods=POST),
        Route(f"{AI}/job-stop/{{worker_id}}", w.job_stop, methods=GET),
        Route(f"{AI}/ping/{{worker_id}}", w.ping, methods=GET),
    ]


def admin_routes() -> list[Route]:
    a = admin
    return [
        Route("/_admin/faults", a.get_faults, methods=GET), Route("/_admin/faults", a.add_faults, methods=POST),
        Route("/_admin/faults", a.clear_faults, methods=DELETE), Route("/_admin/requests", a.get_requests, methods=GET),
        Route("/_admin/requests/reset", a.reset_requests, methods=POST), Route("/_admin/reset", a.reset, methods=POST),
        Route("/_admin/seed", a.seed, methods=POST), Route("/_admin/status", a.status, methods=GET),
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
