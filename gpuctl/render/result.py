"""The result document of `deploy --json`: what was applied, each endpoint's URL, the exact
outcome (done, failed, not attempted), the pre-warms and the plan that was applied."""

from __future__ import annotations

from typing import Any

from gpuctl.render.document import Locate, to_document

FORMAT_VERSION = "1"


def result_document(result: Any, provider: str, *, locate: Locate | None, error: str | None = None) -> dict:
    """`result` is a gpuctl.engine.flow.DeployResult (after a failed apply: what it reached).
    `locate` (Session.locate) names the gpu.jsonc key behind each changed field, as in the plan
    document `deploy --plan --json` prints: required, so no caller leaves the keys out of the
    plan that was applied (the merge's apply comment links them, gpuctl.github.apply_flow)."""
    outcome, endpoints = result.outcome, result.endpoints
    return _document(provider, error, endpoints, outcome, to_document(result.plan, locate), result.warmed or [], result.health)


def refused_document(provider: str | None, error: str, *, plan: Any = None, locate: Locate | None = None) -> dict:
    """The result document of a `deploy --json` run that ended before its apply began (a policy
    refusal, a lease another run holds, a stale saved plan, gpu.jsonc that does not load, an
    interrupt): `applied` false, `error` the reason (the `error:` line on stderr), an empty
    outcome, and `plan` the plan made (a gpuctl.plan.model.Plan), or None when the run ended
    before one was (`provider` too, before the provider was chosen)."""
    return _document(provider, error, [], None, to_document(plan, locate) if plan is not None else None, [], None)


def _document(provider: str | None, error: str | None, endpoints: list[dict], outcome: Any, plan: dict | None, warmed: list, health: dict | None) -> dict:
    return {
        "prewarm": warmed,
        "format_version": FORMAT_VERSION,
        "applied": error is None,
        "provider": provider,
        "error": error,
        "endpoint_id": endpoints[0]["endpoint_id"] if endpoints else None,
        "endpoints": endpoints,
        "outcome": {
            "done": [{"address": a, "action": act, "id": i} for a, act, i in (outcome.done if outcome else [])],
            "failed": [{"address": a, "action": act, "error": e} for a, act, e in (outcome.failed if outcome else [])],
            "not_attempted": [{"address": a, "action": act} for a, act in (outcome.not_attempted if outcome else [])],
        },
        "plan": plan,
        "health": health,
    }
