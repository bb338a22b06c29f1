"""With a gpu.jsonc: plan against a fresh read of the account (nothing is applied) and look at
every field the plan would change. A difference of form only (empty versus empty, order,
`4` versus `"4"`, a server default, a data center RunPod filled in from a volume) is a
gpuctl bug: it would show as drift on every plan. Real differences are only counted: they
are `deploy --plan`'s business."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gpuctl.doctor.normalise import filled_from_volume, form_only
from gpuctl.doctor.report import Finding, Problem, Verdict
from gpuctl.errors import GpuctlError
from gpuctl.plan import plan as make_plan
from gpuctl.plan.model import Action, Kind
from gpuctl.v2 import data_center, volume_ids
from gpuctl.provider.protocol import Provider

TITLE = "Plan has no differences of form alone"
FIX = ("file a gpuctl issue with this output and a recording (`gpu doctor --record DIR`): "
       "the planner should normalise these fields, or they will show as drift on every plan")


@dataclass(frozen=True)
class PlanInput:
    """What `deploy --plan` would plan with, or why it cannot (a broken gpu.jsonc, a missing
    `${VAR}`); None altogether when there is no gpu.jsonc."""

    desired: Any = None  # gpuctl.model.Desired
    catalog: Any = None
    target: str = "runpod"
    error: GpuctlError | None = None


def _shown(path: str, value: Any) -> str:
    if path.startswith("env."):
        return "(value hidden)"
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def check_plan(provider: Provider, given: PlanInput | None) -> Finding:
    if given is None:
        return Finding("plan", TITLE, Verdict.SKIP, "no gpu.jsonc here: nothing to plan", "run doctor in a project directory, or pass --config, to check the plan too")
    if given.error is not None:
        return Finding("plan", TITLE, Verdict.FAIL, f"cannot plan: {given.error.summary}", given.error.hint or "fix gpu.jsonc (`gpu config validate`)")
    needs_models = any(spec.cached_model for spec in given.desired.endpoints)
    observed = provider.observe(model_references=needs_models)
    plan = make_plan(given.desired, observed, given.catalog, target=given.target)
    centers = {v["id"]: data_center(v) for v in observed.network_volumes if isinstance(v.get("id"), str)}
    odd, real = [], 0
    for change in plan.changes:
        if change.kind != Kind.ENDPOINT or change.action not in (Action.UPDATE, Action.REPLACE):
            continue
        live = next((e for e in observed.endpoints if e.get("id") == change.id), {})
        for field in change.changes:
            reason = None if field.sensitive else (form_only(field.path, field.before, field.after)
                                                     or filled_from_volume(field.path, field.before, field.after, volume_ids(live), centers))
            if reason:
                odd.append(Problem(f"{change.address}: {field.path}", "normalisation", f"account {_shown(field.path, field.before)}, gpu.jsonc {_shown(field.path, field.after)}: {reason}"))
            else:
                real += 1
    details = (f"{len(plan.changes)} resource(s) planned; {real} field difference(s) for real (see `gpu serverless deploy --plan`)",)
    if odd:
        return Finding("plan", TITLE, Verdict.FAIL, f"{len(odd)} field(s) differ only in form: " + "; ".join(p.path for p in odd[:3]), FIX, details, tuple(odd))
    return Finding("plan", TITLE, Verdict.PASS, f"planned {len(plan.changes)} resource(s) against a fresh read; no difference of form alone", details=details)
