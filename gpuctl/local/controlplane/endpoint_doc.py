"""Serverless endpoint documents: build one from a v2 create body, apply a sparse PATCH,
render it for a response, and say which changes make a new release. Pure: the caller has
checked the body against RunPod's schema (`requests`) and resolved its template.

Rules that the OpenAPI document states in prose (exactly one of gpu/cpu, exclusions inside
the chosen pools, a CUDA set or a floor, idleTimeout not on queue+requestCount endpoints) are
`Rejected` (400s); shape errors are `Invalid` (422s) and come from `requests`.
"""

from __future__ import annotations

import copy
from typing import Any

from gpuctl.local.controlplane.registries import check_reference
from gpuctl.local.errors import Rejected
from gpuctl.local.store import ids
from gpuctl.local.store.db import Store
from gpuctl.local.store.reference import CPU_FLAVORS, Catalog

CONTAINER_KEYS = ("image", "args", "disk", "ports", "env", "registry")
# What makes a release, and how its diff names each field (OpenAPI `ReleaseDiffEntry.field`):
# the container settings, template-scoped (`template.imageName`, `template.env`, ...), and the
# two top-level fields the document names, `gpuCount` and `locations`: all of them change what
# a worker is, so they take effect as workers are replaced. Scaling, workers and timeout are
# "applied to the autoscaler promptly" (PATCH description) and make no release. Values are
# the v2 values (env a map, ports and locations lists).
RELEASE_FIELDS = {
    "image": "template.imageName", "args": "template.dockerArgs", "disk": "template.containerDiskInGb",
    "ports": "template.ports", "env": "template.env", "registry": "template.containerRegistryAuthId",
    "gpu.count": "gpuCount", "dataCenterIds": "locations",
}
DEFAULT_WORKERS = {"min": 0, "max": 3, "idleTimeout": 10}
DEFAULT_DISK_GB = 50  # RunPod documents no v2 default; every documented response carries a disk, v1 templates default to 50
FIELD_ORDER = ("id", "name", "type", "image", "args", "disk", "ports", "env", "registry", "gpu", "cpu", "workers",
               "scaling", "dataCenterIds", "networkVolumes", "timeout", "flashboot", "createdAt")
SETTABLE = (*CONTAINER_KEYS, "cpu", "scaling", "dataCenterIds", "networkVolumes", "timeout", "flashboot")


def template_container(template: dict) -> dict[str, Any]:
    """The container settings a v2 template contributes to an endpoint or pod."""
    return {k: copy.deepcopy(template[k]) for k in CONTAINER_KEYS if template.get(k) is not None}


def merge_template(body: dict, template: dict) -> dict:
    """Body fields override the template's; env merges per key with the body winning."""
    merged = template_container(template) | {k: v for k, v in body.items() if k != "env"}
    merged["env"] = {**template.get("env", {}), **body.get("env", {})}
    merged.pop("templateId", None)
    return merged


def create_doc(body: dict, template: dict | None, catalog: Catalog, store: Store) -> dict:
    """A new endpoint from a create body that fits the schema (and its template, if any)."""
    body = copy.deepcopy(body)
    if template is not None:
        cuda = template.get("allowedCudaVersions") or []
        gpu = body.get("gpu")
        if gpu is not None and "allowedCudaVersions" not in gpu and "minCudaVersion" not in gpu and cuda:
            gpu["allowedCudaVersions"] = list(cuda)
        body = merge_template(body, template)
    if ("gpu" in body) == ("cpu" in body):
        raise Rejected("specify exactly one of gpu or cpu")
    doc = {
        "id": ids.endpoint_id(), "name": body["name"], "type": body["type"], "args": "", "disk": DEFAULT_DISK_GB, "ports": [], "env": {},
        "registry": None, "workers": {**DEFAULT_WORKERS}, "dataCenterIds": [], "networkVolumes": [],
        "timeout": 300_000, "flashboot": "OFF", "createdAt": ids.timestamp(),
    }
    if "gpu" in body:
        doc["gpu"] = {"pools": [], "count": 1, "allowedCudaVersions": [], "minCudaVersion": None}
    doc = _apply_body(doc, body, catalog, store)
    check_reference(store, doc["registry"])  # from the body or the template
    return doc


def patch_doc(doc: dict, body: dict, template: dict | None, catalog: Catalog, store: Store) -> dict:
    """The endpoint after a sparse PATCH that fits the schema (and its one-time template)."""
    body = copy.deepcopy(body)
    if template is not None:
        body = merge_template(body, template)
    if "gpu" in body and "cpu" in body:
        raise Rejected("specify at most one of gpu or cpu")
    if ("gpu" in body and "gpu" not in doc) or ("cpu" in body and "cpu" not in doc):
        raise Rejected("the compute family (gpu or cpu) of an endpoint cannot change")
    new = _apply_body(copy.deepcopy(doc), body, catalog, store)
    check_reference(store, new.get("registry"), kept=doc.get("registry"))
    return new


def _apply_body(doc: dict, body: dict, catalog: Catalog, store: Store) -> dict:
    """What create and PATCH share: copy the given fields, merge gpu and workers, check."""
    for key in ("name", *SETTABLE):
        if key in body:
            doc[key] = body[key]
    if "gpu" in body:
        apply_gpu(doc, body["gpu"])
    doc["workers"].update(body.get("workers", {}))
    check_doc(doc, catalog, store, idle_sent="idleTimeout" in body.get("workers", {}))
    return ordered(doc)


def apply_gpu(doc: dict, patch: dict) -> None:
    gpu = doc["gpu"]
    if "pools" in patch:
        gpu["pools"] = list(patch["pools"])
        gpu["excludedTypes"] = [t.strip() for t in patch.get("excludedTypes", [])]
    for key in ("count", "allowedCudaVersions"):
        if key in patch:
            gpu[key] = patch[key]
    if "minCudaVersion" in patch:
        gpu["minCudaVersion"] = patch["minCudaVersion"] or None
    if not gpu.get("excludedTypes"):
        gpu.pop("excludedTypes", None)


def check_doc(doc: dict, catalog: Catalog, store: Store, *, idle_sent: bool, strict_exclusions: bool = True) -> None:
    """The 400-level rules, checked on the whole document after a create or a patch."""
    if "gpu" in doc:
        check_gpu(doc["gpu"], catalog, strict_exclusions)
    for cpu in doc.get("cpu", []):
        if cpu["id"] not in CPU_FLAVORS:
            raise Rejected(f"cpu flavor {cpu['id']} is not one of {', '.join(CPU_FLAVORS)}")
        if cpu["vcpuCount"] & (cpu["vcpuCount"] - 1):
            raise Rejected(f"cpu vcpuCount {cpu['vcpuCount']} is not a power of two")
        cpu["memory"] = cpu["vcpuCount"] * CPU_FLAVORS[cpu["id"]]
    workers = doc["workers"]
    if workers["min"] > workers["max"]:
        raise Rejected(f"workers.min ({workers['min']}) exceeds workers.max ({workers['max']})")
    if idle_sent and not has_idle_setting(doc):
        raise Rejected("workers.idleTimeout does not apply to queue endpoints that scale on requestCount")
    for dc in doc["dataCenterIds"]:
        if catalog.data_center(dc) is None:
            raise Rejected(f"data center {dc} is not known")
    check_volumes(doc, store)


def check_gpu(gpu: dict, catalog: Catalog, strict_exclusions: bool = True) -> None:
    """v2 rejects an exclusion outside the chosen pools; GraphQL ("upstream", as the v2 document
    calls it) accepts one silently, so its callers pass strict_exclusions=False."""
    for pool in gpu["pools"]:
        if pool not in catalog.pools:
            raise Rejected(f"gpu.pools: {pool} is not a serverless GPU pool (see GET /v2/catalog/gpus)")
    members = {m for pool in gpu["pools"] for m in catalog.pool_members(pool)}
    for excluded in gpu.get("excludedTypes", []) if strict_exclusions else ():
        if excluded not in members:
            raise Rejected(f"gpu.excludedTypes: {excluded} is not a GPU type in the selected pools")
    if members and members <= set(gpu.get("excludedTypes", [])):
        raise Rejected("gpu.excludedTypes leaves no GPU type in the selected pools")
    if gpu["allowedCudaVersions"] and gpu["minCudaVersion"]:
        raise Rejected("gpu.allowedCudaVersions (non-empty) and gpu.minCudaVersion are mutually exclusive")


def check_volumes(doc: dict, store: Store) -> None:
    seen: dict[str, str] = {}
    for volume_id in doc["networkVolumes"]:
        volume = store.get("network_volume", volume_id)
        if volume is None:
            raise Rejected(f"network volume {volume_id} not found")
        dc = volume["dataCenter"]
        if dc in seen:
            raise Rejected(f"network volumes {seen[dc]} and {volume_id} are both in {dc}; attach at most one per data center")
        if doc["dataCenterIds"] and dc not in doc["dataCenterIds"]:
            raise Rejected(f"network volume {volume_id} is in {dc}, outside dataCenterIds")
        seen[dc] = volume_id


def has_idle_setting(doc: dict) -> bool:
    """Queue endpoints that scale on requestCount have no idleTimeout setting: the v2 API
    rejects it on a write and leaves it out of a read."""
    return not (doc.get("type", "QUEUE") == "QUEUE" and doc["scaling"]["type"] == "REQUEST_COUNT")


def ordered(doc: dict) -> dict:
    """Fields in RunPod's order; any others (a seeded document's) kept after them."""
    return {k: doc[k] for k in FIELD_ORDER if k in doc} | {k: v for k, v in doc.items() if k not in FIELD_ORDER}


def request_urls(endpoint_id: str, endpoint_type: str, base_url: str, endpoint_base_url: str) -> dict[str, str]:
    if endpoint_type == "LOAD_BALANCER":
        lb = f"{base_url}/lb/{endpoint_id}"
        return {"base": lb, "health": f"{lb}/ping"}
    root = f"{endpoint_base_url}/{endpoint_id}"
    return {"run": f"{root}/run", "runSync": f"{root}/runsync", "status": f"{root}/status/{{job_id}}",
            "stream": f"{root}/stream/{{job_id}}", "cancel": f"{root}/cancel/{{job_id}}",
            "retry": f"{root}/retry/{{job_id}}", "purgeQueue": f"{root}/purge-queue", "health": f"{root}/health"}


def render(doc: dict, base_url: str, endpoint_base_url: str) -> dict:
    """The v2 Endpoint object: requestUrls added, idleTimeout hidden where it does not apply."""
    eid = doc["id"]
    urls = request_urls(eid, doc.get("type", "QUEUE"), base_url, endpoint_base_url)
    out = {"id": eid, "name": doc["name"], "type": doc.get("type", "QUEUE"), "requestUrls": urls} | doc
    if not has_idle_setting(doc):
        out["workers"] = {k: v for k, v in doc["workers"].items() if k != "idleTimeout"}
    return out


def release_diff(old: dict | None, new: dict) -> list[dict[str, Any]]:
    """The release fields that changed, in RELEASE_FIELDS order; a non-empty diff makes a new
    release. A field an endpoint does not have (gpuCount on a CPU endpoint) is null."""
    diff = []
    for key, name in RELEASE_FIELDS.items():
        before = None if old is None else _at(old, key)
        after = _at(new, key)
        if before != after:
            diff.append({"field": name, "old": before, "new": after})
    return diff


def _at(doc: dict, dotted: str) -> Any:
    for part in dotted.split("."):
        doc = doc.get(part) if isinstance(doc, dict) else None
    return doc
