"""GPU types, pools, data centers and CPU flavours, from the repository's `state/catalog/`.

The same files feed the planner, but this module reads them itself: the local provider shares
data with the client side, never code. A laptop has every GPU "in stock", so availability is
always HIGH; prices are the indicative serverless pool rates, pod prices are not known here
and are reported as 0.0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gpuctl.local.web import ApiError, json_response

# RAM per vCPU by flavour (api-notes §8.8: cpu3g x4, cpu3c/cpu5c x2; cpu5g as its g sibling).
CPU_FLAVORS = {"cpu3c": 2, "cpu3g": 4, "cpu5c": 2, "cpu5g": 4}


@dataclass(frozen=True)
class Catalog:
    gpus: tuple[dict, ...]
    pools: dict[str, dict]
    data_centers: tuple[dict, ...]

    @classmethod
    def load(cls, root: Path) -> Catalog:
        gpu_doc = json.loads((root / "catalog" / "gpus.json").read_text())
        dc_doc = json.loads((root / "catalog" / "datacenters.json").read_text())
        return cls(tuple(gpu_doc["gpus"]), dict(gpu_doc["pools"]), tuple(dc_doc["dataCenters"]))

    def gpu(self, gpu_id: str) -> dict | None:
        return next((g for g in self.gpus if g["id"] == gpu_id), None)

    def pool_members(self, pool: str) -> list[str]:
        return [g["id"] for g in self.gpus if g["pool"] == pool]

    def data_center(self, dc_id: str) -> dict | None:
        return next((d for d in self.data_centers if d["id"] == dc_id), None)

    def first_gpu(self, pools: list[str], excluded: list[str]) -> str:
        """The GPU type a worker of this selection is "placed" on: the first one allowed."""
        for pool in pools:
            for member in self.pool_members(pool):
                if member not in excluded:
                    return member
        return "NVIDIA GeForce RTX 4090"

    def v2_gpu(self, gpu: dict, availability: bool) -> dict[str, Any]:
        pool = self.pools.get(gpu["pool"] or "", {})
        flex = pool.get("flexUsdPerSecond")
        price: dict[str, float] = {"secure": 0.0, "community": 0.0}
        if flex is not None:
            price["serverless"] = round(flex * 3600, 4)
        doc: dict[str, Any] = {
            "id": gpu["id"], "name": gpu["displayName"], "pool": gpu["pool"],
            "manufacturer": gpu.get("manufacturer", "NVIDIA"), "memory": gpu["memoryInGb"],
            "secure": True, "community": True, "price": price, "maxCount": {"secure": 8, "community": 8},
        }
        if availability:
            doc["availability"] = "HIGH"
            doc["dataCenters"] = [{"id": d["id"], "name": d["name"], "availability": "HIGH"} for d in self.data_centers]
        return doc

    def v2_data_center(self, dc: dict, include: set[str]) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": dc["id"], "name": dc["name"], "region": dc.get("region", "UNKNOWN"), "globalNetwork": False,
            "networkVolumeTypes": list(dc.get("networkVolumeTypes", [])), "compliance": [],
        }
        if "GPU_AVAILABILITY" in include:
            doc["gpuAvailability"] = [{"id": g["id"], "name": g["displayName"], "availability": "HIGH"} for g in self.gpus]
        if "CPU_AVAILABILITY" in include:
            doc["cpuAvailability"] = [{"id": c, "name": c, "availability": "HIGH"} for c in CPU_FLAVORS]
        return doc


def _csv(request: Request, name: str) -> list[str]:
    return [v for raw in request.query_params.getlist(name) for v in raw.split(",") if v]


def _gpu_availability(request: Request) -> bool:
    include, product = _csv(request, "include"), _csv(request, "product")
    if any(i != "AVAILABILITY" for i in include):
        raise ApiError(400, "include accepts only AVAILABILITY")
    if include and not product:
        raise ApiError(400, "product is required with include=AVAILABILITY")
    if product and not include:
        raise ApiError(400, "product is valid only with include=AVAILABILITY")
    if any(p not in ("POD", "CLUSTER", "SERVERLESS") for p in product):
        raise ApiError(400, "product accepts POD, CLUSTER and SERVERLESS")
    return bool(include)


async def list_gpus(request: Request) -> Response:
    catalog: Catalog = request.app.state.local.catalog
    availability = _gpu_availability(request)
    return json_response({"gpus": [catalog.v2_gpu(g, availability) for g in catalog.gpus]})


async def get_gpu(request: Request) -> Response:
    catalog: Catalog = request.app.state.local.catalog
    availability = _gpu_availability(request)
    gpu = catalog.gpu(request.path_params["id"])
    if gpu is None:
        raise ApiError(404, "gpu type not found")
    return json_response(catalog.v2_gpu(gpu, availability))


def _dc_include(request: Request) -> set[str]:
    include = set(_csv(request, "include"))
    if include - {"GPU_AVAILABILITY", "CPU_AVAILABILITY"}:
        raise ApiError(400, "include accepts GPU_AVAILABILITY and CPU_AVAILABILITY")
    return include


def _dc_selected(request: Request, dc: dict) -> bool:
    regions, types, compliance = _csv(request, "regions"), _csv(request, "networkVolumeTypes"), _csv(request, "compliance")
    global_network = request.query_params.get("globalNetwork")
    if regions and dc.get("region") not in regions:
        return False
    if types and not set(types) & set(dc.get("networkVolumeTypes", [])):
        return False
    if compliance:
        return False  # no local data center carries a certification
    return global_network != "true"


async def list_data_centers(request: Request) -> Response:
    catalog: Catalog = request.app.state.local.catalog
    include = _dc_include(request)
    selected = [catalog.v2_data_center(d, include) for d in catalog.data_centers if _dc_selected(request, d)]
    return json_response({"dataCenters": selected})


async def get_data_center(request: Request) -> Response:
    catalog: Catalog = request.app.state.local.catalog
    dc = catalog.data_center(request.path_params["id"])
    if dc is None:
        raise ApiError(404, "data center not found")
    return json_response(catalog.v2_data_center(dc, _dc_include(request)))
