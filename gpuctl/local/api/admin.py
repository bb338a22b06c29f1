"""Admin routes under `/_admin/`, for the token holder only: fault rules, the request log with
its write counter, reset, status, an endpoint's worker key, and seeding an account from a
snapshot-shaped document.

Seeding inserts RunPod v2 objects verbatim with their ids, so a test can set up an account
(including endpoints owned by another project) without going through the create rules.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gpuctl.local.api.http import ApiError, json_body, json_response, route
from gpuctl.local.controlplane.endpoints import Endpoints
from gpuctl.local.controlplane.volumes import Volumes
from gpuctl.local.datadir.layout import DataDir
from gpuctl.local.runtime.keys import WorkerKeys
from gpuctl.local.runtime.scheduler import Scheduler
from gpuctl.local.store import ids
from gpuctl.local.store.db import Store

SETTLE_S = 30.0  # how long clearing the rules waits for the requests they held to be answered and logged
SEED_KEYS = {"endpoints": "endpoint", "networkVolumes": "network_volume", "templates": "template"}


class FaultRules(Protocol):
    held: int

    def load(self, doc: Any) -> None: ...

    def clear(self) -> None: ...

    def describe(self) -> dict[str, Any]: ...


class RequestHistory(Protocol):
    entries: Iterable[dict[str, Any]]
    writes: int
    held: int

    def reset(self) -> None: ...


@dataclass
class AdminRoutes:
    store: Store
    scheduler: Scheduler
    endpoints: Endpoints
    volumes: Volumes
    keys: WorkerKeys
    faults: FaultRules
    requests: RequestHistory
    data_dir: DataDir
    base_url: str

    def routes(self) -> list[Route]:
        return [
            route("/_admin/faults", get=self.get_faults, post=self.add_faults, delete=self.clear_faults),
            route("/_admin/requests", get=self.get_requests), route("/_admin/requests/reset", post=self.reset_requests),
            route("/_admin/reset", post=self.reset), route("/_admin/seed", post=self.seed), route("/_admin/status", get=self.status),
            route("/_admin/worker-key/{endpoint_id}", get=self.worker_key),
        ]

    async def get_faults(self, request: Request) -> Response:
        return json_response(self.faults.describe())

    async def add_faults(self, request: Request) -> Response:
        self.faults.load(await json_body(request))
        return json_response(self.faults.describe())

    async def clear_faults(self, request: Request) -> Response:
        """Remove every rule: what they hold is let go, requests a hang holds and objects a
        `delay_visibility` hides alike, so a test holds either for as long as it needs."""
        self.faults.clear()
        self.store.reveal()
        await self._settled()
        return json_response(self.faults.describe())

    async def _settled(self) -> None:
        """Wait (at most SETTLE_S) until every request a hang held, which clearing let go, has
        been answered and is in the request log: what a test reads of the log once the rules are
        cleared then has them, however loaded the machine (a PATCH let go was read as never
        sent). A request a rule fired on whose hang has not begun (its body not sent yet) is
        not waited for: it may never come. One still running past SETTLE_S is left to finish."""
        deadline = time.monotonic() + SETTLE_S
        while self.requests.held < self.faults.held and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    async def get_requests(self, request: Request) -> Response:
        return json_response({"requests": list(self.requests.entries), "writes": self.requests.writes})

    async def reset_requests(self, request: Request) -> Response:
        self.requests.reset()
        return json_response({"requests": [], "writes": 0})

    async def status(self, request: Request) -> Response:
        return json_response({
            "running": True, "pid": os.getpid(), "url": self.base_url, "endpoints": self.store.count("endpoint"),
            "workers": len(self.scheduler.workers.workers), "data_dir": str(self.data_dir.root),
        })

    async def worker_key(self, request: Request) -> Response:
        """The key an outside worker (one this server did not start) sends to serve an endpoint:
        the same `RUNPOD_AI_API_KEY` the server hands that endpoint's own workers."""
        endpoint_id = request.path_params["endpoint_id"]
        if self.store.get("endpoint", endpoint_id, hidden=True) is None:
            raise ApiError(404, f"endpoint {endpoint_id} not found")
        return json_response({"endpointId": endpoint_id, "key": self.keys.key(endpoint_id)})

    async def reset(self, request: Request) -> Response:
        """Empty the state: workers stopped, every object and job deleted, volumes and logs
        removed, fault rules and the request log cleared. The token stays."""
        await self.scheduler.workers.stop_all("local provider reset")
        self.store.wipe()
        for directory in (self.data_dir.volumes, self.data_dir.logs, self.data_dir.homes, self.data_dir.registries):
            shutil.rmtree(directory, ignore_errors=True)
        self.faults.clear()
        self.requests.reset()
        return json_response({"reset": True})

    async def seed(self, request: Request) -> Response:
        body = await json_body(request)
        if not isinstance(body, dict) or set(body) - set(SEED_KEYS):
            raise ApiError(422, 'send {"endpoints": [...], "networkVolumes": [...], "templates": [...]} of RunPod v2 objects')
        for key, items in body.items():
            if not isinstance(items, list) or not all(isinstance(i, dict) and ids.is_id(i.get("id")) for i in items):
                raise ApiError(422, f"{key} must be a list of objects with an id of RunPod's shape ({ids.ID_SHAPE_TEXT})")
        with self.store.transaction():
            for volume in body.get("networkVolumes", []):
                self.volumes.seed(volume)
            for template in body.get("templates", []):
                self.store.put("template", template)
            for endpoint in body.get("endpoints", []):
                self.endpoints.seed(endpoint)
        self.scheduler.wake.set()
        return json_response({key: len(body.get(key, [])) for key in SEED_KEYS}, 201)
