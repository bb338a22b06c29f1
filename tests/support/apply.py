"""A pure, in-memory "apply": what the account looks like after a plan is carried out, the
way RunPod REST v2 would report it. Used by property tests (plan(d, apply(plan(d, o))) is
empty) and to build the matching snapshots of the golden plan cases."""

from __future__ import annotations

import copy
import hashlib

from gpuctl.engine.apply import reveal_body
from gpuctl.model import Observed
from gpuctl.plan.model import Action, Kind, Plan


def _id(seed: str, length: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def _as_v2_endpoint(body: dict, endpoint_id: str) -> dict:
    """The v2 Endpoint a create body turns into (server-filled fields included)."""
    ep = {k: v for k, v in body.items() if k != "modelReferences"}
    ep["id"] = endpoint_id
    base = f"https://api.runpod.ai/v2/{endpoint_id}"
    ep["requestUrls"] = {
        "run": f"{base}/run", "runSync": f"{base}/runsync", "status": f"{base}/status/{{job_id}}",
        "stream": f"{base}/stream/{{job_id}}", "cancel": f"{base}/cancel/{{job_id}}",
        "retry": f"{base}/retry/{{job_id}}", "purgeQueue": f"{base}/purge-queue", "health": f"{base}/health",
    }
    gpu = dict(ep.get("gpu") or {})
    gpu.setdefault("count", 1)
    gpu.setdefault("allowedCudaVersions", [])
    gpu.setdefault("minCudaVersion", None)
    if not gpu.get("excludedTypes"):
        gpu.pop("excludedTypes", None)
    ep["gpu"] = gpu
    ep.setdefault("args", "")
    ep.setdefault("ports", [])
    ep.setdefault("registry", None)
    ep["createdAt"] = "2026-11-27T00:00:00Z"
    if "modelReferences" in body:
        ep["modelReferences"] = body["modelReferences"]
    return ep


def _merge(target: dict, patch: dict) -> dict:
    out = copy.deepcopy(target)
    for key, value in patch.items():
        if key == "env" or not isinstance(value, dict) or not isinstance(out.get(key), dict):
            out[key] = copy.deepcopy(value)
        else:
            out[key] = _merge(out[key], value)
    if "scaling" in patch:
        out["scaling"] = copy.deepcopy(patch["scaling"])
    return out


def apply_plan(plan: Plan, observed: Observed) -> Observed:
    endpoints = {e["id"]: copy.deepcopy(e) for e in observed.endpoints}
    volumes = {v["id"]: copy.deepcopy(v) for v in observed.network_volumes}
    ids: dict[str, str] = {}
    for change in plan.changes:
        if change.kind is Kind.NETWORK_VOLUME and change.action is Action.CREATE:
            vid = _id(change.address, 10)
            ids[f"{change.address}.id"] = vid
            volumes[vid] = {**change.desired, "id": vid, "type": "STANDARD"}
        elif change.kind is Kind.NETWORK_VOLUME and change.action is Action.UPDATE:
            volumes[change.id] = {**volumes[change.id], **change.desired}
    for change in plan.changes:
        if change.kind is not Kind.ENDPOINT:
            continue
        body = reveal_body(change.desired, ids) if change.desired is not None else None
        if change.action in (Action.CREATE, Action.REPLACE):
            endpoints.pop(change.id, None)
            eid = _id(change.address, 14)
            endpoints[eid] = _as_v2_endpoint(body, eid)
        elif change.action is Action.UPDATE:
            endpoints[change.id] = _merge(endpoints[change.id], body)
            if body.get("modelReferences"):
                endpoints[change.id]["modelReferences"] = body["modelReferences"]
        elif change.action is Action.DELETE:
            endpoints.pop(change.id)
    return Observed(tuple(endpoints.values()), tuple(volumes.values()), observed.templates)
