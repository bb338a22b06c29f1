"""Pods (REST v2 `/v2/pods`): the part `gpu serverless warm --cpu` needs: create a (CPU) pod
with a network volume mounted, read it, delete it.

A pod whose env carries `GPUCTL_LOCAL_COMMAND` runs that command through the `PodRunner` it is
given (the runtime's supervisor, which builds the pod's environment); it is RUNNING while the
process lives and EXITED after. A pod without one has nothing to run locally and is EXITED from
the start.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from gpuctl.local.controlplane.endpoint_doc import template_container
from gpuctl.local.controlplane.registries import check_reference
from gpuctl.local.controlplane.requests import RequestRules
from gpuctl.local.controlplane.templates import Templates
from gpuctl.local.errors import Rejected
from gpuctl.local.store import ids
from gpuctl.local.store.db import Store
from gpuctl.local.store.reference import CPU_FLAVORS, Catalog

ACTIONS = {"RUNNING": ["stop", "restart", "terminate"], "EXITED": ["start", "terminate"]}


class PodRunner(Protocol):
    async def start_pod(self, doc: dict, volume_id: str | None, mount: str, on_exit: Callable[[int], None]) -> bool:
        """Run the pod's command, if it has one (False when it has none); Rejected when the
        command cannot start."""
        ...

    def stop_pod(self, pod_id: str) -> None: ...


def view(doc: dict) -> dict[str, Any]:
    out = dict(doc)
    out["actions"] = ACTIONS.get(doc["status"], ["terminate"])
    started = doc.get("startedAt")
    out["runtime"] = {"uptime": int(time.time() - doc["_started"])} if doc["status"] == "RUNNING" and started else None
    return {k: v for k, v in out.items() if not k.startswith("_")}


@dataclass
class Pods:
    store: Store
    catalog: Catalog
    rules: RequestRules
    templates: Templates
    runner: PodRunner

    def get(self, pod_id: str) -> dict:
        return self.store.found("pod", pod_id, "pod")

    def listed(self) -> list[dict]:
        return [view(p) for p in self.store.list("pod")]

    async def create(self, body: Any, visible_at: float) -> dict:
        doc, volume = self._doc(body)
        mount = ((doc["mounts"].get("network") or [{}])[0]).get("path", "")
        if await self.runner.start_pod(doc, volume, mount, self._on_exit(doc["id"])):
            doc |= {"status": "RUNNING", "startedAt": ids.timestamp(), "_started": time.time()}
        self.store.put("pod", doc, {}, visible_at)
        return view(doc)

    def _on_exit(self, pod_id: str) -> Callable[[int], None]:
        def exited(code: int) -> None:
            current = self.store.get("pod", pod_id, hidden=True)
            if current is not None:
                self.store.put("pod", {**current, "status": "EXITED"})

        return exited

    def delete(self, pod_id: str) -> None:
        self.get(pod_id)
        self.runner.stop_pod(pod_id)
        self.store.delete("pod", pod_id)

    def _doc(self, body: Any) -> tuple[dict, str | None]:
        self.rules.check("CreatePodRequest", body)
        body = copy.deepcopy(body)
        if body.get("templateId"):
            template = self.templates.get(body["templateId"])
            body = template_container(template) | {k: v for k, v in body.items() if k != "env"} | {"env": {**template.get("env", {}), **body.get("env", {})}}
        check_reference(self.store, body.get("registry"))
        dc, volume = self._data_center(body)
        doc = {"id": ids.pod_id(), "name": body["name"], "status": "EXITED", "image": body["image"], "args": body.get("args", ""),
               "disk": body.get("disk", 20), "mounts": body.get("mounts", {}), "ports": body.get("ports", []), "env": body.get("env", {}),
               "registry": body.get("registry"), **self._compute(body), "cloud": body.get("cloud", "SECURE"), "dataCenterId": dc,
               "ssh": {"proxy": None, "direct": None}, "template": body.get("templateId"), "cost": 0.0, "locked": False,
               "globalNetworking": {"enabled": False}, "createdAt": ids.timestamp(), "startedAt": None}
        return doc, volume

    def _compute(self, body: dict) -> dict[str, Any]:
        if ("gpu" in body) == ("cpu" in body):
            raise Rejected("specify exactly one of gpu or cpu")
        if "cpu" in body:
            cpu = body["cpu"]
            if cpu["id"] not in CPU_FLAVORS or cpu["vcpuCount"] & (cpu["vcpuCount"] - 1):
                raise Rejected(f"cpu {cpu['id']} with {cpu['vcpuCount']} vCPUs is not a CPU configuration here")
            if (body.get("mounts") or {}).get("persistent"):
                raise Rejected("persistent mounts are not available on CPU pods; mount a network volume")
            return {"cpu": {**cpu, "memory": cpu["vcpuCount"] * CPU_FLAVORS[cpu["id"]]}, "cudaVersion": None}
        if self.catalog.gpu(body["gpu"]["id"]) is None:
            raise Rejected(f"gpu type {body['gpu']['id']} is not known")
        return {"gpu": {"id": body["gpu"]["id"], "count": body["gpu"].get("count", 1)}, "cudaVersion": "12.8"}

    def _data_center(self, body: dict) -> tuple[str, str | None]:
        mounts = body.get("mounts") or {}
        if mounts.get("persistent") and mounts.get("network"):
            raise Rejected("a pod mounts either persistent storage or a network volume, not both")
        network = mounts.get("network") or []
        if network:
            volume = self.store.get("network_volume", network[0]["volumeId"])
            if volume is None:
                raise Rejected(f"network volume {network[0]['volumeId']} not found")
            return volume["dataCenter"], volume["id"]
        return (body.get("dataCenterIds") or ["EU-RO-1"])[0], None
