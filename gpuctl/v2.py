"""Read accessors over the objects the account holds (endpoints, network volumes and templates
as RunPod's REST v2 returns them, and snapshots store them), and builders of the request bodies
gpuctl writes outside the plan's own table: templates and their patches, a volume resize, the
pre-warm pod.

This module and `gpuctl.plan.fields` (the table between gpu.jsonc keys and v2 fields) are the
only places outside `gpuctl.provider` that know a v2 field name; everything else asks here
(ADR 0026), so a renamed field is one edit. tests/test_wire_seam.py fails on a raw v2 key
read, or a request body spelling one, anywhere else in the client side.

Each accessor takes the object as it came (a dict) and never raises on a missing or null
field: an account may hold endpoints gpuctl did not write, and RunPod leaves empty fields out.
Nothing here does I/O; it imports only `gpuctl.model`, so every layer may use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gpuctl.model import MARKER_ENV

Obj = Mapping[str, Any]


def env_of(obj: Obj) -> dict[str, Any]:
    """The env of an endpoint or template: `{}` when it has none."""
    return dict(obj.get("env") or {})


def with_env(obj: Obj, env: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an endpoint, template or request body with `env` in place of its env."""
    return {**obj, "env": dict(env)}


def owner(obj: Obj) -> str | None:
    """The project whose marker (GPUCTL_PROJECT, ADR 3) an endpoint or a gpuctl template
    carries, or None for an unmanaged one (or one whose env is not an object: someone may
    have edited a record into nonsense). The one owner-marker lookup of gpuctl."""
    found = obj.get("env")
    return found.get(MARKER_ENV) if isinstance(found, Mapping) else None


def owned_by(obj: Obj, project_id: str | None) -> bool:
    """True when `project_id` is set and the object carries its marker."""
    return project_id is not None and owner(obj) == project_id


def image(obj: Obj) -> str | None:
    return obj.get("image")


def registry(endpoint: Obj) -> str | None:
    """The id of the container registry credential the endpoint pulls its image with; None
    when it has none (RunPod answers null, or leaves the field out)."""
    found = endpoint.get("registry")
    return found if isinstance(found, str) and found else None


def registry_name(registry_id: str | None, registries: Any) -> str | None:
    """What gpu.jsonc writes for a credential id (`runpod.registry_auth`): its name as the
    account's list (`GET /v2/registries`) has it, when no other credential has that name; else
    the id itself (not listed, not read, or a name two credentials share). None for no id."""
    if not registry_id:
        return None
    listed = [r for r in registries or () if isinstance(r, Mapping)]
    found = next((r for r in listed if r.get("id") == registry_id), None)
    name = found.get("name") if found else None
    if isinstance(name, str) and name and sum(1 for r in listed if r.get("name") == name) == 1:
        return name
    return registry_id


def volume_ids(endpoint: Obj) -> list[str]:
    """The network volumes attached to an endpoint, in the account's order."""
    return [v for v in endpoint.get("networkVolumes") or [] if isinstance(v, str)]


def pod_volume_ids(pod: Obj) -> list[str]:
    """The network volumes a pod mounts: v2's `mounts.network[].volumeId` (at most one today),
    and the flat `networkVolumeId` of REST v1 and GraphQL pods, in case an answer carries it."""
    mounts = pod.get("mounts")
    network = mounts.get("network") if isinstance(mounts, dict) else None
    found = [m.get("volumeId") for m in network if isinstance(m, dict)] if isinstance(network, list) else []
    found.append(pod.get("networkVolumeId"))
    return list(dict.fromkeys(v for v in found if isinstance(v, str) and v))


def gpu_pools(endpoint: Obj) -> list[str]:
    """The GPU pools an endpoint may run on, in priority order; `[]` for a CPU endpoint."""
    return list((endpoint.get("gpu") or {}).get("pools") or [])


def excluded_gpu_types(endpoint: Obj) -> list[str]:
    return list((endpoint.get("gpu") or {}).get("excludedTypes") or [])


# Fields gpu.jsonc has no key for (and `ports` when `runpod.ports` is not written, which the
# planner adds), at the value gpuctl creates every endpoint with (ADR 36): 4 GPUs per worker, a
# new start command, a CUDA limit set in the console are drift, and deploy sets them back. `""`
# is "none" for the two strings (`args`: the image's own command; the CUDA floor: the PATCH
# value that clears it), `[]` for the list. An answer that leaves one out holds RunPod's
# default, which is this value.
GPUCTL_SETS: dict[str, Any] = {"args": "", "gpu.count": 1, "gpu.allowedCudaVersions": [], "gpu.minCudaVersion": ""}


def not_as_gpuctl_sets(endpoint: Obj) -> dict[str, Any]:
    """The fields of `GPUCTL_SETS` the endpoint holds at another value, with that value (an
    imported endpoint with 2 GPUs per worker: `{"gpu.count": 2}`)."""
    gpu = endpoint.get("gpu") or {}
    found = {"args": endpoint.get("args") or "", "gpu.count": gpu.get("count", 1) if gpu else 1,
             "gpu.allowedCudaVersions": list(gpu.get("allowedCudaVersions") or []), "gpu.minCudaVersion": gpu.get("minCudaVersion") or ""}
    return {path: value for path, value in found.items() if value != GPUCTL_SETS[path]}


def whole(value: Any) -> int | None:
    """`value` as a whole number: an int, or a float with no fraction part (JSON's 2.0 and 1e2
    are the number 2 and 100, and the planner, comparing values, calls them equal to 2 and
    100); None for anything else. The views count with it, so they read what the planner
    reads: `list` showed `0..?` for `max: 2.0` while drift said in sync (review 9, R9-2)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, float) and value.is_integer() else None


def gpu_count(endpoint: Obj) -> int | None:
    """GPUs per worker: RunPod's default 1 when the answer leaves it out; None when it is there
    but not a count (unknown). Every cost multiplies the per-GPU rate by it."""
    found = whole((endpoint.get("gpu") or {}).get("count", 1))
    return found if found is not None and found >= 1 else None


def is_gpu(endpoint: Obj) -> bool:
    return bool(endpoint.get("gpu"))


def cpu_flavors(endpoint: Obj) -> list[tuple[Any, Any]]:
    """`(flavor id, vCPU count)` of a CPU endpoint's compute."""
    return [(c.get("id"), c.get("vcpuCount")) for c in endpoint.get("cpu") or []]


def workers(endpoint: Obj) -> dict[str, Any] | None:
    """The worker bounds as RunPod holds them (min, max, idleTimeout in seconds); None when
    the endpoint leaves them out."""
    return _copy(endpoint.get("workers"))


def workers_min(endpoint: Obj) -> int | None:
    return (endpoint.get("workers") or {}).get("min")


def workers_max(endpoint: Obj) -> int | None:
    return (endpoint.get("workers") or {}).get("max")


# RunPod's defaults for a worker bound left out (CreateEndpointRequest in its OpenAPI document;
# gpu.jsonc's scaling.min_workers / max_workers default to the same, tests/test_wire_seam.py).
WORKERS_DEFAULT = {"min": 0, "max": 3}


def effective_workers(endpoint: Obj) -> tuple[int | None, int | None]:
    """(min, max) workers the endpoint runs with: a bound the answer leaves out is RunPod's
    default (`WORKERS_DEFAULT`), not 0; one that is there but not a count (null, a string) is
    None, unknown. What costs, lists and status count with; the plan's diff still compares
    only what the account reported."""
    return worker_bounds(endpoint.get("workers"))


def worker_bounds(workers: Any) -> tuple[int | None, int | None]:
    """`effective_workers` of an endpoint's `workers` object alone (as `status --json` shows it)."""
    bounds = workers if isinstance(workers, Mapping) else {}
    return tuple(WORKERS_DEFAULT[k] if k not in bounds else whole(bounds[k]) for k in ("min", "max"))  # type: ignore[return-value]


def scaling(endpoint: Obj) -> dict[str, Any] | None:
    """The scaler (type and its queueDelay or requestCount); None when left out."""
    return _copy(endpoint.get("scaling"))


def _copy(found: Any) -> Any:
    return dict(found) if isinstance(found, Mapping) else found


def flashboot(endpoint: Obj) -> Any:
    return endpoint.get("flashboot")


def model_references(obj: Obj) -> list[str] | None:
    """The cached models of an endpoint or a desired body (Hugging Face URLs); None when it
    says nothing about them (a body without the field leaves them as they are)."""
    found = obj.get("modelReferences")
    return None if found is None else list(found)


def worker_list(listing: Obj) -> list[dict]:
    """The workers of a `provider.workers()` answer."""
    return list(listing.get("workers") or [])


def worker_counts(health: Obj) -> dict[str, int]:
    """`{state: count}` of a `provider.health()` answer."""
    return dict(health.get("workers") or {})


def release_version(releases: Obj) -> int | None:
    """The endpoint's version now, from a `provider.releases()` answer; None when it is left
    out or is not a whole number."""
    found = releases.get("endpointVersion")
    return found if isinstance(found, int) and not isinstance(found, bool) else None


def rollout(releases: Obj) -> dict[str, Any] | None:
    """The rollout of the latest release, from a `provider.releases()` answer, as RunPod sends
    it (`status --json` and `history --json` carry it verbatim); None when left out."""
    found = releases.get("rollout")
    return dict(found) if isinstance(found, Mapping) else None


@dataclass(frozen=True)
class Progress:
    """How far a release has reached the workers (`rollout()`'s fields, None when left out)."""

    in_progress: bool
    on_latest: Any
    total: Any
    percent: Any


def rollout_progress(rollout: Obj | None) -> Progress:
    found = rollout or {}
    return Progress(bool(found.get("inProgress")), found.get("workersOnLatest"), found.get("workersTotal"), found.get("percentOnLatest"))


def size_gb(volume: Obj) -> int:
    """A network volume's size in GB; 0 when the account does not say."""
    return volume.get("size") or 0


def data_center(volume: Obj) -> str | None:
    return volume.get("dataCenter")


# -- request bodies ------------------------------------------------------------------------------

_KEEP = object()


def template_request(name: str, image: str, env: Mapping[str, Any]) -> dict:
    """POST /v2/templates for one of gpuctl's bookkeeping records in the account: the lease
    (ADR 9), the last-applied record (ADR 10) and the pre-warm record (ADR 8) are all RunPod
    templates of this one shape. A pod template (`serverless: false`) is never offered for an
    endpoint, costs nothing and never runs; the name is the identity, since RunPod keeps
    template names unique per account."""
    return {"name": name, "image": image, "env": dict(env), "category": "CPU", "serverless": False, "startSsh": False, "startJupyter": False}


def template_patch(env: Mapping[str, Any], image: Any = _KEEP) -> dict:
    """PATCH /v2/templates/{id}: the whole env (the same result whether RunPod merges env or
    replaces it), and the image when one is given."""
    return {"env": dict(env)} | ({} if image is _KEEP else {"image": image})


def volume_patch(size_gb: int) -> dict:
    """PATCH /v2/network-volumes/{id}: a larger size (a volume only grows)."""
    return {"size": size_gb}


def pod_request(name: str, image: str, args: str, cpu_flavor: str, vcpus: int, disk_gb: int, env: Mapping[str, str],
                data_center_id: str | None, volume_id: str, mount_path: str) -> dict:
    """POST /v2/pods: a CPU pod in the volume's data center with the network volume mounted."""
    return {
        "name": name, "image": image, "args": args, "cpu": {"id": cpu_flavor, "vcpuCount": vcpus}, "disk": disk_gb, "env": dict(env),
        "dataCenterIds": [data_center_id], "mounts": {"network": [{"volumeId": volume_id, "path": mount_path}]},
    }
