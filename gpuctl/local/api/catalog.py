"""REST v2 `/v2/catalog/gpus[/{id}]` and `/v2/catalog/datacenters[/{id}]`; fault rules see
them as kind `catalog`."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gpuctl.local.api.control import FaultPoint, control
from gpuctl.local.api.http import json_response, route
from gpuctl.local.controlplane import catalog as views
from gpuctl.local.store.reference import Catalog


def _csv(request: Request, name: str) -> list[str]:
    return [v for raw in request.query_params.getlist(name) for v in raw.split(",") if v]


@dataclass
class CatalogRoutes:
    catalog: Catalog
    faults: FaultPoint

    def routes(self) -> list[Route]:
        return [
            route("/v2/catalog/gpus", get=self.list_gpus),
            route("/v2/catalog/gpus/{id:path}", get=self.get_gpu),
            route("/v2/catalog/datacenters", get=self.list_data_centers),
            route("/v2/catalog/datacenters/{id}", get=self.get_data_center),
        ]

    def _availability(self, request: Request) -> bool:
        return views.gpu_availability(_csv(request, "include"), _csv(request, "product"))

    @control("list", "catalog")
    async def list_gpus(self, request: Request) -> Response:
        availability = self._availability(request)
        return json_response({"gpus": [views.gpu_view(self.catalog, g, availability) for g in self.catalog.gpus]})

    @control("get", "catalog")
    async def get_gpu(self, request: Request) -> Response:
        return json_response(views.gpu(self.catalog, request.path_params["id"], self._availability(request)))

    @control("list", "catalog")
    async def list_data_centers(self, request: Request) -> Response:
        include = views.dc_include(_csv(request, "include"))
        filters = (_csv(request, "regions"), _csv(request, "networkVolumeTypes"), _csv(request, "compliance"), request.query_params.get("globalNetwork"))
        return json_response({"dataCenters": [views.dc_view(self.catalog, d, include) for d in self.catalog.data_centers if views.dc_selected(d, *filters)]})

    @control("get", "catalog")
    async def get_data_center(self, request: Request) -> Response:
        return json_response(views.data_center(self.catalog, request.path_params["id"], _csv(request, "include")))
