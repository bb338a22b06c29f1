"""The result document of `deploy --json`: what was applied, each endpoint's URL, the exact
outcome (done, failed, not attempted), the pre-warms and the plan that was applied.

It is one of gpuctl's own documents, written as made (ADR 38): its secret fields are hidden
where it is built, here. The plan is the plan document, whose env values are hidden as
`deploy --plan --json` hides them; every field that quotes text from outside gpuctl (an error
from the account or RunPod, a config error quoting gpu.jsonc, what a worker answered to the
health gate's smoke job or to a warm-up, an endpoint URL made from a base URL of the
environment) is masked (`mask`: `AppContext.mask`), as the stream would mask it. Everything else
is gpuctl's own and reaches its reader as it is, so an image or a name equal to a protected
value is never rewritten to "(redacted)"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gpuctl.render.document import Locate, to_document

FORMAT_VERSION = "1"

Mask = Callable[[Any], Any]

# The fields of a `prewarm` entry and of a health step that are gpuctl's own: what ran, where,
# how long, the versions, gpuctl's own reasons and commands. Any other field (an error with its
# detail and hint, a job a worker ran, a worker's handler error, the models read from an env
# value), and any field added later, is masked.
PREWARM_OWN = frozenset({"status", "format_version", "provider", "endpoint", "mode", "timeout", "record", "retry", "reason", "seconds", "cost", "pods"})
STEP_OWN = frozenset({"step", "status", "seconds", "version", "workers_on_latest", "workers_total", "route", "from_version", "to_version",
                      "new_version", "reason"})


def result_document(result: Any, provider: str, *, locate: Locate | None, mask: Mask, error: str | None = None) -> dict:
    """`result` is a gpuctl.engine.flow.DeployResult (after a failed apply: what it reached).
    `locate` (Session.locate) names the gpu.jsonc key behind each changed field, as in the plan
    document `deploy --plan --json` prints: required, so no caller leaves the keys out of the
    plan that was applied (the merge's apply comment links them, gpuctl.github.apply_flow).
    `mask` masks the fields that quote text from outside gpuctl (`AppContext.mask`)."""
    outcome, endpoints = result.outcome, result.endpoints
    return _document(provider, error, endpoints, outcome, to_document(result.plan, locate), result.warmed or [], result.health, mask)


def refused_document(provider: str | None, error: str, *, mask: Mask, plan: Any = None, locate: Locate | None = None) -> dict:
    """The result document of a `deploy --json` run that ended before its apply began (a policy
    refusal, a lease another run holds, a stale saved plan, gpu.jsonc that does not load, an
    interrupt): `applied` false, `error` the reason (the `error:` line on stderr), an empty
    outcome, and `plan` the plan made (a gpuctl.plan.model.Plan), or None when the run ended
    before one was (`provider` too, before the provider was chosen)."""
    return _document(provider, error, [], None, to_document(plan, locate) if plan is not None else None, [], None, mask)


def _own(entry: dict, own: frozenset[str], mask: Mask) -> dict:
    """`entry` with every field but those of `own` masked."""
    return {key: value if key in own else mask(value) for key, value in entry.items()}


def _health(health: dict | None, mask: Mask) -> dict | None:
    if health is None:
        return None
    return health | {"endpoints": [e | {"steps": [_own(step, STEP_OWN, mask) for step in e["steps"]]} for e in health["endpoints"]]}


def _document(provider: str | None, error: str | None, endpoints: list[dict], outcome: Any, plan: dict | None, warmed: list, health: dict | None,
              mask: Mask) -> dict:
    return {
        "prewarm": [_own(entry, PREWARM_OWN, mask) for entry in warmed],
        "format_version": FORMAT_VERSION,
        "applied": error is None,
        "provider": provider,
        "error": mask(error),
        "endpoint_id": endpoints[0]["endpoint_id"] if endpoints else None,
        "endpoints": [e | {"url": mask(e["url"])} for e in endpoints],
        "outcome": {
            "done": [{"address": a, "action": act, "id": i} for a, act, i in (outcome.done if outcome else [])],
            "failed": [{"address": a, "action": act, "error": mask(e)} for a, act, e in (outcome.failed if outcome else [])],
            "not_attempted": [{"address": a, "action": act} for a, act in (outcome.not_attempted if outcome else [])],
        },
        "plan": plan,
        "health": _health(health, mask),
    }
