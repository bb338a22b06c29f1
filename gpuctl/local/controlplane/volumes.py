"""Network volumes (api-notes §4.4): a directory under the data dir per volume. The size rules
live here once for REST v2 and GraphQL alike: a size within the bounds RunPod's OpenAPI
document gives (10 to 4,096 GB), and a volume may grow but never shrink. The data center and
the storage tier never change.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gpuctl.local.controlplane.requests import RequestRules
from gpuctl.local.errors import Rejected
from gpuctl.local.store import ids
from gpuctl.local.store.db import Store
from gpuctl.local.store.reference import Catalog

SIZED = "CreateNetworkVolumeRequest"  # the component whose `size` bounds every volume


@dataclass
class Volumes:
    store: Store
    catalog: Catalog
    rules: RequestRules
    directory: Path

    def get(self, volume_id: str) -> dict:
        return self.store.found("network_volume", volume_id, "network volume")

    def listed(self) -> list[dict]:
        return self.store.list("network_volume")

    def check_size(self, size: int, current: int | None = None) -> None:
        """Within RunPod's bounds, and never smaller than the volume already is."""
        if current is not None and size < current:
            raise Rejected(f"network volume size may only grow: {size} GB is less than the current {current} GB")
        low, high = self.rules.bounds(SIZED, "size")
        if not low <= size <= high:
            raise Rejected(f"network volume size must be from {low} to {high} GB, not {size} GB")

    def create(self, body: Any, visible_at: float) -> dict:
        """A REST v2 create."""
        self.rules.check(SIZED, body)
        return self.add(body["name"], body["size"], body["dataCenter"], body.get("type"), visible_at)

    def add(self, name: str, size: int, data_center: str, tier: str | None, visible_at: float) -> dict:
        """Store a new volume and make its directory."""
        self.check_size(size)
        doc = {"id": ids.volume_id(), "name": name, "size": size, "dataCenter": data_center, "type": self._tier(data_center, tier)}
        (self.directory / doc["id"]).mkdir(parents=True, exist_ok=True)
        self.store.put("network_volume", doc, {}, visible_at)
        return doc

    def _tier(self, dc_id: str, wanted: str | None) -> str:
        """The storage tier: as asked, else the data center's first listed tier, else STANDARD.
        The catalog's tier lists are incomplete (RunPod's own example creates HIGH_PERFORMANCE in a
        data center the docs list without it), so any known data center is accepted."""
        dc = self.catalog.data_center(dc_id)
        if dc is None:
            raise Rejected(f"data center {dc_id} is not known (see GET /v2/catalog/datacenters)")
        return wanted or (dc.get("networkVolumeTypes") or ["STANDARD"])[0]

    def update(self, volume_id: str, body: Any) -> dict:
        """A REST v2 update: name and size only."""
        doc = self.get(volume_id)
        self.rules.check("UpdateNetworkVolumeRequest", body)
        return self.change(doc, name=body.get("name", doc["name"]), size=body.get("size", doc["size"]))

    def change(self, doc: dict, *, name: str, size: int) -> dict:
        self.check_size(size, doc["size"])
        new = {**doc, "name": name, "size": size}
        self.store.put("network_volume", new)
        return new

    def delete(self, volume_id: str) -> None:
        self.store.delete("network_volume", self.get(volume_id)["id"])
        shutil.rmtree(self.directory / volume_id, ignore_errors=True)

    def seed(self, volume: dict) -> None:
        """Insert a v2 object verbatim, with its directory."""
        self.store.put("network_volume", volume)
        (self.directory / volume["id"]).mkdir(parents=True, exist_ok=True)
