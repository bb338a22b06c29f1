"""What gpuctl declares on a RunPod v2 endpoint, and how both sides are flattened to compare.

Desired and observed are both reduced to `{path: value}` with the same normalisation: list
order where it has no meaning, `""` versus `null`, absent lists versus `[]`, `4` versus `4.0`.
Only paths gpuctl declares are compared: gpu.jsonc's keys, and the fields it has no key for at
the value gpuctl creates endpoints with (`GPUCTL_SETS`, ADR 36); other server-side fields
(`createdAt`) never cause a diff. `registry` is declared only by a block that writes
`runpod.registry_auth` (`DECLARED_BY_KEY`): without the key, a credential set in the console
is left alone, and one gpuctl set (its last-applied record says so) is cleared, as any managed
field a user removes (ADR 41; `drift.keys_removed`).
"""

from __future__ import annotations

from typing import Any

from gpuctl import v2
from gpuctl.catalog import Catalog
from gpuctl.model import LOCAL_COMMAND_ENV, LOCAL_CWD_ENV, MARKER_ENV, REDACTED, EndpointSpec, Sensitive, Unresolved, reveal
from gpuctl.plan.model import Unknown

SET_LIKE = frozenset({"ports", "gpu.pools", "gpu.excludedTypes", "gpu.allowedCudaVersions", "dataCenterIds", "networkVolumes", "modelReferences"})
FORCES_REPLACE = frozenset({"type", "cpu"})  # RunPod v2 cannot PATCH the routing type or the compute family
GRAPHQL_ONLY = frozenset({"modelReferences"})  # REST v2 has no field for cached models
SENT_WHOLE = frozenset({"env", "scaling"})  # RunPod v2 replaces these objects on PATCH: a member not sent is removed
# Fields every RunPod v2 endpoint answer carries: its OpenAPI `Endpoint` requires them (and
# `workers.min`/`max`, `gpu.pools` and the `scaling.type` discriminator within). One missing is
# not "changed to null": RunPod stopped sending it (`unreported`), and nothing can say whether
# it moved. Only what the document requires: `image` and `disk` (ContainerConfig) are optional
# there, and an answer that leaves out an optional field must not fail every deploy's check.
# Fields gpu.jsonc has no key for, at the value gpuctl creates every endpoint with (ADR 36;
# `gpuctl.v2.GPUCTL_SETS`): compared like declared fields, so a console edit is drift and
# deploy sets them back.
GPUCTL_SETS = v2.GPUCTL_SETS
# Fields declared only by a block that writes their key, with the value that clears them
# (ADR 41). Without the key, gpuctl leaves the account's value alone, unless its last-applied
# record holds a value it set: then the key was removed from gpu.jsonc, and the plan clears it.
# (`modelReferences`, declared only by `runpod.cached_model`, is not here yet: the plan reads
# it only when a block declares the key.)
DECLARED_BY_KEY: dict[str, Any] = {"registry": None}
ALWAYS_SENT = ("gpu.pools", "workers.min", "workers.max", "scaling.type", "timeout", "flashboot", "dataCenterIds", "networkVolumes")


def removed(declared: dict[str, Any], observed: dict[str, Any]) -> list[str]:
    """The account's members of an object sent whole (`env`, `scaling`) that gpu.jsonc does not
    declare: writing the object removes them (switching the scaler from queue delay to request
    count removes `scaling.queueDelay`). Plan, apply and its read-back all use this one rule, so
    the plan shows every removal the apply makes."""
    return [p for p, v in observed.items() if p.split(".")[0] in SENT_WHOLE and p not in declared and (v is not None or p.startswith("env."))]


def gpu_selection(gpu_types: tuple[str, ...], catalog: Catalog) -> tuple[list[str], list[str]]:
    """RunPod v2 `gpu.pools` (priority order of first appearance) and `gpu.excludedTypes`
    (the other members of those pools that were not listed)."""
    pools = list(dict.fromkeys(catalog.gpus[g].pool for g in gpu_types))
    excluded = sorted(m for p in pools for m in catalog.pool_members(p) if m not in gpu_types)
    return pools, excluded


def model_reference(cached_model: str) -> str:
    repo, _, revision = cached_model.partition(":")
    return f"https://huggingface.co/{repo}:{revision or 'main'}"


def declared_fields(spec: EndpointSpec, project_id: str, catalog: Catalog, target: str, volume_id: str | Unknown | None,
                    registry_id: str | None = None) -> dict[str, Any]:
    """Every field gpuctl manages on this endpoint, flat, before normalisation. `registry_id`:
    the id `runpod.registry_auth` resolves to in the account (None: the block declares none)."""
    pools, excluded = gpu_selection(spec.gpu_types, catalog)
    fields: dict[str, Any] = {
        "type": "QUEUE",
        "image": spec.image,
        "disk": spec.disk_gb,
        "gpu.pools": pools,
        "gpu.excludedTypes": excluded,
        "workers.min": spec.workers_min,
        "workers.max": spec.workers_max,
        "scaling.type": spec.scaler_type,
        "timeout": spec.execution_timeout_ms,
        "flashboot": "FLASHBOOT" if spec.flashboot else "OFF",
        "dataCenterIds": list(spec.data_center_ids),
        "networkVolumes": [volume_id] if volume_id else [],
    }
    if spec.scaler_type == "QUEUE_DELAY":
        fields["workers.idleTimeout"] = spec.idle_timeout
        fields["scaling.queueDelay"] = spec.scaler_value
    else:
        fields["scaling.requestCount"] = spec.scaler_value
    fields.update((path, list(value) if isinstance(value, list) else value) for path, value in GPUCTL_SETS.items())
    fields["ports"] = list(spec.ports or [])
    if registry_id is not None:
        fields["registry"] = registry_id
    if spec.cached_model:
        fields["modelReferences"] = [model_reference(spec.cached_model)]
    env = dict(spec.env) | {MARKER_ENV: project_id}
    if target == "local" and spec.local_command:
        import json

        env[LOCAL_COMMAND_ENV] = json.dumps(list(spec.local_command))
        env[LOCAL_CWD_ENV] = spec.local_cwd or ""
    fields.update({f"env.{key}": value for key, value in sorted(env.items())})
    return fields


def request_body(fields: dict[str, Any], name: str) -> dict[str, Any]:
    """The desired endpoint as one nested RunPod v2 body. GraphQL-only fields stay in it; the
    provider sends them through its GraphQL adapter."""
    body: dict[str, Any] = {"name": name}
    for path, value in fields.items():
        if "." not in path:
            body[path] = value
            continue
        head, rest = path.split(".", 1)
        node = body.setdefault(head, {})
        if head != "env":  # an env name is one key, dots and all
            *parents, rest = rest.split(".")
            for key in parents:
                node = node.setdefault(key, {})
        node[rest] = value
    return body


def create_body(body: dict[str, Any]) -> dict[str, Any]:
    """A desired body as RunPod v2's create takes it: no GraphQL-only field, and no empty CUDA
    floor (the create accepts a version there, or no key; only a PATCH takes `""`, to clear)."""
    out = {k: v for k, v in body.items() if k not in GRAPHQL_ONLY}
    gpu = out.get("gpu")
    if isinstance(gpu, dict) and gpu.get("minCudaVersion") in ("", None):
        out["gpu"] = {k: v for k, v in gpu.items() if k != "minCudaVersion"}
    return out


def observed_fields(endpoint: dict) -> dict[str, Any]:
    """The same paths read off a RunPod v2 endpoint object."""
    gpu = endpoint.get("gpu") or {}
    workers = endpoint.get("workers") or {}
    scaling = endpoint.get("scaling") or {}
    fields: dict[str, Any] = {
        "type": endpoint.get("type") or "QUEUE",
        "image": endpoint.get("image"),
        "disk": endpoint.get("disk"),
        "ports": endpoint.get("ports"),
        "registry": v2.registry(endpoint),
        "args": endpoint.get("args"),
        "gpu.pools": gpu.get("pools") if endpoint.get("gpu") else None,
        "gpu.excludedTypes": [t.strip() for t in gpu.get("excludedTypes") or []],
        "gpu.count": gpu.get("count", 1) if endpoint.get("gpu") else None,
        "gpu.allowedCudaVersions": gpu.get("allowedCudaVersions"),
        "gpu.minCudaVersion": gpu.get("minCudaVersion"),
        "workers.min": workers.get("min"),
        "workers.max": workers.get("max"),
        "workers.idleTimeout": workers.get("idleTimeout"),
        "scaling.type": scaling.get("type"),
        "scaling.queueDelay": scaling.get("queueDelay"),
        "scaling.requestCount": scaling.get("requestCount"),
        "timeout": endpoint.get("timeout"),
        "flashboot": endpoint.get("flashboot"),
        "dataCenterIds": endpoint.get("dataCenterIds"),
        "networkVolumes": endpoint.get("networkVolumes"),
        "modelReferences": endpoint.get("modelReferences"),
    }
    if endpoint.get("cpu"):
        fields["cpu"] = endpoint["cpu"]
    fields.update({f"env.{k}": v for k, v in (endpoint.get("env") or {}).items()})
    return fields


def unreported(endpoint: dict, declared: dict[str, Any]) -> list[str]:
    """The declared paths of `ALWAYS_SENT` that the account's answer does not have at all (the
    key is absent, where a value of null or "" would be a value): they cannot be compared, and
    the planner compares them with nothing. A CPU endpoint has no `gpu` object, and that is a
    difference (of `cpu`), not a field left out."""
    out = []
    for path in ALWAYS_SENT:
        if path not in declared:
            continue
        head, _, member = path.partition(".")
        if head == "gpu" and "gpu" not in endpoint and endpoint.get("cpu"):
            continue
        holder = endpoint.get(head) if member else endpoint
        if not isinstance(holder, dict) or (member or head) not in holder:
            out.append(path)
    return out


def normalise(path: str, value: Any) -> Any:
    """The comparable form of a field value. A set-like field's list compares as a set; a value
    of another type there (an answer or a snapshot holding `true` where a list belongs) compares
    as it is, so the plan shows it rather than ending in a TypeError."""
    if path in SET_LIKE and (not value or isinstance(value, (list, tuple))):
        return sorted((reveal(v) for v in value or []), key=str)
    value = reveal(value)
    return None if value == "" else value


def same(path: str, desired: Any, observed: Any) -> bool:
    """Equal after normalising. An env value that is REDACTED on either side (left out of a
    snapshot, or read from a variable that is not set for a read-only command) cannot be
    compared, so it counts as equal; the caller says so. A value unknown in this run
    (Unresolved) never counts as equal: it may differ (ADR 24)."""
    if isinstance(desired, Unresolved):
        return False
    if type(desired) is type(observed) and desired == observed and (path not in SET_LIKE or type(desired) is list and all(type(v) is str for v in desired)):
        return True  # what most fields of an account in sync are; normalising them changes nothing
    if path.startswith("env.") and desired is not None and REDACTED in (observed, reveal(desired)):
        return True
    return normalise(path, desired) == normalise(path, observed)


def is_sensitive(path: str, desired: Any) -> bool:
    """Env values are shown only when gpu.jsonc holds them as plain literals."""
    return path.startswith("env.") and (desired is None or isinstance(desired, (Sensitive, Unresolved)))


def flatten(body: dict[str, Any]) -> dict[str, Any]:
    """The inverse of `request_body`: a desired v2 body back to `{path: value}` (no name)."""
    flat: dict[str, Any] = {}
    for key, value in body.items():
        if key == "name":
            continue
        if isinstance(value, dict):
            flat.update({f"{key}.{sub}": v for sub, v in value.items()})
        else:
            flat[key] = value
    return flat
