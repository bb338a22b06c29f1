"""Admin routes under `/_admin/`, for the token holder only: fault rules, the request log with
its write counter, reset, status, an endpoint's worker key, and seeding an account from a
snapshot-shaped document.

Seeding inserts RunPod v2 objects verbatim with their ids, so a test can set up an account
(including endpoints owned by another project) without going through the create rules.
"""

from __future__ import annotations

import copy
import os
import shutil

from starlette.requests import Request
from starlette.responses import Response

from gpuctl.local import ids
from gpuctl.local.control import local_of
from gpuctl.local.endpoints import DEFAULT_WORKERS, ordered, release_diff
from gpuctl.local.runtime import Local
from gpuctl.local.web import ApiError, json_body, json_response

SEED_KEYS = {"endpoints": "endpoint", "networkVolumes": "network_volume", "templates": "template"}


async def get_faults(request: Request) -> Response:
    return json_response(local_of(request).faults.describe())


async def add_faults(request: Request) -> Response:
    local = local_of(request)
    local.faults.load(await json_body(request))
    return json_response(local.faults.describe())


async def clear_faults(request: Request) -> Response:
    local = local_of(request)
    local.faults.clear()
    local.faults.reseed(None)
    return json_response(local.faults.describe())


async def get_requests(request: Request) -> Response:
    log = local_of(request).requests
    return json_response({"requests": list(log.entries), "writes": log.writes})


async def reset_requests(request: Request) -> Response:
    local_of(request).requests.reset()
    return json_response({"requests": [], "writes": 0})


async def status(request: Request) -> Response:
    local = local_of(request)
    return json_response({
        "running": True, "pid": os.getpid(), "url": local.base_url, "endpoints": local.store.count("endpoint"),
        "workers": len(local.workers.workers), "data_dir": str(local.data_dir),
    })


async def worker_key(request: Request) -> Response:
    """The key an outside worker (one this server did not start) sends to serve an endpoint:
    the same `RUNPOD_AI_API_KEY` the server hands that endpoint's own workers."""
    local = local_of(request)
    endpoint_id = request.path_params["endpoint_id"]
    if local.store.get("endpoint", endpoint_id, hidden=True) is None:
        raise ApiError(404, f"endpoint {endpoint_id} not found")
    return json_response({"endpointId": endpoint_id, "key": local.worker_key(endpoint_id)})


async def reset(request: Request) -> Response:
    """Empty the state: workers stopped, every object and job deleted, volumes and logs
    removed, fault rules and the request log cleared. The token stays."""
    local = local_of(request)
    await local.workers.stop_all("local provider reset")
    local.store.wipe()
    for directory in (local.volumes_dir, local.logs_dir, local.homes_dir):
        shutil.rmtree(directory, ignore_errors=True)
    local.faults.clear()
    local.faults.reseed(None)
    local.requests.reset()
    return json_response({"reset": True})


SEED_ENDPOINT_DEFAULTS = {
    "type": "QUEUE", "workers": DEFAULT_WORKERS, "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}, "env": {},
    "dataCenterIds": [], "networkVolumes": [], "timeout": 300_000, "flashboot": "OFF",
}


def _seed_endpoint(local: Local, given: dict) -> None:
    """Insert as given; only fields a v2 Endpoint must have and the seed lacks get defaults."""
    doc = copy.deepcopy(SEED_ENDPOINT_DEFAULTS) | {k: v for k, v in given.items() if k != "requestUrls"}
    doc = ordered(doc | {"createdAt": given.get("createdAt") or ids.timestamp()})
    local.store.put("endpoint", doc, {"version": 1})
    local.store.add_release(doc["id"], 1, ids.release_id(), doc["createdAt"], release_diff(None, doc))


async def seed(request: Request) -> Response:
    local = local_of(request)
    body = await json_body(request)
    if not isinstance(body, dict) or set(body) - set(SEED_KEYS):
        raise ApiError(422, 'send {"endpoints": [...], "networkVolumes": [...], "templates": [...]} of RunPod v2 objects')
    for key, items in body.items():
        if not isinstance(items, list) or not all(isinstance(i, dict) and ids.is_id(i.get("id")) for i in items):
            raise ApiError(422, f"{key} must be a list of objects with an id of RunPod's shape ({ids.ID_SHAPE_TEXT})")
    with local.store.transaction():
        for volume in body.get("networkVolumes", []):
            local.store.put("network_volume", volume)
            (local.volumes_dir / volume["id"]).mkdir(parents=True, exist_ok=True)
        for template in body.get("templates", []):
            local.store.put("template", template)
        for endpoint in body.get("endpoints", []):
            _seed_endpoint(local, endpoint)
    local.engine.wake.set()
    return json_response({key: len(body.get(key, [])) for key in SEED_KEYS}, 201)
