"""GraphQL mutations over the same stored documents REST v2 serves (api-notes §2.3).

`saveEndpoint` is a full replace, as measured on RunPod: on an update, fields left out of the
input go back to their defaults (workersMax 3, idleTimeout 10, scalerValue 4, ...), while
templateId, the CUDA fields, compliance, modelReferences and gpuIds are kept. Container
settings come from the endpoint's template, which GraphQL endpoints keep following: saving
the template rolls its endpoints to a new release.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from typing import Any

from gpuctl.local import ids
from gpuctl.local.catalog import CPU_FLAVORS
from gpuctl.local.endpoints import check_doc, ordered, release_diff, template_container
from gpuctl.local.graphql.execute import ResolverError, ValidationError
from gpuctl.local.graphql.views import endpoint_view, template_view, volume_view
from gpuctl.local.routes_resources import new_template, new_volume, template_name_taken, template_users
from gpuctl.local.routes_serverless import remove_endpoint, save_endpoint
from gpuctl.local.runtime import Local
from gpuctl.local.web import ApiError

RESET = {"workersMin": 0, "workersMax": 3, "idleTimeout": 10, "scalerType": "QUEUE_DELAY", "scalerValue": 4, "gpuCount": 1,
         "locations": "", "executionTimeoutMs": 600_000, "flashBootType": "OFF", "type": "QB", "networkVolumeId": ""}
HELD = ("templateId", "allowedCudaVersions", "minCudaVersion", "compliance", "modelReferences", "gpuIds", "instanceIds")
TEMPLATE_REQUIRED = {"name": "String!", "imageName": "String!", "containerDiskInGb": "Int!", "volumeInGb": "Int!",
                     "dockerArgs": "String!", "env": "[EnvironmentVariableInput!]!"}


def business(call: Callable[[], Any]) -> Any:
    """Run a shared v2 rule; its ApiError becomes a GraphQL error inside HTTP 200."""
    try:
        return call()
    except ApiError as exc:
        raise ResolverError(exc.detail) from None


def parse_gpu_ids(local: Local, text: str) -> tuple[list[str], list[str]]:
    pools, excluded = [], []
    for token in (t.strip() for t in text.split(",") if t.strip()):
        if token.startswith("-"):
            excluded.append(token[1:].strip())
        elif token in local.catalog.pools:
            pools.append(token)
        elif (gpu := local.catalog.gpu(token)) is not None:
            raise ResolverError(f"gpuIds takes GPU pool ids, not GPU type ids: use {gpu['pool']} (the pool of {token}) and exclude the rest")
        else:
            raise ResolverError(f"gpuIds: {token} is not a GPU pool id")
    if not pools:
        raise ResolverError("gpuIds must name at least one GPU pool")
    return pools, excluded


def _compute(local: Local, values: dict) -> dict[str, Any]:
    if values.get("instanceIds"):
        cpu = []
        for instance in values["instanceIds"]:
            flavor, _, rest = instance.partition("-")
            vcpus = rest.split("-")[0]
            if flavor not in CPU_FLAVORS or not vcpus.isdigit():
                raise ResolverError(f"instanceIds: {instance} is not a CPU instance id such as cpu3g-4-16")
            cpu.append({"id": flavor, "vcpuCount": int(vcpus)})
        return {"cpu": cpu}
    if not values.get("gpuIds"):
        raise ResolverError("gpuIds is required for a GPU endpoint (or instanceIds for a CPU endpoint)")
    pools, excluded = parse_gpu_ids(local, values["gpuIds"])
    cuda = [v.strip() for v in (values.get("allowedCudaVersions") or "").split(",") if v.strip()]
    gpu = {"pools": pools, "excludedTypes": excluded, "count": values["gpuCount"], "allowedCudaVersions": cuda,
           "minCudaVersion": values.get("minCudaVersion") or None}
    if not excluded:
        gpu.pop("excludedTypes")
    return {"gpu": gpu}


def _scaling(values: dict) -> dict[str, Any]:
    kind, value = values["scalerType"], values["scalerValue"]
    if value < 1:
        raise ResolverError("scalerValue must be at least 1")
    if kind == "QUEUE_DELAY":
        return {"type": kind, "queueDelay": value}
    if kind == "REQUEST_COUNT":
        return {"type": kind, "requestCount": value}
    raise ResolverError("scalerType must be QUEUE_DELAY or REQUEST_COUNT")


def _volumes(values: dict) -> list[str]:
    if values.get("networkVolumeIds"):
        return [v["networkVolumeId"] for v in values["networkVolumeIds"] if v.get("networkVolumeId")]
    return [values["networkVolumeId"]] if values.get("networkVolumeId") else []


def _template_for(local: Local, inp: dict, held_id: str | None) -> dict | None:
    if inp.get("templateId") and inp.get("template"):
        raise ResolverError("send templateId or template, not both")
    template_id = inp.get("templateId") or held_id
    if inp.get("template") or not template_id:
        return None
    template = local.store.get("template", template_id)
    if template is None:
        raise ResolverError(f"Template {template_id} not found")
    return template


def refuse_nulls(inp: dict) -> None:
    """An explicit null for a setting that has a default (`workersMax: null`) is refused
    before anything is read or written: leaving the field out is how to get the default."""
    for key in (*RESET, "workersPFBTarget"):
        if key in inp and inp[key] is None:
            default = RESET.get(key, 0)
            raise ResolverError(f"{key} is null; leave it out for its default ({default!r}) or give a value")


def save_endpoint_mutation(local: Local, inp: dict, visible_at: float) -> dict[str, Any]:
    refuse_nulls(inp)
    found = local.store.get_with_extra("endpoint", inp["id"]) if inp.get("id") else None
    if inp.get("id") and found is None:
        raise ResolverError(f"Endpoint {inp['id']} not found")
    if not inp.get("name"):
        raise ResolverError("name is required")
    old, extra = found or (None, {})
    held = endpoint_view(local, old, extra) if old else {}
    values = RESET | {k: held[k] for k in HELD if held.get(k) not in (None, "", [])} | inp
    template = _template_for(local, inp, extra.get("templateId"))
    if template is None and old is None and not inp.get("template"):
        raise ResolverError("templateId is required")
    doc: dict[str, Any] = {"id": old["id"] if old else ids.endpoint_id(), "name": values["name"],
                           "type": "LOAD_BALANCER" if values["type"] == "LB" else "QUEUE"}
    if inp.get("template"):
        template = _inline_template(local, inp["template"], doc["id"], values["name"], visible_at)
    container = template_container(template) if template else {k: old[k] for k in ("image", "args", "disk", "ports", "env", "registry") if k in old}  # type: ignore[index]
    doc |= {"args": "", "ports": [], "env": {}, "registry": None} | container | _compute(local, values)
    doc |= {"workers": {"min": values["workersMin"], "max": values["workersMax"], "idleTimeout": values["idleTimeout"]},
            "scaling": _scaling(values), "dataCenterIds": [d.strip() for d in values["locations"].split(",") if d.strip()],
            "networkVolumes": _volumes(values), "timeout": values["executionTimeoutMs"], "flashboot": values["flashBootType"],
            "createdAt": old["createdAt"] if old else ids.timestamp()}
    _check(local, doc, values)
    extra = {**extra, "templateId": template["id"] if template else None, "modelReferences": values.get("modelReferences") or [],
             "compliance": values.get("compliance") or [], "workersPFBTarget": values.get("workersPFBTarget", 0)}
    doc = ordered(doc)
    if old is not None:
        save_endpoint(local, old, doc, extra)
    else:
        extra["version"] = 1
        local.store.put("endpoint", doc, extra, visible_at)
        local.store.add_release(doc["id"], 1, ids.release_id(), doc["createdAt"], release_diff(None, doc))
        local.engine.wake.set()
    return endpoint_view(local, doc, extra)


def _check(local: Local, doc: dict, values: dict) -> None:
    if not 1 <= doc["workers"]["idleTimeout"] <= 3600:
        raise ResolverError("idleTimeout must be between 1 and 3600 seconds")
    if doc["type"] == "LOAD_BALANCER" and doc["scaling"]["type"] != "REQUEST_COUNT":
        raise ResolverError("load-balancing endpoints scale on REQUEST_COUNT")
    if "cpu" in doc and values.get("modelReferences"):
        raise ResolverError("modelReferences (cached models) are available on GPU endpoints only")
    business(lambda: check_doc(doc, local.catalog, local.store, idle_sent=False, strict_exclusions=False))


def _inline_template(local: Local, inp: dict, endpoint_id: str, name: str, visible_at: float) -> dict:
    """A template bound to its endpoint, named as the console names them."""
    values = {"name": f"{name}__template__{ids.short_id(7)}", "isServerless": True, "volumeInGb": 0, "dockerArgs": "",
              "containerDiskInGb": 10, "env": []} | inp
    doc, extra = template_doc(values)
    doc = business(lambda: new_template(local, doc))
    local.store.put("template", doc, extra | {"boundEndpoint": endpoint_id}, visible_at)
    return doc


def template_doc(inp: dict, existing: dict | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """A SaveTemplateInput as a v2 Template document plus its GraphQL-only fields."""
    for key, ref in TEMPLATE_REQUIRED.items():
        if inp.get(key) is None:
            raise ValidationError(f'Field "SaveTemplateInput.{key}" of required type "{ref}" was not provided.')
    volume, path = inp["volumeInGb"], inp.get("volumeMountPath") or "/workspace"
    category = inp.get("category") or "NVIDIA"
    if category not in ("NVIDIA", "AMD", "CPU"):
        raise ResolverError("category must be NVIDIA, AMD or CPU")
    doc = {
        "name": inp["name"], "image": inp["imageName"], "args": inp["dockerArgs"], "disk": inp["containerDiskInGb"],
        "mounts": {"persistent": {"size": volume, "path": path}} if volume >= 10 else {},
        "ports": [p.strip() for p in (inp.get("ports") or "").split(",") if p.strip()],
        "env": {e["key"]: e["value"] for e in inp["env"]}, "registry": inp.get("containerRegistryAuthId") or None,
        "serverless": bool(inp.get("isServerless", False)), "public": bool(inp.get("isPublic", False)), "category": category,
        "startSsh": bool(inp.get("startSsh", False)), "startJupyter": bool(inp.get("startJupyter", False)),
        "allowedCudaVersions": (existing or {}).get("allowedCudaVersions", []),
    }
    extra = {"volumeInGb": volume, "volumeMountPath": inp.get("volumeMountPath") or "", "readme": inp.get("readme") or "",
             "startScript": inp.get("startScript") or "", "advancedStart": bool(inp.get("advancedStart", False))}
    return doc, extra


def save_template_mutation(local: Local, inp: dict, visible_at: float) -> dict[str, Any] | None:
    found = local.store.get_with_extra("template", inp["id"]) if inp.get("id") else None
    if inp.get("id") and found is None:
        raise ResolverError(f"Template {inp['id']} not found")
    doc, extra = template_doc(inp, found[0] if found else None)
    if found is None:
        doc = business(lambda: new_template(local, doc))
        local.store.put("template", doc, extra, visible_at)
        return template_view(local, doc["id"])
    if template_name_taken(local, doc["name"], inp["id"]):
        raise ResolverError(f"a template named {doc['name']!r} already exists; template names are unique")
    doc = {"id": inp["id"], **doc}
    local.store.put("template", doc, found[1] | extra)
    _roll_endpoints(local, doc)
    return template_view(local, doc["id"])


def _roll_endpoints(local: Local, template: dict) -> None:
    for endpoint, extra in local.store.list_with_extra("endpoint", hidden=True):
        if extra.get("templateId") == template["id"]:
            new = ordered({**copy.deepcopy(endpoint), **template_container(template)})
            save_endpoint(local, endpoint, new, extra)


def delete_template_mutation(local: Local, name: str) -> None:
    template = next((t for t in local.store.list("template") if t["name"] == name), None)
    if template is None:
        raise ResolverError(f"Template {name} not found")
    users = template_users(local, template["id"])
    if users:
        raise ResolverError(f"Template {name} is in use by {', '.join(users)}")
    local.store.delete("template", template["id"])


def update_endpoint_template_mutation(local: Local, inp: dict) -> dict[str, Any]:
    found = local.store.get_with_extra("endpoint", inp["endpointId"])
    template = local.store.get("template", inp["templateId"])
    if found is None:
        raise ResolverError(f"Endpoint {inp['endpointId']} not found")
    if template is None:
        raise ResolverError(f"Template {inp['templateId']} not found")
    doc, extra = found
    new = ordered({**copy.deepcopy(doc), **template_container(template)})
    extra = {**extra, "templateId": template["id"]}
    save_endpoint(local, doc, new, extra)
    return endpoint_view(local, new, local.store.get_with_extra("endpoint", doc["id"])[1])  # type: ignore[index]


def delete_endpoint_mutation(local: Local, endpoint_id: str) -> None:
    doc = local.store.get("endpoint", endpoint_id)
    if doc is None:
        raise ResolverError(f"Endpoint {endpoint_id} not found")
    if doc["workers"]["min"] or doc["workers"]["max"]:
        raise ResolverError("The endpoint's min and max workers must both be zero before you can delete it")
    remove_endpoint(local, endpoint_id)


def create_volume_mutation(local: Local, inp: dict, visible_at: float) -> dict[str, Any]:
    for key in ("name", "size", "dataCenterId"):
        if inp.get(key) in (None, ""):
            raise ResolverError(f"{key} is required")
    if not 10 <= inp["size"] <= 4096:
        raise ResolverError("size must be between 10 and 4096 GB")
    body = {"name": inp["name"], "size": inp["size"], "dataCenter": inp["dataCenterId"], "type": inp.get("type")}
    doc = business(lambda: new_volume(local, body))
    local.store.put("network_volume", doc, {}, visible_at)
    return volume_view(local, doc)


def update_volume_mutation(local: Local, inp: dict) -> dict[str, Any]:
    doc = local.store.get("network_volume", inp["id"])
    if doc is None:
        raise ResolverError(f"Network volume {inp['id']} not found")
    size = inp.get("size") or doc["size"]
    if size < doc["size"] or size > 4096:
        raise ResolverError(f"size may only grow, up to 4096 GB (now {doc['size']} GB)")
    new = {**doc, "size": size, "name": inp.get("name") or doc["name"]}
    local.store.put("network_volume", new)
    return volume_view(local, new)


def delete_volume_mutation(local: Local, inp: dict) -> None:
    if not local.store.delete("network_volume", inp["id"]):
        raise ResolverError(f"Network volume {inp['id']} not found")
    shutil.rmtree(local.volumes_dir / inp["id"], ignore_errors=True)
