"""Serverless endpoint documents: build one from a v2 create body, apply a sparse PATCH,
render it for a response, and say which changes make a new release.

Rules that the OpenAPI document states in prose (exactly one of gpu/cpu, exclusions inside
the chosen pools, a CUDA set or a floor, idleTimeout not on queue+requestCount endpoints) are
400s; shape errors are 422s and come from `requests_v2`.
"""

from __future__ import annotations

import copy
from typing import Any

from gpuctl.local import ids
from gpuctl.local.catalog import CPU_FLAVORS, Catalog
from gpuctl.local.requests_v2 import CREATE_ENDPOINT, UPDATE_ENDPOINT
from gpuctl.local.schema import validate
from gpuctl.local.store import Store
from gpuctl.local.web import ApiError

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
FIELD_ORDER = ("id", "name", "type", "image", "args", "disk", "ports", "env", "registry", "gpu", "cpu", "workers",
               "scaling", "dataCenterIds", "networkVolumes", "timeout", "flashboot", "createdAt")


def schema_errors(rule: Any, body: Any) -> None:
    errors = validate(rule, body)
    if errors:
        raise ApiError(422, "Request validation failed.", errors=errors)


def template_container(template: dict) -> dict[str, Any]:
    """The container settings a v2 template contributes to an endpoint or pod."""
    keys = ("image", "args", "disk", "ports", "env", "registry")
    return {k: copy.deepcopy(template[k]) for k in keys if template.get(k) is not None}


def resolve_template(store: Store, template_id: str) -> dict:
    template = store.get("template", template_id)
    if template is None:
        raise ApiError(404, f"template {template_id} not found")
    if not template.get("serverless"):
        raise ApiError(422, f"template {template_id} is not a serverless template", errors=["$.templateId: not a serverless template"])
    return template


def merge_template(body: dict, template: dict) -> dict:
    """Body fields override the template's; env merges per key with the body winning."""
    merged = template_container(template) | {k: v for k, v in body.items() if k != "env"}
    merged["env"] = {**template.get("env", {}), **body.get("env", {})}
    merged.pop("templateId", None)
    return merged


DEFAULT_DISK_GB = 50  # RunPod documents no v2 default; every documented response carries a disk, v1 templates default to 50


def create_doc(body: Any, catalog: Catalog, store: Store) -> dict:
    schema_errors(CREATE_ENDPOINT, body)
    body = copy.deepcopy(body)
    if body.get("templateId"):
        template = resolve_template(store, body["templateId"])
        cuda = template.get("allowedCudaVersions") or []
        gpu = body.get("gpu")
        if gpu is not None and "allowedCudaVersions" not in gpu and "minCudaVersion" not in gpu and cuda:
            gpu["allowedCudaVersions"] = list(cuda)
        body = merge_template(body, template)
    if body["type"] == "LOAD_BALANCER" and body["scaling"]["type"] != "REQUEST_COUNT":
        raise ApiError(422, "Request validation failed.", errors=["$.scaling.type: value must be 'REQUEST_COUNT' for LOAD_BALANCER endpoints"])
    if ("gpu" in body) == ("cpu" in body):
        raise ApiError(400, "specify exactly one of gpu or cpu")
    doc = {
        "id": ids.endpoint_id(), "name": body["name"], "type": body["type"], "args": "", "disk": DEFAULT_DISK_GB, "ports": [], "env": {},
        "registry": None, "workers": {**DEFAULT_WORKERS}, "dataCenterIds": [], "networkVolumes": [],
        "timeout": 300_000, "flashboot": "OFF", "createdAt": ids.timestamp(),
    }
    if "gpu" in body:
        doc["gpu"] = {"pools": [], "count": 1, "allowedCudaVersions": [], "minCudaVersion": None}
    return _apply_body(doc, body, catalog, store)


SETTABLE = (*CONTAINER_KEYS, "cpu", "scaling", "dataCenterIds", "networkVolumes", "timeout", "flashboot")


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


def patch_doc(doc: dict, body: Any, catalog: Catalog, store: Store) -> dict:
    schema_errors(UPDATE_ENDPOINT, body)
    body = copy.deepcopy(body)
    if "templateId" in body:
        body = merge_template(body, resolve_template(store, body["templateId"]))
    if "gpu" in body and "cpu" in body:
        raise ApiError(400, "specify at most one of gpu or cpu")
    if ("gpu" in body and "gpu" not in doc) or ("cpu" in body and "cpu" not in doc):
        raise ApiError(400, "the compute family (gpu or cpu) of an endpoint cannot change")
    return _apply_body(copy.deepcopy(doc), body, catalog, store)


def check_doc(doc: dict, catalog: Catalog, store: Store, *, idle_sent: bool, strict_exclusions: bool = True) -> None:
    """The 400-level rules, checked on the whole document after a create or a patch."""
    if "gpu" in doc:
        check_gpu(doc["gpu"], catalog, strict_exclusions)
    for cpu in doc.get("cpu", []):
        if cpu["id"] not in CPU_FLAVORS:
            raise ApiError(400, f"cpu flavor {cpu['id']} is not one of {', '.join(CPU_FLAVORS)}")
        if cpu["vcpuCount"] & (cpu["vcpuCount"] - 1):
            raise ApiError(400, f"cpu vcpuCount {cpu['vcpuCount']} is not a power of two")
        cpu["memory"] = cpu["vcpuCount"] * CPU_FLAVORS[cpu["id"]]
    workers = doc["workers"]
    if workers["min"] > workers["max"]:
        raise ApiError(400, f"workers.min ({workers['min']}) exceeds workers.max ({workers['max']})")
    if idle_sent and doc["type"] == "QUEUE" and doc["scaling"]["type"] == "REQUEST_COUNT":
        raise ApiError(400, "workers.idleTimeout does not apply to queue endpoints that scale on requestCount")
    for dc in doc["dataCenterIds"]:
        if catalog.data_center(dc) is None:
            raise ApiError(400, f"data center {dc} is not known")
    check_volumes(doc, store)


def check_gpu(gpu: dict, catalog: Catalog, strict_exclusions: bool = True) -> None:
    """v2 rejects an exclusion outside the chosen pools; GraphQL ("upstream", as the v2 document
    calls it) accepts one silently, so its callers pass strict_exclusions=False."""
    for pool in gpu["pools"]:
        if pool not in catalog.pools:
            raise ApiError(400, f"gpu.pools: {pool} is not a serverless GPU pool (see GET /v2/catalog/gpus)")
    members = {m for pool in gpu["pools"] for m in catalog.pool_members(pool)}
    for excluded in gpu.get("excludedTypes", []) if strict_exclusions else ():
        if excluded not in members:
            raise ApiError(400, f"gpu.excludedTypes: {excluded} is not a GPU type in the selected pools")
    if members and members <= set(gpu.get("excludedTypes", [])):
        raise ApiError(400, "gpu.excludedTypes leaves no GPU type in the selected pools")
    if gpu["allowedCudaVersions"] and gpu["minCudaVersion"]:
        raise ApiError(400, "gpu.allowedCudaVersions (non-empty) and gpu.minCudaVersion are mutually exclusive")


def check_volumes(doc: dict, store: Store) -> None:
    seen: dict[str, str] = {}
    for volume_id in doc["networkVolumes"]:
        volume = store.get("network_volume", volume_id)
        if volume is None:
            raise ApiError(400, f"network volume {volume_id} not found")
        dc = volume["dataCenter"]
        if dc in seen:
            raise ApiError(400, f"network volumes {seen[dc]} and {volume_id} are both in {dc}; attach at most one per data center")
        if doc["dataCenterIds"] and dc not in doc["dataCenterIds"]:
            raise ApiError(400, f"network volume {volume_id} is in {dc}, outside dataCenterIds")
        seen[dc] = volume_id


def ordered(doc: dict) -> dict:
    """Fields in RunPod's order; any others (a seeded document's) kept after them."""
    return {k: doc[k] for k in FIELD_ORDER if k in doc} | {k: v for k, v in doc.items() if k not in FIELD_ORDER}


def render(doc: dict, endpoint_base_url: str, base_url: str) -> dict:
    """The v2 Endpoint object: requestUrls added, idleTimeout hidden where it does not apply."""
    out = dict(doc)
    eid = doc["id"]
    if doc.get("type") == "LOAD_BALANCER":
        lb = f"{base_url}/lb/{eid}"
        urls = {"base": lb, "health": f"{lb}/ping"}
    else:
        root = f"{endpoint_base_url}/{eid}"
        urls = {"run": f"{root}/run", "runSync": f"{root}/runsync", "status": f"{root}/status/{{job_id}}",
                "stream": f"{root}/stream/{{job_id}}", "cancel": f"{root}/cancel/{{job_id}}",
                "retry": f"{root}/retry/{{job_id}}", "purgeQueue": f"{root}/purge-queue", "health": f"{root}/health"}
    out = {"id": eid, "name": doc["name"], "type": doc.get("type", "QUEUE"), "requestUrls": urls} | out
    if doc.get("type", "QUEUE") == "QUEUE" and doc["scaling"]["type"] == "REQUEST_COUNT":
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


def idle_timeout(doc: dict) -> int:
    """Seconds an idle worker lives. Queue endpoints that scale on requestCount have no
    idleTimeout setting (the v2 API rejects it), so they get RunPod's documented default, 5."""
    if doc.get("type", "QUEUE") == "QUEUE" and doc["scaling"]["type"] == "REQUEST_COUNT":
        return 5
    return int(doc["workers"].get("idleTimeout", 5))
