"""GraphQL shapes of the stored v2 documents (api-notes §2.2, §10.1): the same endpoint seen
through RunPod's older field names: `gpuIds` as a pool string with `-type` exclusions,
`locations` and `allowedCudaVersions` as comma strings, `env` as `[{key, value}]`, `QB`/`LB`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gpuctl.local.runtime import Local

USER_ID = "user_local"


def env_list(env: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in env.items()]


def gpu_ids(gpu: dict | None) -> str:
    if not gpu:
        return ""
    return ",".join(list(gpu["pools"]) + [f"-{t}" for t in gpu.get("excludedTypes", [])])


def endpoint_view(local: Local, doc: dict, extra: dict) -> dict[str, Any]:
    gpu, cpu = doc.get("gpu"), doc.get("cpu") or []
    volumes = [(v, local.store.get("network_volume", v, hidden=True)) for v in doc.get("networkVolumes", [])]
    refs = [{"networkVolumeId": v, "dataCenterId": d["dataCenter"] if d else None} for v, d in volumes]
    scaling = doc["scaling"]
    template_id = extra.get("templateId")
    live = local.workers.live(doc["id"])
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
        "hubRelease": None, "repo": None, "pods": [{"id": w.id, "desiredStatus": "RUNNING"} for w in live],
        "template": lambda _args: template_view(local, template_id) if template_id else None,
    }


def template_view(local: Local, template_id: str) -> dict[str, Any] | None:
    found = local.store.get_with_extra("template", template_id)
    if found is None:
        return None
    doc, extra = found
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


def volume_view(local: Local, doc: dict) -> dict[str, Any]:
    dc = local.catalog.data_center(doc["dataCenter"]) or {"id": doc["dataCenter"], "name": doc["dataCenter"]}
    return {"id": doc["id"], "name": doc["name"], "size": doc["size"], "dataCenterId": doc["dataCenter"],
            "dataCenter": data_center_view(local, dc)}


def data_center_view(local: Local, dc: dict) -> dict[str, Any]:
    return {"id": dc["id"], "name": dc["name"], "location": dc.get("region", ""), "storageSupport": bool(dc.get("networkVolumeTypes")),
            "gpuAvailability": [{"gpuTypeId": g["id"], "displayName": g["displayName"], "stockStatus": "High"} for g in local.catalog.gpus]}


def gpu_view(gpu: dict) -> dict[str, Any]:
    return {
        "id": gpu["id"], "displayName": gpu["displayName"], "memoryInGb": gpu["memoryInGb"],
        "manufacturer": gpu.get("manufacturer", "NVIDIA"), "maxGpuCount": 8, "cudaCores": 0, "secureCloud": True,
        "communityCloud": True, "securePrice": None, "communityPrice": None, "oneMonthPrice": None, "threeMonthPrice": None,
        "oneWeekPrice": None, "communitySpotPrice": None, "secureSpotPrice": None,
        "lowestPrice": lambda _args: {"minimumBidPrice": None, "uninterruptablePrice": None, "stockStatus": "High"},
    }
