"""Plans checked against a policy, made from gpu.jsonc text and an account, for the policy tests."""

from __future__ import annotations

import json
from pathlib import Path

from gpuctl.catalog import load_catalog
from gpuctl.config import build_desired, load_config
from gpuctl.config.policy import Policy
from gpuctl.model import Observed
from gpuctl.plan import plan as make_plan
from gpuctl.plan.model import Plan
from gpuctl.policy.guard import Guard

CATALOG = load_catalog()
GPU = "NVIDIA GeForce RTX 4090"


def block(name: str = "api", gpu: str = GPU, env: dict | None = None, **scaling) -> dict:
    return {"name": name, "template": "custom-image", "gpu_type": gpu, "scaling": {"min_workers": 0, "max_workers": 2} | scaling,
            "runpod": {"image_name": "ghcr.io/example/worker:1.0", "env": env or {}}}


def config(*blocks: dict, policy: dict | None = None) -> dict:
    doc = {"project_id": "demo", "serverless": list(blocks) if len(blocks) > 1 else blocks[0]}
    return doc | ({"policy": policy} if policy is not None else {})


def checked(tmp_path: Path, doc: dict, observed: Observed = Observed(), prune: bool = False, extra: Policy | None = None) -> Plan:
    """The plan of `doc` against `observed`, checked against doc's policy block merged with `extra`."""
    from gpuctl.config.policy import merge

    path = tmp_path / "gpu.jsonc"
    path.write_text(json.dumps(doc, indent=2))
    loaded = load_config(path, catalog=CATALOG)
    desired = build_desired(loaded, {"TOKEN": "x"}, CATALOG)
    plan = make_plan(desired, observed, CATALOG, target="runpod", prune=prune)
    guard = Guard.of(merge(extra, loaded.policy), loaded)
    return guard.check(plan) if guard else plan


def deployed(tmp_path: Path, doc: dict) -> Observed:
    """The account once `doc` is applied: each created endpoint as the v2 list returns it."""
    first = tmp_path / "first"
    first.mkdir()
    plan = checked(first, doc)
    return Observed(endpoints=tuple({**c.desired, "id": f"ep-{c.name}"} for c in plan.changes if c.kind.value == "endpoint"))


def rules(plan: Plan) -> list[tuple[str, str | None, str | None]]:
    return [(v.rule, v.endpoint, v.path) for v in plan.policy.violations]


def where(path: Path, needle: str) -> str:
    """`name:line:col` of the first `needle` in the file at `path`, found in its text."""
    text = path.read_text()
    offset = text.index(needle)
    return f"{path.name}:{text.count(chr(10), 0, offset) + 1}:{offset - text.rfind(chr(10), 0, offset)}"
