"""REST v2 `/v2/serverless`: list, create, get, sparse PATCH, delete, workers, releases and
the worker log stream (api-notes §4.2)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gpuctl.local.api.control import FaultPoint, body_of, control, visible_from
from gpuctl.local.api.http import json_response, no_content, route
from gpuctl.local.api.logstream import log_stream
from gpuctl.local.controlplane.endpoints import Endpoints, version
from gpuctl.local.runtime import logs
from gpuctl.local.runtime.scheduler import Scheduler
from gpuctl.local.runtime.supervisor import Supervisor, Worker
from gpuctl.local.store import ids

WORKER_STATES = ("RUNNING", "IDLE", "INITIALIZING", "THROTTLED", "UNHEALTHY")


def worker_view(worker: Worker, version: int, image: str | None) -> dict:
    return {
        "id": worker.id, "status": worker.status, "isStale": worker.version != version, "version": worker.version,
        "gpuCount": worker.placement["gpuCount"], "image": image, "uptimeSeconds": int(time.time() - worker.started_at),
        "gpuTypeId": worker.placement["gpu"], "dataCenterId": worker.placement["dc"], "startedAt": ids.timestamp(worker.started_at),
    }


@dataclass
class ServerlessRoutes:
    endpoints: Endpoints
    scheduler: Scheduler
    faults: FaultPoint

    @property
    def workers(self) -> Supervisor:
        return self.scheduler.workers

    def routes(self) -> list[Route]:
        return [
            route("/v2/serverless", get=self.list_endpoints, post=self.create_endpoint),
            route("/v2/serverless/{id}", get=self.get_endpoint, patch=self.update_endpoint, delete=self.delete_endpoint),
            route("/v2/serverless/{id}/workers", get=self.list_workers),
            route("/v2/serverless/{id}/releases", get=self.list_releases),
            route("/v2/serverless/{id}/workers/{workerId}/logs", get=self.worker_logs),
        ]

    @control("list", "endpoint")
    async def list_endpoints(self, request: Request) -> Response:
        return Response(self.endpoints.listing_json(), media_type="application/json")

    @control("create", "endpoint")
    async def create_endpoint(self, request: Request) -> Response:
        body = await body_of(request)
        return json_response(self.endpoints.create(body, visible_from(request, time.time())), 201)

    @control("get", "endpoint")
    async def get_endpoint(self, request: Request) -> Response:
        doc, _ = self.endpoints.get(request.path_params["id"])
        return json_response(self.endpoints.render(doc))

    @control("update", "endpoint")
    async def update_endpoint(self, request: Request) -> Response:
        self.endpoints.get(request.path_params["id"])  # a missing endpoint is a 404 whatever the body
        return json_response(self.endpoints.update(request.path_params["id"], await body_of(request)))

    @control("delete", "endpoint")
    async def delete_endpoint(self, request: Request) -> Response:
        self.endpoints.delete(request.path_params["id"])
        return no_content()

    @control("get", "endpoint")
    async def list_workers(self, request: Request) -> Response:
        doc, extra = self.endpoints.get(request.path_params["id"])
        current = version(extra)
        workers = [worker_view(w, current, doc.get("image")) for w in self.workers.live(doc["id"])]
        summary = {s.lower(): sum(1 for w in workers if w["status"] == s) for s in WORKER_STATES} | {"total": len(workers)}
        return json_response({"endpointVersion": current, "summary": summary, "workers": workers})

    @control("get", "endpoint")
    async def list_releases(self, request: Request) -> Response:
        doc, extra = self.endpoints.get(request.path_params["id"])
        current = version(extra)
        live = self.workers.live(doc["id"])
        on_latest = sum(1 for w in live if w.version == current)
        releases = [
            {"id": r["id"], "version": r["version"], "source": "MANUAL", "buildId": None, "createdByUserId": "user_local",
             "workerCount": sum(1 for w in live if w.version == r["version"]), "createdAt": r["createdAt"], "diff": r["diff"]}
            for r in self.endpoints.releases(doc["id"])
        ]
        rollout = {"inProgress": on_latest < len(live), "workersOnLatest": on_latest, "workersTotal": len(live),
                   "percentOnLatest": (100 * on_latest // len(live)) if live else 0}
        return json_response({"endpointVersion": current, "rollout": rollout, "releases": releases})

    @control("get", "endpoint")
    async def worker_logs(self, request: Request) -> Response:
        doc, _ = self.endpoints.get(request.path_params["id"])
        worker_id = request.path_params["workerId"]
        path = logs.worker_log_path(self.workers.data_dir.logs, doc["id"], worker_id)
        return log_stream(request, self.scheduler.signals, path, worker_id, lambda: worker_id in self.workers.workers)
