"""The Starlette application: one port, every surface, and the one place that builds the parts
and hands each the few others it needs.

- control plane (RunPod's api.runpod.io): `/v2/serverless...`, `/v2/templates...`,
  `/v2/network-volumes...`, `/v2/catalog/...`, `/v2/pods...`, `/graphql`;
- job and worker API (RunPod's api.runpod.ai/v2): under `/ai/v2/{endpoint_id}/...`, so
  `/v2/serverless` and `/v2/{endpoint_id}` never collide on one host;
- admin: `/_admin/...`.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gpuctl.local.api.admin import AdminRoutes
from gpuctl.local.api.catalog import CatalogRoutes
from gpuctl.local.api.graphql import GraphQLRoute
from gpuctl.local.api.http import ApiError, error_response, from_refusal, title
from gpuctl.local.api.jobs import JobRoutes
from gpuctl.local.api.openai import OpenAIRoutes
from gpuctl.local.api.pods import PodRoutes
from gpuctl.local.api.registries import RegistryRoutes
from gpuctl.local.api.resources import ResourceRoutes
from gpuctl.local.api.serverless import ServerlessRoutes
from gpuctl.local.api.worker import WorkerRoutes
from gpuctl.local.controlplane.endpoints import Endpoints
from gpuctl.local.controlplane.pods import Pods
from gpuctl.local.controlplane.registries import Registries
from gpuctl.local.controlplane.requests import RequestRules
from gpuctl.local.controlplane.templates import Templates
from gpuctl.local.controlplane.volumes import Volumes
from gpuctl.local.datadir.layout import DataDir
from gpuctl.local.errors import Refusal
from gpuctl.local.graphql.mutations import EndpointMutations
from gpuctl.local.graphql.resources import ResourceMutations
from gpuctl.local.graphql.service import GraphQL
from gpuctl.local.graphql.views import Views
from gpuctl.local.runtime.keys import WorkerKeys
from gpuctl.local.runtime.queue import JobQueue
from gpuctl.local.runtime.scheduler import Scheduler
from gpuctl.local.runtime.settings import Settings
from gpuctl.local.runtime.signals import Signals
from gpuctl.local.runtime.workerenv import WorkerEnv
from gpuctl.local.server.faults import FaultBook
from gpuctl.local.server.gate import Gate
from gpuctl.local.server.ratelimit import RateWindows, RequestLog
from gpuctl.local.store.db import Store
from gpuctl.local.store.reference import Catalog, openapi_path, state_dir


class LocalProvider:
    """Every part one server process runs, built before it serves: nothing is filled in later.
    The route classes get their services here; the process keeps this only to start and stop
    the scheduler."""

    def __init__(self, data_dir: DataDir, store: Store, token: str, base_url: str, settings: Settings):
        endpoint_base_url = f"{base_url}/ai/v2"
        self.data_dir, self.store, self.token, self.base_url, self.settings = data_dir, store, token, base_url, settings
        self.endpoint_base_url = endpoint_base_url
        self.signals, self.keys, self.rates, self.requests = Signals(), WorkerKeys(secrets.token_bytes(32)), RateWindows(), RequestLog()
        self.faults = FaultBook(self.rates, self.signals)
        catalog, rules = Catalog(state_dir()), RequestRules(openapi_path())
        env = WorkerEnv(data_dir, endpoint_base_url, settings.ping_interval_ms, self.keys)
        self.scheduler = Scheduler(store, catalog, self.signals, settings, env, data_dir)
        templates = Templates(store, rules)
        volumes = Volumes(store, catalog, rules, data_dir.volumes)
        endpoints = Endpoints(store, catalog, rules, templates, self.scheduler, base_url, endpoint_base_url)
        views = Views(store, catalog, self.scheduler.workers)
        graphql = GraphQL(store, catalog, views, EndpointMutations(store, catalog, views, endpoints, templates),
                          ResourceMutations(store, views, endpoints, templates, volumes))
        queue = JobQueue(store, self.scheduler, self.signals)
        self.route_tables: list[Any] = [
            ServerlessRoutes(endpoints, self.scheduler, self.faults),
            ResourceRoutes(templates, volumes, self.faults),
            RegistryRoutes(Registries(store, data_dir.registries), self.faults),
            PodRoutes(Pods(store, catalog, rules, templates, self.scheduler.workers), self.scheduler.workers, self.signals, self.faults),
            CatalogRoutes(catalog, self.faults),
            GraphQLRoute(graphql, self.faults),
            JobRoutes(queue, settings, self.faults), OpenAIRoutes(queue, settings), WorkerRoutes(store, self.scheduler, settings, self.faults),
            AdminRoutes(store, self.scheduler, endpoints, volumes, self.keys, self.faults, self.requests, data_dir, base_url),
        ]

    def routes(self) -> list[Route]:
        return [r for table in self.route_tables for r in table.routes()]

    def app(self, lifespan: Any) -> Starlette:
        return Starlette(
            routes=self.routes(),
            middleware=[Middleware(Gate, token=self.token, keys=self.keys, rates=self.rates, requests=self.requests)],
            exception_handlers={ApiError: on_api_error, Refusal: on_refusal, HTTPException: on_http_error, Exception: on_crash},
            lifespan=lifespan,
        )


async def on_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(request.url.path, exc)


async def on_refusal(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refusal)
    return error_response(request.url.path, from_refusal(exc))


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = {404: "resource not found", 405: "The requested method is not allowed for this path."}.get(exc.status_code, title(exc.status_code))
    return error_response(request.url.path, ApiError(exc.status_code, detail, headers=dict(exc.headers or {})))


async def on_crash(request: Request, exc: Exception) -> Response:
    logging.getLogger("gpuctl.local").exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(request.url.path, ApiError(500, f"internal error: {type(exc).__name__}"))
