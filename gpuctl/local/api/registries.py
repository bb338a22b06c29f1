"""REST v2 `/v2/registries`: container registry credentials (list, get, create, delete).
Answers carry `{id, name}` only, as RunPod's do (`gpuctl.local.controlplane.registries`)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gpuctl.local.api.control import FaultPoint, body_of, control, visible_from
from gpuctl.local.api.http import json_response, no_content, route
from gpuctl.local.controlplane.registries import Registries


@dataclass
class RegistryRoutes:
    registries: Registries
    faults: FaultPoint

    def routes(self) -> list[Route]:
        return [
            route("/v2/registries", get=self.list_registries, post=self.create_registry),
            route("/v2/registries/{id}", get=self.get_registry, delete=self.delete_registry),
        ]

    @control("list", "registry")
    async def list_registries(self, request: Request) -> Response:
        return json_response({"registries": self.registries.listed()})

    @control("create", "registry")
    async def create_registry(self, request: Request) -> Response:
        body = await body_of(request)
        return json_response(self.registries.create(body, visible_from(request, time.time())), 201)

    @control("get", "registry")
    async def get_registry(self, request: Request) -> Response:
        return json_response(self.registries.get(request.path_params["id"]))

    @control("delete", "registry")
    async def delete_registry(self, request: Request) -> Response:
        self.registries.delete(request.path_params["id"])
        return no_content()
