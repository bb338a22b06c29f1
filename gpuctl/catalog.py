"""The GPU, pool, price, data-center and template catalog, read from `state/`.

`state/` is data with its sources named inside each file. The planner maps GPU types to
RunPod v2 pools with it and estimates cost; the config loader rejects unknown GPU types and
data centers with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from gpuctl.errors import GpuctlError


@dataclass(frozen=True)
class GpuType:
    id: str
    display_name: str
    memory_gb: int
    pool: str | None


@dataclass(frozen=True)
class Pool:
    id: str
    memory_gb: int
    flex_usd_per_hour: float | None
    active_usd_per_hour: float | None


@dataclass(frozen=True)
class DataCenter:
    id: str
    name: str
    network_volumes: bool


@dataclass(frozen=True)
class TemplateImage:
    name: str
    image: str | None
    disk_gb: int
    use: str


@dataclass(frozen=True)
class Catalog:
    gpus: dict[str, GpuType]
    pools: dict[str, Pool]
    data_centers: dict[str, DataCenter]
    default_volume_data_center: str
    templates: dict[str, TemplateImage]
    _members: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Each pool's members, sorted once: the planner asks for them per endpoint."""
        members: dict[str, list[str]] = {}
        for g in sorted(self.gpus.values(), key=lambda g: g.id):
            members.setdefault(g.pool, []).append(g.id)
        object.__setattr__(self, "_members", {pool: tuple(ids) for pool, ids in members.items()})

    def pool_members(self, pool: str) -> list[str]:
        return list(self._members.get(pool, ()))


def state_dir() -> Path:
    """Where `state/` is: inside the package a wheel installed (`gpuctl/_state`), or at the root
    of the repository an editable install or a checkout runs from. Neither means a broken install."""
    installed = Path(__file__).parent / "_state"
    checkout = Path(__file__).resolve().parent.parent / "state"
    for candidate in (installed, checkout):
        if candidate.is_dir():
            return candidate
    raise GpuctlError("gpuctl's catalog (GPU types, pools, data centers) is missing from this installation",
                      detail=f"looked for {installed} and {checkout}",
                      hint="reinstall gpuctl from its repository: `pip install .` or `pipx install --force .`")


def _per_hour(per_second: float | None) -> float | None:
    return None if per_second is None else round(per_second * 3600, 4)


@cache
def load_catalog(root: Path | None = None) -> Catalog:
    base = root or state_dir()
    gpu_doc = json.loads((base / "catalog" / "gpus.json").read_text())
    dc_doc = json.loads((base / "catalog" / "datacenters.json").read_text())
    tpl_doc = json.loads((base / "templates.json").read_text())
    gpus = {
        g["id"]: GpuType(g["id"], g["displayName"], g["memoryInGb"], g["pool"])
        for g in gpu_doc["gpus"]
    }
    pools = {
        pid: Pool(pid, p["memoryInGb"], _per_hour(p["flexUsdPerSecond"]), _per_hour(p["activeUsdPerSecond"]))
        for pid, p in gpu_doc["pools"].items()
    }
    dcs = {
        d["id"]: DataCenter(d["id"], d["name"], bool(d["networkVolumeTypes"]))
        for d in dc_doc["dataCenters"]
    }
    templates = {
        name: TemplateImage(name, t["image"], t["disk_gb"], t["use"])
        for name, t in tpl_doc["templates"].items()
    }
    return Catalog(gpus, pools, dcs, dc_doc["default_volume_data_center"], templates)
