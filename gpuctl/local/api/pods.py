"""REST v2 `/v2/pods`: create, list, get, delete and the pod's log stream."""

from __future__ import annotations

import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gpuctl.local.api.control import FaultPoint, control, visible_from
from gpuctl.local.api.http import json_body, json_response, no_content, route
from gpuctl.local.api.logstream import log_stream
from gpuctl.local.controlplane.pods import Pods, view
from gpuctl.local.runtime.signals import Signals
from gpuctl.local.runtime.supervisor import Supervisor


@dataclass
class PodRoutes:
    pods: Pods
    supervisor: Supervisor
    signals: Signals
    faults: FaultPoint

    def routes(self) -> list[Route]:
        return [
            route("/v2/pods", get=self.list_pods, post=self.create_pod),
            route("/v2/pods/{id}", get=self.get_pod, delete=self.delete_pod),
            route("/v2/pods/{id}/logs", get=self.pod_logs),
        ]

    @control("create", "pod")
    async def create_pod(self, request: Request) -> Response:
        body = await json_body(request)
        return json_response(await self.pods.create(body, visible_from(request, time.time())), 201)

    @control("list", "pod")
    async def list_pods(self, request: Request) -> Response:
        return json_response({"pods": self.pods.listed()})

    @control("get", "pod")
    async def get_pod(self, request: Request) -> Response:
        return json_response(view(self.pods.get(request.path_params["id"])))

    @control("delete", "pod")
    async def delete_pod(self, request: Request) -> Response:
        self.pods.delete(request.path_params["id"])
        return no_content()

    @control("get", "pod")
    async def pod_logs(self, request: Request) -> Response:
        pod_id = self.pods.get(request.path_params["id"])["id"]
        return log_stream(request, self.signals, self.supervisor.pod_log(pod_id), pod_id, lambda: pod_id in self.supervisor.pods)
