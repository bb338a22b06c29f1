"""Deploy's pre-warm step (`prewarm.enabled`, ADR 0008): which endpoints to warm after an
apply, and the outcome of each. How an endpoint is warmed (a CPU pod or a GPU job, with a
progress view) is the caller's `Warm`; this module decides what and records how it went."""

from __future__ import annotations

from collections.abc import Callable

from gpuctl import prewarm
from gpuctl.errors import ExitCode, GpuctlError
from gpuctl.events import Emit, Note
from gpuctl.model import Desired, EndpointSpec, Observed
from gpuctl.plan.model import Plan
from gpuctl.v2 import owner
from gpuctl.provider.protocol import Provider

Warm = Callable[[EndpointSpec, dict], dict]  # (spec, live endpoint) -> the warm-up's result document; raises GpuctlError
Targets = tuple[list[tuple[EndpointSpec, dict]], list[tuple[EndpointSpec, dict, str]]]


def targets(desired: Desired, plan: Plan, observed: Observed) -> Targets:
    """([(spec, live endpoint)] to warm, [(spec, live endpoint, why)] whose warm is skipped).

    An endpoint with `prewarm.enabled` is warmed when this apply created or changed it, or
    when no pre-warm record in the account matches its configuration (ADR 0008: a failed or
    never-run warm-up is re-attempted, also from a fresh CI runner). A CPU pre-warm with
    nothing to download is skipped; the plan already warned about it."""
    changed = {c.name for c in plan.changes if c.kind.value == "endpoint" and c.action.value in ("create", "update", "replace")}
    live = {e["name"]: e for e in observed.endpoints if owner(e) == desired.project_id}
    warm, skip = [], []
    for spec in desired.endpoints:
        endpoint = live.get(spec.name)
        if not spec.prewarm.enabled or endpoint is None:
            continue
        reason = prewarm.cannot_download(spec)
        if reason:
            if spec.name in changed:
                skip.append((spec, endpoint, reason))
            continue
        done = prewarm.recorded(observed.templates, desired.project_id, endpoint["id"], spec.prewarm.mode, prewarm.spec_digest(spec))
        if spec.name in changed or not done:
            warm.append((spec, endpoint))
    return warm, skip


def run(chosen: Targets, warm: Warm | None, emit: Emit) -> list[dict]:
    """Warm what `targets` chose. One endpoint's failure does not stop the others; each outcome
    is an entry of the result's `prewarm` list. An interrupt stops everything."""
    to_warm, skipped = chosen
    results = []
    for spec, endpoint, reason in skipped:
        emit(Note(f"skipped the pre-warm of {spec.name}: {reason} (see the plan's warning)"))
        results.append({"status": "skipped", **_entry(spec, endpoint), "reason": reason})
    for spec, endpoint in to_warm:
        if warm is None:
            results.append({"status": "skipped", **_entry(spec, endpoint), "reason": "this run does not pre-warm"})
            continue
        emit(Note(f"pre-warming {spec.name} ({spec.prewarm.mode}), as gpu.jsonc asks", level="plain"))
        try:
            doc = warm(spec, endpoint)
        except GpuctlError as exc:
            if exc.exit_code == ExitCode.INTERRUPTED:
                raise
            results.append({"status": "failed", **_entry(spec, endpoint), "error": exc.summary, "detail": exc.detail, "hint": exc.hint})
            continue
        results.append({"status": "warmed", **doc})
    return results


def forget_orphans(provider: Provider, project_id: str, observed: Observed, emit: Emit) -> None:
    """After a confirmed apply, delete this project's pre-warm records whose endpoint is gone:
    a replace or a prune leaves one behind. Housekeeping: a failure is a warning only."""
    from gpuctl.provider.errors import ProviderError

    for record in prewarm.orphaned_records(observed.templates, project_id, {str(e.get("id")) for e in observed.endpoints}):
        try:
            provider.delete_template(record["id"])
        except ProviderError as exc:
            emit(Note(f"could not delete the pre-warm record {record['name']} ({record['id']}) of a deleted endpoint: {exc.summary}", level="warning"))
            continue
        emit(Note(f"deleted the pre-warm record {record['name']}; its endpoint no longer exists"))


def _entry(spec: EndpointSpec, endpoint: dict) -> dict:
    return {"endpoint": {"id": endpoint["id"], "name": spec.name}, "mode": spec.prewarm.mode}
