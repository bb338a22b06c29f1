"""Where in gpu.jsonc a planner field is declared: the key the user edits, and its line.

Plans and drift reports name fields by their RunPod v2 path (`workers.idleTimeout`,
`gpu.pools`); the user edits gpu.jsonc keys (`scaling.idle_timeout`, `gpu_type`). `config_keys`
(`from_account`) maps one to the other inside a block; this adds the block's prefix and the
position the loader's source map keeps (ADR 1), so a report can say
`serverless.scaling.idle_timeout (gpu.jsonc:9)`, and a key a per-run flag sets
(`--idle-timeout`) says so instead of pointing at the line the flag overrode.

A locator costs nothing until it is asked: the blocks are indexed, the source map scanned and
`from_account` imported at the first field it locates, so a plan that changes nothing (the
1,000-endpoint no-op of issue 11) never pays for it (ADR 1, ADR 13).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from gpuctl.config.sourcemap import dotted

# Where a field's keys differ from what `pull` writes: the scaler type is one key, and gpuctl's
# own env is said by other keys (the marker by project_id, the local command by `local`).
_OWN: dict[str, tuple[tuple, ...]] = {
    "name": (("name",), ("renamed_from",)),  # a rename: the new name, and the old one it says
    "image": (("runpod", "image_name"), ("template",)),
    "scaling.type": (("runpod", "scaler_type"),),
    "env.GPUCTL_LOCAL_COMMAND": (("local", "command"),),
    "env.GPUCTL_LOCAL_CWD": (("local", "cwd"),),
}
_TOP: dict[str, tuple] = {"env.GPUCTL_PROJECT": ("project_id",)}  # keys outside any block


class ConfigLocator:
    """`locator(kind, name, path)`: the gpu.jsonc keys of one planner field of one resource, as
    `[{"key", "file", "line"}]`: the candidate keys the file writes (each with its 1-based line)
    or a per-run flag sets (line None, and `"flag": "--idle-timeout"`), or, when neither says
    any of them (a default), the first with line None; `[]` when gpu.jsonc has no key for it
    (or no block of that name)."""

    def __init__(self, loaded: Any):
        self.loaded = loaded
        self.source = loaded.source

    @cached_property
    def endpoints(self) -> dict[str, tuple]:
        return {(b.model.name or self.loaded.project_id): b.prefix for b in self.loaded.blocks}

    @cached_property
    def volumes(self) -> dict[str, tuple]:
        found: dict[str, tuple] = {}
        for b in self.loaded.blocks:
            if b.model.volume:  # False: the block says it needs none
                found.setdefault(b.model.volume.name, b.prefix)
        return found

    @cached_property
    def flags(self) -> dict[tuple, str]:
        """Block-relative key -> the per-run flag that sets it in every block (the loader
        applies an override to each block: `gpuctl.config.loader._with_overrides`)."""
        return {tuple(o.path.split(".")): o.flag for o in self.loaded.overrides}

    def _candidates(self, kind: str, name: str, path: str) -> tuple[tuple | None, list[tuple]]:
        """(the block's prefix or None for a key outside any block, the candidate full keys)."""
        if kind == "network_volume":
            prefix = self.volumes.get(name)
            return prefix, [(*prefix, "volume", "size_gb")] if prefix is not None and path == "size" else []
        if path in _TOP:
            return None, [_TOP[path]]
        prefix = self.endpoints.get(name)
        if prefix is None:
            return None, []
        from gpuctl.config.from_account import config_keys

        return prefix, [(*prefix, *key) for key in _OWN.get(path, config_keys(path))]

    def __call__(self, kind: str, name: str, path: str) -> list[dict]:
        prefix, candidates = self._candidates(kind, name, path)
        if not candidates:
            return []
        display = self.source.display
        positions = self.source.sourcemap.positions if self.source.text else {}
        found = []
        for k in candidates:
            flag = self.flags.get(k[len(prefix):]) if prefix is not None else None
            if flag is not None:
                found.append({"key": dotted(k), "file": display, "line": None, "flag": flag})
            elif k in positions:
                found.append({"key": dotted(k), "file": display, "line": positions[k][0]})
        return found or [{"key": dotted(candidates[0]), "file": display, "line": None}]
