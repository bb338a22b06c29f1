"""The pure rules of pre-warming, shared by the planner and gpuctl.warm (no I/O here).

Which models a CPU pre-warm downloads (docs/prewarm.md): gpu.jsonc `prewarm.models`, else
`MODEL_NAME` in the endpoint's env (with `MODEL_REVISION`, as worker-vllm reads them), else
`runpod.cached_model`. gpuctl.warm adds one more source, the live endpoint's cached model,
which only the account knows; for a declared endpoint it is `cached_model` again.

The pre-warm record (ADR 0008): after a successful warm gpuctl keeps a small RunPod template
named `gpuctl-prewarm-<endpoint id>`, whose env holds the project marker and, per mode, a
digest of what was warmed. It lives in the account, so a fresh CI runner sees it too.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from gpuctl.model import EndpointSpec, Unresolved, reveal
from gpuctl.v2 import env_of, owner

REPO_REF = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(:[A-Za-z0-9_./-]+)?$")
RECORD_PREFIX = "gpuctl-prewarm-"
# A CPU pre-warm's pod (gpuctl.warm.cpu.pod_name): `gpuctl-warm-<endpoint id>-<6 hex>-until<deadline>`
WARM_POD = re.compile(r"gpuctl-warm-([A-Za-z0-9]+)-[0-9a-f]{6}-until([0-9]{1,12})")


WARM_POD_GRACE_S = 300.0  # how long past its run's deadline a warm-up pod is still its run's (clock skew between machines)


def warm_pod_endpoint(name: object) -> str | None:
    """The endpoint whose pre-warm a pod of this name is, None for any other pod."""
    match = WARM_POD.fullmatch(str(name))
    return match.group(1) if match else None


def own_warm_pod(pod: dict, project_id: str | None, endpoint_ids: set[str], now: float | None) -> bool:
    """Whether `pod` is a live CPU pre-warm of one of this project's endpoints (`endpoint_ids`),
    which writes its volume on purpose (gpuctl.plan.volumes.shared): named as one, carrying the
    project's marker (gpuctl.warm.cpu.pod_body writes it), and its run's deadline not long passed
    (`now` None: not known). Names are free text: a pod merely named so, or one its run gave up
    on and that still mounts the volume, is anyone's (review 10, R10-7)."""
    match = WARM_POD.fullmatch(str(pod.get("name")))
    if not match or match.group(1) not in endpoint_ids or project_id is None or owner(pod) != project_id:
        return False
    return now is None or now <= int(match.group(2)) + WARM_POD_GRACE_S


@dataclass(frozen=True)
class ModelList:
    refs: tuple[str, ...]  # "org/name" or "org/name:revision", first occurrence kept
    source: str  # for people: where the list came from


def declared_models(configured: Sequence[str], env: Mapping[str, str], cached_model: str | None) -> ModelList | None:
    """The first of gpu.jsonc `prewarm.models`, env MODEL_NAME, `cached_model` that gives a
    model; None when none does."""
    if configured:
        return ModelList(tuple(dict.fromkeys(configured)), "gpu.jsonc prewarm.models")
    if env.get("MODEL_NAME"):
        revision = env.get("MODEL_REVISION")
        return ModelList((env["MODEL_NAME"] + (f":{revision}" if revision else ""),), "the endpoint's MODEL_NAME")
    if cached_model:
        return ModelList((cached_model,), "gpu.jsonc runpod.cached_model")
    return None


def not_repo_ids(models: ModelList) -> list[str]:
    """The references a CPU pod cannot download: anything that is not `org/name[:revision]`."""
    return [r for r in models.refs if not REPO_REF.match(r)]


def spec_models(spec: EndpointSpec) -> ModelList | None:
    """What a CPU pre-warm of this endpoint downloads, decided from gpu.jsonc alone."""
    return declared_models(spec.prewarm.models, {k: reveal(v) for k, v in spec.env if not isinstance(v, Unresolved)}, spec.cached_model)


def cannot_download(spec: EndpointSpec) -> str | None:
    """Why deploy's CPU pre-warm of this endpoint has nothing to do, or None when it has."""
    if spec.prewarm.mode != "cpu":
        return None
    models = spec_models(spec)
    if models is None:
        return "there is nothing to download: it has no prewarm.models, no MODEL_NAME in runpod.env and no runpod.cached_model"
    if not_repo_ids(models):  # the value is not quoted: MODEL_NAME may come from a ${VAR} secret
        return f"{models.source} is not a Hugging Face repo id (org/name or org/name:revision), so a CPU pod cannot download it"
    return None


# ComfyUI (runpod-workers/worker-comfyui) loads models from the volume's ComfyUI folders, never
# from a Hugging Face cache: models downloaded there by a CPU pre-warm are never read.
UNREAD_CACHE = ("ComfyUI reads its models from the network volume's models/ folders (models/checkpoints, models/unet, ...), "
                "not from the Hugging Face cache a CPU pre-warm fills")


def reads_hub_cache(image: str | None) -> bool:
    """Whether a worker of `image` can read the models a CPU pre-warm downloads (the Hugging
    Face cache layout on the volume): every image but ComfyUI's, as far as gpuctl knows."""
    return "worker-comfyui" not in (image or "").lower()


def record_name(endpoint_id: str) -> str:
    return f"{RECORD_PREFIX}{endpoint_id}"


def record_key(mode: str) -> str:
    """The env key of a mode's digest: a GPU warm-up does not erase what a CPU one recorded."""
    return f"GPUCTL_PREWARM_{mode.upper()}"


def digest(mode: str, models: Iterable[str], image: str | None) -> str:
    """What was warmed: the mode, the models downloaded (none for gpu) and the endpoint's image."""
    doc = {"mode": mode, "models": list(models), "image": image}
    return "sha256:" + hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def spec_digest(spec: EndpointSpec) -> str:
    """The digest a successful pre-warm of this endpoint, as gpu.jsonc declares it, records."""
    models = spec_models(spec) if spec.prewarm.mode == "cpu" else None
    return digest(spec.prewarm.mode, models.refs if models else (), spec.image)


def find_record(templates: Iterable[dict], endpoint_id: str) -> dict | None:
    name = record_name(endpoint_id)
    return next((t for t in templates if t.get("name") == name), None)


def is_record(template: dict) -> bool:
    """A pre-warm record gpuctl wrote: its name and its project marker say so."""
    return str(template.get("name", "")).startswith(RECORD_PREFIX) and bool(owner(template))


def recorded(templates: Iterable[dict], project_id: str, endpoint_id: str, mode: str, expected: str) -> bool:
    """True when this project's record for the endpoint says `mode` warmed exactly `expected`."""
    record = find_record(templates, endpoint_id)
    return record is not None and owner(record) == project_id and env_of(record).get(record_key(mode)) == expected


def orphaned_records(templates: Iterable[dict], project_id: str, endpoint_ids: set[str]) -> list[dict]:
    """This project's records whose endpoint is gone (deleted, replaced or pruned)."""
    return [t for t in templates if is_record(t) and owner(t) == project_id
            and t["name"].removeprefix(RECORD_PREFIX) not in endpoint_ids]
