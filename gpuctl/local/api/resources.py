"""REST v2 `/v2/templates` and `/v2/network-volumes` (api-notes §4.3, §4.4)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gpuctl.local.api.control import FaultPoint, body_of, control, visible_from
from gpuctl.local.api.http import json_response, no_content, route
from gpuctl.local.controlplane.templates import Templates
from gpuctl.local.controlplane.volumes import Volumes


@dataclass
class ResourceRoutes:
    templates: Templates
    volumes: Volumes
    faults: FaultPoint

    def routes(self) -> list[Route]:
        return [
            route("/v2/templates", get=self.list_templates, post=self.create_template),
            route("/v2/templates/{id}", get=self.get_template, patch=self.update_template, delete=self.delete_template),
            route("/v2/network-volumes", get=self.list_volumes, post=self.create_volume),
            route("/v2/network-volumes/{id}", get=self.get_volume, patch=self.update_volume, delete=self.delete_volume),
        ]

    @control("list", "template")
    async def list_templates(self, request: Request) -> Response:
        return json_response({"templates": self.templates.listed()})

    @control("create", "template")
    async def create_template(self, request: Request) -> Response:
        body = await body_of(request)
        return json_response(self.templates.create(body, visible_from(request, time.time())), 201)

    @control("get", "template")
    async def get_template(self, request: Request) -> Response:
        return json_response(self.templates.get(request.path_params["id"]))

    @control("update", "template")
    async def update_template(self, request: Request) -> Response:
        self.templates.get(request.path_params["id"])  # a missing template is a 404 whatever the body
        return json_response(self.templates.update(request.path_params["id"], await body_of(request)))

    @control("delete", "template")
    async def delete_template(self, request: Request) -> Response:
        self.templates.delete(request.path_params["id"])
        return no_content()

    @control("list", "network_volume")
    async def list_volumes(self, request: Request) -> Response:
        return json_response({"networkVolumes": self.volumes.listed()})

    @control("create", "network_volume")
    async def create_volume(self, request: Request) -> Response:
        body = await body_of(request)
        return json_response(self.volumes.create(body, visible_from(request, time.time())), 201)

    @control("get", "network_volume")
    async def get_volume(self, request: Request) -> Response:
        return json_response(self.volumes.get(request.path_params["id"]))

    @control("update", "network_volume")
    async def update_volume(self, request: Request) -> Response:
        self.volumes.get(request.path_params["id"])  # a missing volume is a 404 whatever the body
        return json_response(self.volumes.update(request.path_params["id"], await body_of(request)))

    @control("delete", "network_volume")
    async def delete_volume(self, request: Request) -> Response:
        self.volumes.delete(request.path_params["id"])
        return no_content()
