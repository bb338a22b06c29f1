"""The REST v2 catalog (`/v2/catalog/gpus`, `/v2/catalog/datacenters`) from the reference data:
everything is in stock (`HIGH`); serverless prices are the pool rates, pod prices are not known
here and are reported as 0.0. Query values arrive as lists (comma-separated values split)."""

from __future__ import annotations

from typing import Any

from gpuctl.local.errors import NotFound, Rejected
from gpuctl.local.store.reference import CPU_FLAVORS, Catalog

DC_INCLUDES = {"GPU_AVAILABILITY", "CPU_AVAILABILITY"}


def gpu_availability(include: list[str], product: list[str]) -> bool:
    """Whether the GPU answer carries availability (`include=AVAILABILITY&product=...`)."""
    if any(i != "AVAILABILITY" for i in include):
        raise Rejected("include accepts only AVAILABILITY")
    if include and not product:
        raise Rejected("product is required with include=AVAILABILITY")
    if product and not include:
        raise Rejected("product is valid only with include=AVAILABILITY")
    if any(p not in ("POD", "CLUSTER", "SERVERLESS") for p in product):
        raise Rejected("product accepts POD, CLUSTER and SERVERLESS")
    return bool(include)


def gpu_view(catalog: Catalog, gpu: dict, availability: bool) -> dict[str, Any]:
    pool = catalog.pools.get(gpu["pool"] or "", {})
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
        doc["dataCenters"] = [{"id": d["id"], "name": d["name"], "availability": "HIGH"} for d in catalog.data_centers]
    return doc


def gpu(catalog: Catalog, gpu_id: str, availability: bool) -> dict[str, Any]:
    found = catalog.gpu(gpu_id)
    if found is None:
        raise NotFound("gpu type not found")
    return gpu_view(catalog, found, availability)


def dc_include(include: list[str]) -> set[str]:
    if set(include) - DC_INCLUDES:
        raise Rejected("include accepts GPU_AVAILABILITY and CPU_AVAILABILITY")
    return set(include)


def dc_selected(dc: dict, regions: list[str], types: list[str], compliance: list[str], global_network: str | None) -> bool:
    if regions and dc.get("region") not in regions:
        return False
    if types and not set(types) & set(dc.get("networkVolumeTypes", [])):
        return False
    if compliance:
        return False  # no local data center carries a certification
    return global_network != "true"


def dc_view(catalog: Catalog, dc: dict, include: set[str]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": dc["id"], "name": dc["name"], "region": dc.get("region", "UNKNOWN"), "globalNetwork": False,
        "networkVolumeTypes": list(dc.get("networkVolumeTypes", [])), "compliance": [],
    }
    if "GPU_AVAILABILITY" in include:
        doc["gpuAvailability"] = [{"id": g["id"], "name": g["displayName"], "availability": "HIGH"} for g in catalog.gpus]
    if "CPU_AVAILABILITY" in include:
        doc["cpuAvailability"] = [{"id": c, "name": c, "availability": "HIGH"} for c in CPU_FLAVORS]
    return doc


def data_center(catalog: Catalog, dc_id: str, include: list[str]) -> dict[str, Any]:
    found = catalog.data_center(dc_id)
    if found is None:
        raise NotFound("data center not found")
    return dc_view(catalog, found, dc_include(include))
