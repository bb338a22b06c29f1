"""GraphQL shapes of the stored v2 documents (api-notes §2.2, §10.1): the same endpoint seen
through RunPod's older field names: `gpuIds` as a pool string with `-type` exclusions,
`locations` and `allowedCudaVersions` as comma strings, `env` as `[{key, value}]`, `QB`/`LB`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gpuctl.local.runtime.supervisor import Supervisor
from gpuctl.local.store.db import Store
from gpuctl.local.store.reference import Catalog

USER_ID = "user_local"


def env_list(env: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in env.items()]


def gpu_ids(gpu: dict | None) -> str:
    if not gpu:
        return ""
    return ",".join(list(gpu["pools"]) + [f"-{t}" for t in gpu.get("excludedTypes", [])])


@dataclass
class Views:
    """Reads the stored documents, the catalog, and which workers are live (an endpoint's `pods`)."""

    store: Store
    catalog: Catalog
    workers: Supervisor

    def endpoint(self, doc: dict, extra: dict) -> dict[str, Any]:
        return endpoint_view(doc, extra, self.volume_refs(doc), [w.id for w in self.workers.live(doc["id"])], self.template)

    def volume_refs(self, doc: dict) -> list[dict[str, Any]]:
        volumes = [(v, self.store.get("network_volume", v, hidden=True)) for v in doc.get("networkVolumes", [])]
        return [{"networkVolumeId": v, "dataCenterId": d["dataCenter"] if d else None} for v, d in volumes]

    def template(self, template_id: str) -> dict[str, Any] | None:
        found = self.store.get_with_extra("template", template_id)
        return None if found is None else template_view(*found)

    def volume(self, doc: dict) -> dict[str, Any]:
        dc = self.catalog.data_center(doc["dataCenter"]) or {"id": doc["dataCenter"], "name": doc["dataCenter"]}
        return {"id": doc["id"], "name": doc["name"], "size": doc["size"], "dataCenterId": doc["dataCenter"],
                "dataCenter": self.data_center(dc)}

    def data_center(self, dc: dict) -> dict[str, Any]:
        return {"id": dc["id"], "name": dc["name"], "location": dc.get("region", ""), "storageSupport": bool(dc.get("networkVolumeTypes")),
                "gpuAvailability": [{"gpuTypeId": g["id"], "displayName": g["displayName"], "stockStatus": "High"} for g in self.catalog.gpus]}


def endpoint_view(doc: dict, extra: dict, refs: list[dict[str, Any]], pods: list[str], template: Any) -> dict[str, Any]:
    """An endpoint in GraphQL's names; `template(id)` reads its template when it is selected."""
    gpu, cpu = doc.get("gpu"), doc.get("cpu") or []
    scaling = doc["scaling"]
    template_id = extra.get("templateId")
    return {
        "id": doc["id"], "name": doc["name"], "gpuIds": gpu_ids(gpu), "gpuCount": gpu["count"] if gpu else 0,
        "idleTimeout": doc["workers"].get("idleTimeout", 5), "locations": ",".join(doc.get("dataCenterIds", [])),
        "networkVolumeId": refs[0]["networkVolumeId"] if refs else None, "networkVolumeIds": refs,
        "networkVolume": {"id": refs[0]["networkVolumeId"], "dataCenterId": refs[0]["dataCenterId"]} if refs else None,
        "scalerType": scaling["type"], "scalerValue": int(scaling.get("queueDelay", scaling.get("requestCount", 4))),
        "templateId": template_id, "type": "LB" if doc.get("type") == "LOAD_BALANCER" else "QB", "userId": USER_ID,
        "version": int(extra.get("version", 1)), "workersMin": doc["workers"]["min"], "workersMax": doc["workers"]["max"],
        "workersStandby": 0, "workersPFBTarget": extra.get("workersPFBTarget", 0), "flashBootType": doc.get("flashboot", "OFF"),
        "allowedCudaVersions": ",".join(gpu["allowedCudaVersions"]) if gpu else "", "minCudaVersion": gpu["minCudaVersion"] if gpu else None,
        "executionTimeoutMs": doc.get("timeout", 0), "instanceIds": [f"{c['id']}-{c['vcpuCount']}-{c['memory']}" for c in cpu],
        "computeType": "CPU" if cpu else "GPU", "modelReferences": extra.get("modelReferences", []),
        "compliance": extra.get("compliance", []), "aiKey": None, "createdAt": doc.get("createdAt"),
        "env": env_list(doc.get("env", {})), "activeBuildid": None, "idePodId": None, "flashEnvironmentId": None,
        "hubRelease": None, "repo": None, "pods": [{"id": p, "desiredStatus": "RUNNING"} for p in pods],
        "template": lambda _args: template(template_id) if template_id else None,
    }


def template_view(doc: dict, extra: dict) -> dict[str, Any]:
    persistent = (doc.get("mounts") or {}).get("persistent") or {}
    return {
        "id": doc["id"], "name": doc["name"], "imageName": doc["image"], "dockerArgs": doc.get("args", ""),
        "ports": ",".join(doc.get("ports", [])), "volumeMountPath": extra.get("volumeMountPath", persistent.get("path", "")),
        "volumeInGb": extra.get("volumeInGb", persistent.get("size", 0)), "containerDiskInGb": doc.get("disk", 0),
        "containerRegistryAuthId": doc.get("registry") or "", "startJupyter": doc.get("startJupyter", False),
        "startSsh": doc.get("startSsh", False), "startScript": extra.get("startScript", ""), "isServerless": doc.get("serverless", False),
        "isPublic": doc.get("public", False), "isRunpod": False, "readme": extra.get("readme", ""),
        "advancedStart": extra.get("advancedStart", False), "category": doc.get("category", "NVIDIA"),
        "boundEndpointId": extra.get("boundEndpoint"), "env": env_list(doc.get("env", {})),
        "portsConfig": [{"port": p.split("/")[0], "name": p} for p in doc.get("ports", [])],
    }


def gpu_view(gpu: dict) -> dict[str, Any]:
    return {
        "id": gpu["id"], "displayName": gpu["displayName"], "memoryInGb": gpu["memoryInGb"],
        "manufacturer": gpu.get("manufacturer", "NVIDIA"), "maxGpuCount": 8, "cudaCores": 0, "secureCloud": True,
        "communityCloud": True, "securePrice": None, "communityPrice": None, "oneMonthPrice": None, "threeMonthPrice": None,
        "oneWeekPrice": None, "communitySpotPrice": None, "secureSpotPrice": None,
        "lowestPrice": lambda _args: {"minimumBidPrice": None, "uninterruptablePrice": None, "stockStatus": "High"},
    }
