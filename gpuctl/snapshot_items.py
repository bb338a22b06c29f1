"""The shape of a snapshot's items: the RunPod REST v2 fields gpuctl reads, with RunPod's types
(openapi-v2 `Endpoint`, `NetworkVolume`, `Template`). Other fields are allowed and kept, so a
snapshot stays exactly what the list calls returned; a field gpuctl reads with the wrong type
is an error naming it, never a crash in the planner.

These models are the rule and explain a wrong item. `gpuctl.snapshot` reads a valid snapshot
without them, by plain checks of the same types (`ITEM_CHECKS` there) that accept only what the
models accept: pydantic costs more to start than a whole plan of a large account (ADR 12)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Item(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class _Gpu(_Item):
    pools: list[str] | None = None
    excludedTypes: list[str] | None = None
    count: int | None = None
    allowedCudaVersions: list[str] | None = None
    minCudaVersion: str | None = None


class _Workers(_Item):
    min: int | None = None
    max: int | None = None
    idleTimeout: int | None = None


class _Scaling(_Item):
    type: str | None = None
    queueDelay: int | float | None = None
    requestCount: int | float | None = None


class Endpoint(_Item):
    id: str
    name: str
    type: str | None = None
    image: str | None = None
    disk: int | None = None
    env: dict[str, str] | None = None
    gpu: _Gpu | None = None
    workers: _Workers | None = None
    scaling: _Scaling | None = None
    timeout: int | None = None
    flashboot: str | None = None
    dataCenterIds: list[str] | None = None
    networkVolumes: list[str] | None = None
    ports: list[str] | None = None
    registry: str | None = None
    modelReferences: list[str] | None = None
    args: str | None = None


class NetworkVolume(_Item):
    id: str
    name: str
    size: int
    dataCenter: str


class Template(_Item):
    id: str
    name: str
    env: dict[str, str] | None = None


class Registry(_Item):
    """A container registry credential as `GET /v2/registries` lists it: no username or password."""

    id: str
    name: str


ITEM_MODELS = {"endpoints": Endpoint, "networkVolumes": NetworkVolume, "templates": Template, "registries": Registry}
