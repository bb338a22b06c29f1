"""A live RunPod v2 endpoint read back as gpu.jsonc keys: what `pull` writes field by field and
`import` writes as a whole block.

It is the inverse of the planner's flattening (`gpuctl/plan/fields.py`): declaring the values
returned here makes the planner see no difference, except for what gpu.jsonc cannot say, which
is returned as a `Problem` instead of being guessed. Env values from the account are never
returned as literals: a RunPod secret reference (`{{ RUNPOD_SECRET_name }}`) becomes
`{"secret": "name"}`; everything else is the caller's to decide (pull writes it only over a
literal gpu.jsonc already holds; import writes a placeholder unless told otherwise). gpuctl's
own `GPUCTL_*` env is never returned.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gpuctl.catalog import Catalog
from gpuctl.files import json_in
from gpuctl.model import SECRET_REF, own_env
from gpuctl.v2 import GPUCTL_SETS, env_of, not_as_gpuctl_sets, registry, registry_name, volume_ids

Key = tuple[str, ...]  # a key path inside one serverless block, e.g. ("scaling", "max_workers")

_SCALERS = {"QUEUE_DELAY": ("queue_delay", "queueDelay"), "REQUEST_COUNT": ("request_count", "requestCount")}
_HF = re.compile(r"^https://huggingface\.co/([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)(?::([A-Za-z0-9_./-]+))?$")

GPU_KEYS: tuple[Key, ...] = (("gpu_type",), ("gpu_types",))
FIELD_KEYS: dict[str, tuple[Key, ...]] = {
    "image": (("runpod", "image_name"),),
    "disk": (("runpod", "container_disk_gb"),),
    "gpu.pools": GPU_KEYS,
    "gpu.excludedTypes": GPU_KEYS,
    "workers.min": (("scaling", "min_workers"),),
    "workers.max": (("scaling", "max_workers"),),
    "workers.idleTimeout": (("scaling", "idle_timeout"),),
    "scaling.type": (("runpod", "scaler_type"), ("runpod", "scaler_value"), ("scaling", "idle_timeout")),  # idle timeout counts under queue_delay only
    "scaling.queueDelay": (("runpod", "scaler_value"),),
    "scaling.requestCount": (("runpod", "scaler_value"),),
    "timeout": (("runpod", "execution_timeout_ms"),),
    "flashboot": (("runpod", "flashboot"),),
    "dataCenterIds": (("runpod", "data_center_ids"),),
    "ports": (("runpod", "ports"),),
    "registry": (("runpod", "registry_auth"),),
    "networkVolumes": (("volume",),),
    "modelReferences": (("runpod", "cached_model"),),
}


def config_keys(path: str) -> tuple[Key, ...]:
    """The gpu.jsonc keys that declare one planner field path (none: gpu.jsonc cannot say it)."""
    if path.startswith("env."):
        return () if own_env(path[4:]) else (("runpod", "env", path[4:]),)
    return FIELD_KEYS.get(path, ())


@dataclass(frozen=True)
class Problem:
    """Something of the endpoint that gpu.jsonc cannot declare; `field` is the planner's path."""

    field: str
    message: str


@dataclass
class Reading:
    """The endpoint as gpu.jsonc keys. A key mapped to None is one to leave out of the block."""

    values: dict[Key, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def secret_name(value: Any) -> str | None:
    """`name` for an env value that is exactly a RunPod secret reference, else None."""
    found = SECRET_REF.match(value) if isinstance(value, str) else None
    return found.group(1) if found else None


def account_env(endpoint: dict) -> dict[str, str]:
    """The endpoint's env without gpuctl's own `GPUCTL_*` keys."""
    return {k: v for k, v in env_of(endpoint).items() if not own_env(k)}


def gpu_types(endpoint: dict, catalog: Catalog, current: list[str] = ()) -> tuple[list[str] | None, list[Problem]]:
    """The GPU type ids the endpoint's pools let through (members minus exclusions), primary
    first: the types of `current` that remain keep their order (so a user's primary stays
    first), the others follow pool by pool. None when the pools cannot be written as types."""
    gpu = endpoint.get("gpu") or {}
    pools = list(gpu.get("pools") or [])
    excluded = {str(t).strip() for t in gpu.get("excludedTypes") or []}
    problems = [Problem("gpu.pools", f"pool {p} is not in gpuctl's catalog") for p in pools if p not in catalog.pools]
    allowed = [m for p in pools if p in catalog.pools for m in catalog.pool_members(p) if m not in excluded]
    for pool in (p for p in pools if p in catalog.pools):
        if not [m for m in catalog.pool_members(pool) if m not in excluded]:
            problems.append(Problem("gpu.excludedTypes", f"every GPU type of pool {pool} is excluded"))
    members = {m for p in pools for m in catalog.pool_members(p)}
    stray = sorted(excluded - members)
    if stray:
        problems.append(Problem("gpu.excludedTypes", f"excludes {', '.join(stray)}, which no listed pool holds (deploy would drop the exclusion)"))
    if not pools:
        problems.append(Problem("gpu.pools", "no GPU pools (a CPU endpoint, or no GPU selection at all)"))
    if not allowed:
        return None, problems
    ordered = [g for g in current if g in allowed] + [g for g in allowed if g not in current]
    return ordered, problems


def template_of(image: str | None, catalog: Catalog) -> tuple[str, str | None]:
    """(template, image_name): one of gpuctl's templates when the image is its pinned image
    (image_name None) or another tag of the same repository (image_name that image), else
    custom-image with the image."""
    for name, template in catalog.templates.items():
        if template.image and image == template.image:
            return name, None
    repo = (image or "").rsplit(":", 1)[0]
    for name, template in catalog.templates.items():
        if template.image and "/" in repo and template.image.rsplit(":", 1)[0] == repo:
            return name, image
    return "custom-image", image


def cached_model(endpoint: dict) -> tuple[str | None, list[Problem]]:
    """`org/model[:revision]` from the endpoint's single Hugging Face model reference."""
    refs = endpoint.get("modelReferences") or []
    if not refs:
        return None, []
    found = _HF.match(refs[0]) if len(refs) == 1 and isinstance(refs[0], str) else None
    if not found:
        return None, [Problem("modelReferences", "more than one model reference, or one that is not a Hugging Face repo; gpu.jsonc declares one")]
    repo, revision = found.groups()
    return (repo if revision in (None, "main") else f"{repo}:{revision}"), []


def volume_of(endpoint: dict, volumes: list[dict]) -> tuple[dict | None, list[Problem]]:
    """The attached network volume as {"name", "size", "dataCenter", ...}, or None when none is."""
    ids = volume_ids(endpoint)
    if not ids:
        return None, []
    known = {v.get("id"): v for v in volumes}
    if len(ids) > 1:
        return None, [Problem("networkVolumes", f"{len(ids)} network volumes are attached; gpu.jsonc declares one")]
    if ids[0] not in known:
        return None, [Problem("networkVolumes", f"the attached volume {ids[0]} is not in the account's volume list")]
    return known[ids[0]], []


def read(endpoint: dict, catalog: Catalog, volumes: list[dict], current_gpus: list[str] = (), registries: list[dict] | None = None) -> Reading:
    """Every key but env, `template` and `local` (the callers decide those) as the endpoint has it.
    `registries`: the account's container registry credentials, so that `registry_auth` is the
    credential's name as the console shows it (its id when they were not read, or it is not listed)."""
    out = Reading()
    workers, scaling = endpoint.get("workers") or {}, endpoint.get("scaling") or {}
    out.values[("scaling", "min_workers")] = workers.get("min")
    out.values[("scaling", "max_workers")] = workers.get("max")
    scaler = _SCALERS.get(scaling.get("type"))
    if scaler is None:
        out.problems.append(Problem("scaling.type", f"scaler type {scaling.get('type')!r} is not one gpu.jsonc knows"))
    else:
        out.values[("runpod", "scaler_type")] = scaler[0]
        out.values[("runpod", "scaler_value")] = scaling.get(scaler[1])
        out.values[("scaling", "idle_timeout")] = workers.get("idleTimeout") if scaler[0] == "queue_delay" else None
    out.values[("runpod", "execution_timeout_ms")] = endpoint.get("timeout")
    flashboot = endpoint.get("flashboot")
    out.values[("runpod", "flashboot")] = None if flashboot is None else flashboot == "FLASHBOOT"  # null: no value, not "off"
    out.values[("runpod", "container_disk_gb")] = endpoint.get("disk")
    out.values[("runpod", "image_name")] = endpoint.get("image")
    out.values[("runpod", "data_center_ids")] = list(endpoint.get("dataCenterIds") or [])
    out.values[("runpod", "ports")] = list(endpoint.get("ports") or []) or None
    out.values[("runpod", "registry_auth")] = registry_name(registry(endpoint), registries)
    gpus, problems = gpu_types(endpoint, catalog, list(current_gpus))
    out.problems += problems
    if gpus:
        out.values[("gpu_type",)], out.values[("gpu_types",)] = gpus[0], gpus[1:]
    model, problems = cached_model(endpoint)
    out.problems += problems
    out.values[("runpod", "cached_model")] = model
    volume, problems = volume_of(endpoint, volumes)
    out.problems += problems
    out.values[("volume",)] = {"name": volume.get("name")} if volume else None
    if endpoint.get("type") not in (None, "QUEUE"):
        out.problems.append(Problem("type", f"a {endpoint.get('type')} endpoint; gpu.jsonc declares queue endpoints"))
    if endpoint.get("cpu"):
        out.problems.append(Problem("cpu", "a CPU endpoint; gpu.jsonc declares GPU endpoints"))
    for path, value in not_as_gpuctl_sets(endpoint).items():
        out.problems.append(Problem(path, f"it is {json.dumps(value)} in the account; gpu.jsonc has no key for it, and deploy sets it to "
                                          f"{json.dumps(GPUCTL_SETS[path])} (ADR 36)"))
    return out


def local_command(endpoint: dict, project_dir: Path) -> dict | None:
    """The `local` block of an endpoint the local provider runs from GPUCTL_LOCAL_COMMAND (argv
    as JSON) in GPUCTL_LOCAL_CWD: the cwd relative to the project when it is inside it."""
    env = env_of(endpoint)
    _, argv = json_in(env.get("GPUCTL_LOCAL_COMMAND") or "null")
    if not (isinstance(argv, list) and argv and all(isinstance(a, str) and a for a in argv)):
        return None
    local: dict[str, Any] = {"command": argv}
    cwd = env.get("GPUCTL_LOCAL_CWD")
    if cwd:
        try:
            relative = Path(cwd).resolve().relative_to(project_dir.resolve())
        except ValueError:
            relative = Path(cwd)
        if str(relative) != ".":
            local["cwd"] = str(relative)
    return local


@dataclass
class Block:
    """An endpoint as a new `serverless` block, and what the user must still do for it."""

    block: dict
    placeholders: list[str]  # env keys written as {"secret": KEY}: RunPod secrets to create
    problems: list[Problem]


def block_of(endpoint: dict, catalog: Catalog, volumes: list[dict], *, name: str, literal: set[str],
             project_dir: Path, adopt: str | None, registries: list[dict] | None = None) -> Block:
    """The block that reproduces `endpoint`. Env values are `{"secret": ...}`: a RunPod secret
    reference as it is, any other value as a placeholder named after its key, unless the key is
    in `literal` (the user said it is no secret)."""
    got = read(endpoint, catalog, volumes, registries=registries)
    v = got.values
    template, image_name = template_of(endpoint.get("image"), catalog)
    runpod: dict[str, Any] = {}
    if image_name:
        runpod["image_name"] = image_name
    for key in ("container_disk_gb", "scaler_type", "scaler_value", "execution_timeout_ms", "flashboot", "cached_model", "data_center_ids", "ports", "registry_auth"):
        if v.get(("runpod", key)) not in (None, []):
            runpod[key] = v[("runpod", key)]
    env, placeholders = {}, []
    for key, value in sorted(account_env(endpoint).items()):
        if secret_name(value):
            env[key] = {"secret": secret_name(value)}
        elif key in literal:
            env[key] = value
        else:
            env[key] = {"secret": key}
            placeholders.append(key)
    if env:
        runpod["env"] = env
    block: dict[str, Any] = {"name": name, "template": template}
    if ("gpu_type",) in v:
        block["gpu_type"] = v[("gpu_type",)]
        if v[("gpu_types",)]:
            block["gpu_types"] = v[("gpu_types",)]
    block["scaling"] = {k: v[("scaling", k)] for k in ("min_workers", "max_workers", "idle_timeout") if v.get(("scaling", k)) is not None}
    if v[("volume",)]:
        block["volume"] = v[("volume",)]
    block["runpod"] = runpod
    local = local_command(endpoint, project_dir)
    if local:
        block["local"] = local
    if adopt:
        block["adopt"] = adopt
    return Block(block, placeholders, got.problems)
