"""REST v2 `/v2/pods`: the part `gpu serverless warm --cpu` needs: create a (CPU) pod with a
network volume mounted, read it, delete it.

A pod whose env carries `GPUCTL_LOCAL_COMMAND` runs that command (in `GPUCTL_LOCAL_CWD`, else
its own private home) with the environment `workerenv.pod_env` builds: the pod's env, the volume
directory in `RUNPOD_VOLUME_PATH` and the declared mount path in `GPUCTL_LOCAL_MOUNT_PATH`,
never the server's own environment; it is RUNNING while the process lives and EXITED after. A pod
without one has nothing to run locally and is EXITED from the start.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gpuctl.local import ids
from gpuctl.local.catalog import CPU_FLAVORS
from gpuctl.local.control import control, local_of, visible_from
from gpuctl.local.endpoints import schema_errors, template_container
from gpuctl.local.requests_v2 import CREATE_POD
from gpuctl.local.routes_serverless import log_stream
from gpuctl.local.runtime import Local
from gpuctl.local.web import ApiError, json_body, json_response
from gpuctl.local.workerenv import SpawnError, command_of, has_command, pod_env

ACTIONS = {"RUNNING": ["stop", "restart", "terminate"], "EXITED": ["start", "terminate"]}


def view(doc: dict) -> dict[str, Any]:
    out = dict(doc)
    out["actions"] = ACTIONS.get(doc["status"], ["terminate"])
    started = doc.get("startedAt")
    out["runtime"] = {"uptime": int(time.time() - doc["_started"])} if doc["status"] == "RUNNING" and started else None
    return {k: v for k, v in out.items() if not k.startswith("_")}


def _compute(local: Local, body: dict) -> dict[str, Any]:
    if ("gpu" in body) == ("cpu" in body):
        raise ApiError(400, "specify exactly one of gpu or cpu")
    if "cpu" in body:
        cpu = body["cpu"]
        if cpu["id"] not in CPU_FLAVORS or cpu["vcpuCount"] & (cpu["vcpuCount"] - 1):
            raise ApiError(400, f"cpu {cpu['id']} with {cpu['vcpuCount']} vCPUs is not a CPU configuration here")
        if (body.get("mounts") or {}).get("persistent"):
            raise ApiError(400, "persistent mounts are not available on CPU pods; mount a network volume")
        return {"cpu": {**cpu, "memory": cpu["vcpuCount"] * CPU_FLAVORS[cpu["id"]]}, "cudaVersion": None}
    if local.catalog.gpu(body["gpu"]["id"]) is None:
        raise ApiError(400, f"gpu type {body['gpu']['id']} is not known")
    return {"gpu": {"id": body["gpu"]["id"], "count": body["gpu"].get("count", 1)}, "cudaVersion": "12.8"}


def _data_center(local: Local, body: dict) -> tuple[str, str | None]:
    mounts = body.get("mounts") or {}
    if mounts.get("persistent") and mounts.get("network"):
        raise ApiError(400, "a pod mounts either persistent storage or a network volume, not both")
    network = mounts.get("network") or []
    if network:
        volume = local.store.get("network_volume", network[0]["volumeId"])
        if volume is None:
            raise ApiError(400, f"network volume {network[0]['volumeId']} not found")
        return volume["dataCenter"], volume["id"]
    return (body.get("dataCenterIds") or ["EU-RO-1"])[0], None


def pod_doc(local: Local, body: Any) -> tuple[dict, str | None]:
    schema_errors(CREATE_POD, body)
    body = copy.deepcopy(body)
    if body.get("templateId"):
        template = local.store.get("template", body["templateId"])
        if template is None:
            raise ApiError(404, f"template {body['templateId']} not found")
        body = template_container(template) | {k: v for k, v in body.items() if k != "env"} | {"env": {**template.get("env", {}), **body.get("env", {})}}
    dc, volume = _data_center(local, body)
    doc = {"id": ids.pod_id(), "name": body["name"], "status": "EXITED", "image": body["image"], "args": body.get("args", ""),
           "disk": body.get("disk", 20), "mounts": body.get("mounts", {}), "ports": body.get("ports", []), "env": body.get("env", {}),
           "registry": body.get("registry"), **_compute(local, body), "cloud": body.get("cloud", "SECURE"), "dataCenterId": dc,
           "ssh": {"proxy": None, "direct": None}, "template": body.get("templateId"), "cost": 0.0, "locked": False,
           "globalNetworking": {"enabled": False}, "createdAt": ids.timestamp(), "startedAt": None}
    return doc, volume


async def _start(local: Local, doc: dict, volume: str | None) -> None:
    argv, cwd = command_of(doc["env"])
    mount = ((doc["mounts"].get("network") or [{}])[0]).get("path", "")
    env = pod_env(local, doc, volume, mount)

    def exited(code: int) -> None:
        current = local.store.get("pod", doc["id"], hidden=True)
        if current is not None:
            local.store.put("pod", {**current, "status": "EXITED"})

    await local.workers.run_pod(doc["id"], argv, cwd, env, exited)
    doc |= {"status": "RUNNING", "startedAt": ids.timestamp(), "_started": time.time()}


@control("create", "pod")
async def create_pod(request: Request) -> Response:
    local = local_of(request)
    doc, volume = pod_doc(local, await json_body(request))
    if has_command(doc["env"]):
        try:
            await _start(local, doc, volume)
        except SpawnError as exc:
            raise ApiError(400, str(exc)) from None
    local.store.put("pod", doc, {}, visible_from(request, time.time()))
    return json_response(view(doc), 201)


@control("list", "pod")
async def list_pods(request: Request) -> Response:
    return json_response({"pods": [view(p) for p in local_of(request).store.list("pod")]})


@control("get", "pod")
async def get_pod(request: Request) -> Response:
    doc = local_of(request).store.get("pod", request.path_params["id"])
    if doc is None:
        raise ApiError(404, f"pod {request.path_params['id']} not found")
    return json_response(view(doc))


@control("delete", "pod")
async def delete_pod(request: Request) -> Response:
    local = local_of(request)
    if local.store.get("pod", request.path_params["id"]) is None:
        raise ApiError(404, f"pod {request.path_params['id']} not found")
    local.workers.stop_pod(request.path_params["id"])
    local.store.delete("pod", request.path_params["id"])
    return Response(status_code=204)


@control("get", "pod")
async def pod_logs(request: Request) -> Response:
    local = local_of(request)
    pod_id = request.path_params["id"]
    if local.store.get("pod", pod_id) is None:
        raise ApiError(404, f"pod {pod_id} not found")
    return log_stream(request, local.logs_dir / "pods" / f"{pod_id}.jsonl", pod_id, lambda: pod_id in local.workers.pods)
