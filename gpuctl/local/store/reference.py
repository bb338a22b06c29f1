"""The reference data the local provider reads from the repository's `state/`: the GPU types,
pools, data centers and CPU flavours of `state/catalog/`, and RunPod's OpenAPI document
`state/runpod/openapi-v2.json`.

The same files feed the planner, but the local provider reads them itself: it shares data with
the client side, never code. A laptop has every GPU "in stock"; prices are the indicative
serverless pool rates.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

# RAM per vCPU by flavour (api-notes §8.8: cpu3g x4, cpu3c/cpu5c x2; cpu5g as its g sibling).
CPU_FLAVORS = {"cpu3c": 2, "cpu3g": 4, "cpu5c": 2, "cpu5g": 4}
FALLBACK_GPU = "NVIDIA GeForce RTX 4090"


def state_dir() -> Path:
    """Where `state/` is: inside the package a wheel installed (`gpuctl/_state`), or at the root
    of the checkout an editable install runs from."""
    package = Path(__file__).resolve().parents[2]
    installed, checkout = package / "_state", package.parent / "state"
    return installed if installed.is_dir() else checkout


def openapi_path() -> Path:
    return state_dir() / "runpod" / "openapi-v2.json"


class Catalog:
    """GPU types, pools and data centers, read on first use: a server answering its first
    status call does not need them, so start-up does not pay for them."""

    def __init__(self, root: Path):
        self.root = root

    @cached_property
    def _gpu_doc(self) -> dict:
        return json.loads((self.root / "catalog" / "gpus.json").read_text())

    @cached_property
    def gpus(self) -> tuple[dict, ...]:
        return tuple(self._gpu_doc["gpus"])

    @cached_property
    def pools(self) -> dict[str, dict]:
        return dict(self._gpu_doc["pools"])

    @cached_property
    def data_centers(self) -> tuple[dict, ...]:
        return tuple(json.loads((self.root / "catalog" / "datacenters.json").read_text())["dataCenters"])

    def gpu(self, gpu_id: str) -> dict | None:
        return next((g for g in self.gpus if g["id"] == gpu_id), None)

    def pool_members(self, pool: str) -> list[str]:
        return [g["id"] for g in self.gpus if g["pool"] == pool]

    def data_center(self, dc_id: str) -> dict | None:
        return next((d for d in self.data_centers if d["id"] == dc_id), None)

    def first_gpu(self, pools: list[str], excluded: list[str]) -> str:
        """The GPU type a worker of this selection is "placed" on: the first one allowed."""
        for pool in pools:
            for member in self.pool_members(pool):
                if member not in excluded:
                    return member
        return FALLBACK_GPU
