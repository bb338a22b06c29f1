"""Where in gpu.jsonc a planner field is declared: the key the user edits, and its line.

Plans and drift reports name fields by their RunPod v2 path (`workers.idleTimeout`,
`gpu.pools`); the user edits gpu.jsonc keys (`scaling.idle_timeout`, `gpu_type`). `config_keys`
(`from_account`) maps one to the other inside a block; this adds the block's prefix and the
position the loader's source map keeps (ADR 1), so a report can say
`serverless.scaling.idle_timeout (gpu.jsonc:9)`.
"""

from __future__ import annotations

from typing import Any

from gpuctl.config.from_account import config_keys
from gpuctl.config.sourcemap import dotted

# Where a field's keys differ from what `pull` writes: the scaler type is one key, and gpuctl's
# own env is said by other keys (the marker by project_id, the local command by `local`).
_OWN: dict[str, tuple[tuple, ...]] = {
    "image": (("runpod", "image_name"), ("template",)),
    "scaling.type": (("runpod", "scaler_type"),),
    "env.GPUCTL_LOCAL_COMMAND": (("local", "command"),),
    "env.GPUCTL_LOCAL_CWD": (("local", "cwd"),),
}
_TOP: dict[str, tuple] = {"env.GPUCTL_PROJECT": ("project_id",)}  # keys outside any block


class ConfigLocator:
    """`locator(kind, name, path)`: the gpu.jsonc keys of one planner field of one resource, as
    `[{"key", "file", "line"}]`: the candidate keys the file writes (each with its 1-based line),
    or, when it writes none of them (a default), the first with line None; `[]` when gpu.jsonc
    has no key for it (or no block of that name)."""

    def __init__(self, loaded: Any):
        self.source = loaded.source
        self.endpoints = {(b.model.name or loaded.project_id): b.prefix for b in loaded.blocks}
        self.volumes: dict[str, tuple] = {}
        for b in loaded.blocks:
            if b.model.volume:  # False: the block says it needs none
                self.volumes.setdefault(b.model.volume.name, b.prefix)

    def _candidates(self, kind: str, name: str, path: str) -> list[tuple]:
        if kind == "network_volume":
            prefix = self.volumes.get(name)
            return [(*prefix, "volume", "size_gb")] if prefix is not None and path == "size" else []
        if path in _TOP:
            return [_TOP[path]]
        prefix = self.endpoints.get(name)
        if prefix is None:
            return []
        return [(*prefix, *key) for key in _OWN.get(path, config_keys(path))]

    def __call__(self, kind: str, name: str, path: str) -> list[dict]:
        candidates = self._candidates(kind, name, path)
        positions = self.source.sourcemap.positions if self.source.text else {}
        found = [{"key": dotted(k), "file": self.source.display, "line": positions[k][0]} for k in candidates if k in positions]
        if found or not candidates:
            return found
        return [{"key": dotted(candidates[0]), "file": self.source.display, "line": None}]
