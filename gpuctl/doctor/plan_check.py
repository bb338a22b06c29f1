"""With a gpu.jsonc: plan against a fresh read of the account (nothing is applied) and look at
every field the plan would change. A difference of form only (empty versus empty, order,
`4` versus `"4"`, a server default, a data center RunPod filled in from a volume) is a
gpuctl bug: it would show as drift on every plan. Real differences are only counted: they
are `deploy --plan`'s business.

A gpu.jsonc that cannot be planned fails the check with the error as `deploy` reports it: each
located problem (`gpu.jsonc:9:56: serverless.runpod.env.X: ...`) and its hint. A `${VAR}` that
is not set is no error here: doctor writes nothing, so, as for `deploy --plan` (ADR 24), the
value is unknown, its field is not compared, and the check warns, naming each such field and
the variables to export to compare it too. No env value is ever shown."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gpuctl.commands import NONE, Flags, suggest
from gpuctl.doctor.normalise import filled_from_volume, form_only
from gpuctl.doctor.report import Finding, Problem, Verdict
from gpuctl.errors import GpuctlError
from gpuctl.model import Unresolved
from gpuctl.plan import plan as make_plan
from gpuctl.plan.model import Action, Kind
from gpuctl.v2 import data_center, volume_ids
from gpuctl.provider.errors import ProviderError
from gpuctl.provider.protocol import Provider
from gpuctl.redact import clip
from gpuctl.words import agreeing, counted

TITLE = "Plan has no differences of form alone"
def _fix(flags: Flags) -> str:
    return (f"file a gpuctl issue with this output and a recording (`{suggest('doctor', '--record', 'DIR', flags=flags)}`): "
            "the planner should normalise these fields, or they will show as drift on every plan")


@dataclass(frozen=True)
class PlanInput:
    """What `deploy --plan` would plan with, or why it cannot (a broken gpu.jsonc, a missing
    `${VAR}`); None altogether when there is no gpu.jsonc."""

    desired: Any = None  # gpuctl.model.Desired
    catalog: Any = None
    target: str = "runpod"
    error: GpuctlError | None = None
    flags: Flags = NONE  # the run's options, which the commands the check's fix names repeat (gpuctl.commands)


def _shown(path: str, value: Any) -> str:
    if path.startswith("env."):
        return "(value hidden)"
    text = json.dumps(value, default=str)
    return clip(text, 59)


def check_plan(provider: Provider, given: PlanInput | None) -> Finding:
    if given is None:
        return Finding("plan", TITLE, Verdict.SKIP, "no gpu.jsonc here: nothing to plan", "run doctor in a project directory, or pass --config, to check the plan too")
    if given.error is not None:
        return _cannot_plan(given.error, given.flags)
    try:
        observed = given.desired.observe(provider)
    except ProviderError as error:  # an answer not of the shape gpuctl reads (an env as a list): what deploy and drift stop on
        from gpuctl.doctor.shapes import fix_shapes

        return Finding("plan", TITLE, Verdict.FAIL, f"could not plan: {error.summary}", fix_shapes(given.flags), (error.hint,) if error.hint else ())
    plan = make_plan(given.desired, observed, given.catalog, target=given.target, flags=given.flags)
    centers = {v["id"]: data_center(v) for v in observed.network_volumes if isinstance(v.get("id"), str)}
    odd, real = [], 0
    for change in plan.changes:
        if change.kind != Kind.ENDPOINT or change.action not in (Action.UPDATE, Action.REPLACE):
            continue
        live = next((e for e in observed.endpoints if e.get("id") == change.id), {})
        for field in change.changes:
            if isinstance(field.after, Unresolved):
                continue  # not compared: named below, as unknown
            reason = None if field.sensitive else (form_only(field.path, field.before, field.after)
                                                     or filled_from_volume(field.path, field.before, field.after, volume_ids(live), centers))
            if reason:
                odd.append(Problem(f"{change.address}: {field.path}", "normalisation", f"account {_shown(field.path, field.before)}, gpu.jsonc {_shown(field.path, field.after)}: {reason}"))
            else:
                real += 1
    unknown, names = _unknown(given.desired)
    details = (f"{counted(len(plan.changes), 'resource')} planned; {counted(real, 'field difference')} for real (see `{suggest('serverless', 'deploy', '--plan', flags=given.flags)}`)",)
    if unknown:
        details += (f"{counted(len(unknown), 'env value')} not compared: they read variables that are not set in this run",)
    if odd:
        return Finding("plan", TITLE, Verdict.FAIL, f"{counted(len(odd), 'field')} {agreeing(len(odd), 'differs', 'differ')} only in form: " + "; ".join(p.path for p in odd[:3]), _fix(given.flags), details, tuple(odd + unknown))
    if unknown:
        return Finding("plan", TITLE, Verdict.WARN,
                       f"planned {counted(len(plan.changes), 'resource')} against a fresh read; no difference of form alone among the fields compared; "
                       f"not compared: {counted(len(unknown), 'env value')} reading {', '.join('$' + n for n in names)}, not set in this run",
                       f"export {'=... '.join(names)}=... and run `{suggest('doctor', flags=given.flags)}` again to compare them too (deploy needs them set)", details, tuple(unknown))
    return Finding("plan", TITLE, Verdict.PASS, f"planned {counted(len(plan.changes), 'resource')} against a fresh read; no difference of form alone", details=details)


def _unknown(desired: Any) -> tuple[list[Problem], list[str]]:
    """One problem per env value that reads a variable not set in this run (ADR 24), and
    those variables, sorted."""
    found = [(f"endpoint.{spec.name}: env.{key}", value) for spec in desired.endpoints for key, value in spec.env if isinstance(value, Unresolved)]
    return [Problem(path, "unknown", str(value)) for path, value in found], sorted({v for _, value in found for v in value.variables})


def _cannot_plan(error: GpuctlError, flags: Flags = NONE) -> Finding:
    """The check's failure when gpu.jsonc cannot be planned: the error as `deploy` reports it,
    every located problem (file:line:col, key, message) and every hint."""
    diagnostics = getattr(error, "diagnostics", ())
    problems = tuple(Problem(": ".join(part for part in (d.location(), d.path) if part) or "gpu.jsonc", "error", d.message) for d in diagnostics)
    hints = dict.fromkeys(h for h in (*(d.hint for d in diagnostics), error.hint) if h)
    fix = "; ".join(hints) or f"fix gpu.jsonc where the problem is named; `{suggest('serverless', 'deploy', '--plan', flags=flags)}` reports the same error"
    return Finding("plan", TITLE, Verdict.FAIL, f"cannot plan: {error.summary}", fix, (error.detail,) if error.detail else (), problems)
