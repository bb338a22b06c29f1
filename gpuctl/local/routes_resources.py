"""REST v2 `/v2/templates` and `/v2/network-volumes` (api-notes §4.3, §4.4).

Templates are snapshots: endpoints and pods copy their settings when created and never follow
later edits. Template names are unique per account. A network volume is a directory under
the data dir; it may grow but never shrink, and its data center and type never change.
"""

from __future__ import annotations

import copy
import shutil
import time

from starlette.requests import Request
from starlette.responses import Response

from gpuctl.local import ids
from gpuctl.local.control import control, dropped_field, local_of, visible_from
from gpuctl.local.endpoints import schema_errors
from gpuctl.local.faults import drop_path
from gpuctl.local.requests_v2 import CREATE_TEMPLATE, CREATE_VOLUME, UPDATE_TEMPLATE, UPDATE_VOLUME
from gpuctl.local.runtime import Local
from gpuctl.local.web import ApiError, json_response, json_body

TEMPLATE_DEFAULTS = {
    "args": "", "disk": 50, "mounts": {}, "ports": [], "env": {}, "registry": None, "serverless": False,
    "public": False, "category": "NVIDIA", "startSsh": True, "startJupyter": True, "allowedCudaVersions": [],
}
TEMPLATE_ORDER = ("id", "name", "image", "args", "disk", "mounts", "ports", "env", "registry", "serverless",
                  "public", "category", "startSsh", "startJupyter", "allowedCudaVersions")


async def _body(request: Request) -> dict:
    body = await json_body(request)
    if (field := dropped_field(request)) and isinstance(body, dict):
        drop_path(body, field)
    return body


def _found(local: Local, kind: str, object_id: str, label: str) -> dict:
    doc = local.store.get(kind, object_id)
    if doc is None:
        raise ApiError(404, f"{label} {object_id} not found")
    return doc


def template_name_taken(local: Local, name: str, own_id: str | None = None) -> bool:
    return any(t["name"] == name and t["id"] != own_id for t in local.store.list("template", hidden=True))


def new_template(local: Local, body: dict) -> dict:
    if template_name_taken(local, body["name"]):
        raise ApiError(400, f"a template named {body['name']!r} already exists; template names are unique")
    doc = {"id": ids.template_id(), **copy.deepcopy(TEMPLATE_DEFAULTS), **copy.deepcopy(body)}
    return {k: doc[k] for k in TEMPLATE_ORDER}


@control("list", "template")
async def list_templates(request: Request) -> Response:
    local = local_of(request)
    own = [doc for doc, extra in local.store.list_with_extra("template") if not extra.get("boundEndpoint")]
    return json_response({"templates": own})


@control("create", "template")
async def create_template(request: Request) -> Response:
    local = local_of(request)
    body = await _body(request)
    schema_errors(CREATE_TEMPLATE, body)
    doc = new_template(local, body)
    local.store.put("template", doc, {}, visible_from(request, time.time()))
    return json_response(doc, 201)


@control("get", "template")
async def get_template(request: Request) -> Response:
    return json_response(_found(local_of(request), "template", request.path_params["id"], "template"))


@control("update", "template")
async def update_template(request: Request) -> Response:
    local = local_of(request)
    doc = _found(local, "template", request.path_params["id"], "template")
    body = await _body(request)
    schema_errors(UPDATE_TEMPLATE, body)
    if "name" in body and template_name_taken(local, body["name"], doc["id"]):
        raise ApiError(400, f"a template named {body['name']!r} already exists; template names are unique")
    new = {**doc, **{k: v for k, v in copy.deepcopy(body).items() if k != "mounts"}}
    if body.get("mounts"):
        new["mounts"] = body["mounts"]
    extra = local.store.get_with_extra("template", doc["id"])[1]  # type: ignore[index]
    local.store.put("template", new, extra)
    return json_response(new)


def template_users(local: Local, template_id: str) -> list[str]:
    """What keeps a template from being deleted: its endpoint binding, pods, GraphQL endpoints."""
    users = []
    extra = (local.store.get_with_extra("template", template_id, hidden=True) or ({}, {}))[1]
    if extra.get("boundEndpoint"):
        users.append(f"endpoint {extra['boundEndpoint']} (bound)")
    users += [f"pod {p['id']}" for p in local.store.list("pod", hidden=True) if p.get("template") == template_id]
    users += [f"endpoint {e['id']}" for e, x in local.store.list_with_extra("endpoint", hidden=True) if x.get("templateId") == template_id]
    return users


@control("delete", "template")
async def delete_template(request: Request) -> Response:
    local = local_of(request)
    doc = _found(local, "template", request.path_params["id"], "template")
    users = template_users(local, doc["id"])
    if users:
        raise ApiError(400, f"template {doc['id']} is in use by {', '.join(users)}")
    local.store.delete("template", doc["id"])
    return Response(status_code=204)


# ----- network volumes ---------------------------------------------------------------------

def volume_type(local: Local, dc_id: str, wanted: str | None) -> str:
    """The storage tier: as asked, else the data center's first listed tier, else STANDARD.
    The catalog's tier lists are incomplete (RunPod's own example creates HIGH_PERFORMANCE in a
    data center the docs list without it), so any known data center is accepted."""
    dc = local.catalog.data_center(dc_id)
    if dc is None:
        raise ApiError(400, f"data center {dc_id} is not known (see GET /v2/catalog/datacenters)")
    return wanted or (dc.get("networkVolumeTypes") or ["STANDARD"])[0]


def new_volume(local: Local, body: dict, volume_id: str | None = None) -> dict:
    kind = volume_type(local, body["dataCenter"], body.get("type"))
    doc = {"id": volume_id or ids.volume_id(), "name": body["name"], "size": body["size"], "dataCenter": body["dataCenter"], "type": kind}
    (local.volumes_dir / doc["id"]).mkdir(parents=True, exist_ok=True)
    return doc


@control("list", "network_volume")
async def list_volumes(request: Request) -> Response:
    return json_response({"networkVolumes": local_of(request).store.list("network_volume")})


@control("create", "network_volume")
async def create_volume(request: Request) -> Response:
    local = local_of(request)
    body = await _body(request)
    schema_errors(CREATE_VOLUME, body)
    doc = new_volume(local, body)
    local.store.put("network_volume", doc, {}, visible_from(request, time.time()))
    return json_response(doc, 201)


@control("get", "network_volume")
async def get_volume(request: Request) -> Response:
    return json_response(_found(local_of(request), "network_volume", request.path_params["id"], "network volume"))


@control("update", "network_volume")
async def update_volume(request: Request) -> Response:
    local = local_of(request)
    doc = _found(local, "network_volume", request.path_params["id"], "network volume")
    body = await _body(request)
    schema_errors(UPDATE_VOLUME, body)
    if body.get("size", doc["size"]) < doc["size"]:
        raise ApiError(400, f"network volume size may only grow: {body['size']} GB is less than the current {doc['size']} GB")
    new = {**doc, **body}
    local.store.put("network_volume", new)
    return json_response(new)


@control("delete", "network_volume")
async def delete_volume(request: Request) -> Response:
    local = local_of(request)
    doc = _found(local, "network_volume", request.path_params["id"], "network volume")
    local.store.delete("network_volume", doc["id"])
    shutil.rmtree(local.volumes_dir / doc["id"], ignore_errors=True)
    return Response(status_code=204)
