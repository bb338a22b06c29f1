"""The observed-state snapshot file: `{"endpoints": [...], "networkVolumes": [...],
"templates": [...]}`, whose items are RunPod REST v2 objects exactly as the list calls return
them. Written by hand for tests and reviews, or captured from a live account."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gpuctl.errors import SnapshotError
from gpuctl.model import REDACTED, Observed
from gpuctl.spelling import did_you_mean

KEYS = {"endpoints": ("id", "name"), "networkVolumes": ("id", "name", "size", "dataCenter"), "templates": ("id", "name")}


def parse_snapshot(data: Any, display: str) -> Observed:
    if not isinstance(data, dict):
        raise SnapshotError(f"{display}: a snapshot is a JSON object", hint='write {"endpoints": [], "networkVolumes": [], "templates": []}')
    for key in data:
        if key not in KEYS:
            raise SnapshotError(f'{display}: unknown key "{key}"', hint=did_you_mean(key, KEYS) or f"the keys are {', '.join(KEYS)}")
    lists = {}
    for key, required in KEYS.items():
        items = data.get(key, [])
        if not isinstance(items, list):
            raise SnapshotError(f"{display}: {key} must be a list of RunPod v2 objects")
        for i, item in enumerate(items):
            missing = [r for r in required if not isinstance(item, dict) or r not in item]
            if missing:
                raise SnapshotError(f"{display}: {key}[{i}] lacks {', '.join(missing)}", hint="items are RunPod REST v2 objects as the list calls return them")
        lists[key] = tuple(items)
    return Observed(lists["endpoints"], lists["networkVolumes"], lists["templates"])


def read_snapshot(path: Path) -> Observed:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise SnapshotError(f"{path} does not exist", hint="capture one with `gpu serverless snapshot > account.json`, or write one by hand") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"{path} is not valid JSON: {exc}") from None
    return parse_snapshot(data, str(path))


def snapshot_document(observed: Observed, shown_env: Callable[[dict, str], bool] | None = None) -> dict:
    """The snapshot of `observed`. With `shown_env`, an endpoint env value is written only when
    `shown_env(endpoint, key)` says so, and is REDACTED otherwise: a snapshot is meant to be
    shared (CI artifacts, fork pull requests) and the account may hold secrets."""
    endpoints = list(observed.endpoints)
    if shown_env is not None:
        endpoints = [{**e, "env": {k: (v if shown_env(e, k) else REDACTED) for k, v in (e.get("env") or {}).items()}} if "env" in e else e for e in endpoints]
    return {"endpoints": endpoints, "networkVolumes": list(observed.network_volumes), "templates": list(observed.templates)}
