"""Whether a planned field change is only a matter of form. The planner compares normalised
values (gpuctl.plan.fields); a difference that survives it but that these looser rules call
equal would show as drift on every plan, for ever: a gpuctl bug to file, not drift to fix.
Each rule returns the reason people read."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from gpuctl.doctor.openapi import create_defaults
from gpuctl.model import Sensitive


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value) if isinstance(value, (int, float, str)) else None
    except ValueError:
        return None


def _same_items(before: Any, after: Any) -> bool:
    return isinstance(before, list) and isinstance(after, list) and sorted(map(json.dumps, before)) == sorted(map(json.dumps, after))


def _same_words(before: Any, after: Any) -> bool:
    """`"python -u handler.py"` and `["python", "-u", "handler.py"]` (how args are split)."""
    words = [" ".join(map(str, v)) if isinstance(v, list) else v for v in (before, after)]
    return all(isinstance(w, str) for w in words) and words[0].split() == words[1].split() and type(before) is not type(after)


def form_only(path: str, before: Any, after: Any) -> str | None:
    """Why `before` (the account) and `after` (gpu.jsonc) differ only in form, or None when
    they differ for real."""
    if isinstance(before, Sensitive) or isinstance(after, Sensitive):
        return None
    if _empty(before) and _empty(after):
        return f"both are empty ({json.dumps(before)} and {json.dumps(after)})"
    if _same_items(before, after):
        return "the same items in another order"
    if _number(before) is not None and _number(before) == _number(after) and not (isinstance(before, str) and isinstance(after, str)):
        return "the same number, written differently"
    if isinstance(before, str) and isinstance(after, str) and before.strip().lower() == after.strip().lower():
        return "the same text but for case or spacing"
    if _same_words(before, after):
        return "the same words, split differently"
    if _empty(after) and path in create_defaults() and before == create_defaults()[path]:
        return f"RunPod's default ({json.dumps(before)}) for a field gpu.jsonc leaves unset"
    return None


def filled_from_volume(path: str, before: Any, after: Any, volumes: list[str], volume_data_centers: Mapping[str, str]) -> str | None:
    """RunPod may fill `dataCenterIds` with the data center of an attached network volume when
    gpu.jsonc leaves it empty (unverified: docs/conformance.md)."""
    if path != "dataCenterIds" or not _empty(after) or not isinstance(before, list):
        return None
    centers = sorted({volume_data_centers[v] for v in volumes if v in volume_data_centers})
    return "RunPod filled in the data center of the attached network volume" if centers and sorted(before) == centers else None
