"""Deploy's pre-warm step (`prewarm.enabled`, ADR 0008): which endpoints to warm after an
apply, warming them, and the error that says which failed and how to retry. `s` is the deploy
Session (gpuctl.cli.deploy)."""

from __future__ import annotations

from gpuctl.errors import GpuctlError


class PrewarmFailed(GpuctlError):
    """The apply is done, but a pre-warm gpu.jsonc asks for failed: exit 1, never silently."""


def prewarm_targets(s, plan, observed) -> tuple[list, list]:
    """([(spec, live endpoint)] to warm, [(spec, live endpoint, why)] whose warm is skipped).

    An endpoint with `prewarm.enabled` is warmed when this apply created or changed it, or
    when no pre-warm record in the account matches its configuration (ADR 0008: a failed or
    never-run warm-up is re-attempted, also from a fresh CI runner). A CPU pre-warm with
    nothing to download is skipped; the plan already warned about it."""
    from gpuctl import prewarm
    from gpuctl.plan.planner import owner

    changed = {c.name for c in plan.changes if c.kind.value == "endpoint" and c.action.value in ("create", "update", "replace")}
    live = {e["name"]: e for e in observed.endpoints if owner(e) == s.desired.project_id}
    warm, skip = [], []
    for spec in s.desired.endpoints:
        endpoint = live.get(spec.name)
        if not spec.prewarm.enabled or endpoint is None:
            continue
        reason = prewarm.cannot_download(spec)
        if reason:
            if spec.name in changed:
                skip.append((spec, endpoint, reason))
            continue
        done = prewarm.recorded(observed.templates, s.desired.project_id, endpoint["id"], spec.prewarm.mode, prewarm.spec_digest(spec))
        if spec.name in changed or not done:
            warm.append((spec, endpoint))
    return warm, skip


def prewarm(s, provider, plan, observed) -> list[dict]:
    """`prewarm.enabled`: warm what prewarm_targets chose. One endpoint's failure does not
    stop the others; each outcome is an entry of the result's `prewarm` list."""
    from gpuctl.warm import run_prewarm
    from gpuctl.warm.signals import Interrupted

    warm, skip = prewarm_targets(s, plan, observed)
    results = []
    for spec, endpoint, reason in skip:
        s.app.note(f"note: skipped the pre-warm of {spec.name}: {reason} (see the plan's warning)")
        results.append({"status": "skipped", **_prewarm_entry(spec, endpoint), "reason": reason})
    for spec, endpoint in warm:
        s.app.note(f"pre-warming {spec.name} ({spec.prewarm.mode}), as gpu.jsonc asks")
        try:
            doc = run_prewarm(s.app, provider, endpoint, spec.prewarm.mode, spec.prewarm.models, cached_model=spec.cached_model)
        except Interrupted:
            raise
        except GpuctlError as exc:
            results.append({"status": "failed", **_prewarm_entry(spec, endpoint), "error": exc.summary,
                            "detail": exc.detail, "hint": exc.hint, "retry": _warm_command(s, spec)})
            continue
        results.append({"status": "warmed", **doc})
    return results


def forget_orphans(s, provider, observed) -> None:
    """After a confirmed apply, delete this project's pre-warm records whose endpoint is gone:
    a replace or a prune leaves one behind. Housekeeping: a failure is a warning only."""
    from gpuctl.provider.errors import ProviderError
    from gpuctl.warm.record import orphaned

    for record in orphaned(observed.templates, s.desired.project_id, {str(e.get("id")) for e in observed.endpoints}):
        try:
            provider.delete_template(record["id"])
        except ProviderError as exc:
            s.app.note(f"warning: could not delete the pre-warm record {record['name']} ({record['id']}) of a deleted endpoint: {exc.summary}")
            continue
        s.app.note(f"note: deleted the pre-warm record {record['name']}; its endpoint no longer exists")


def _prewarm_entry(spec, endpoint: dict) -> dict:
    return {"endpoint": {"id": endpoint["id"], "name": spec.name}, "mode": spec.prewarm.mode}


def _warm_command(s, spec) -> str:
    """The command that repeats this pre-warm, with the flags this deploy ran with."""
    import shlex

    argv = ["gpu", "serverless", "warm", spec.name]
    if spec.prewarm.mode == "cpu":
        argv.append("--cpu")
    if s.opts.provider:
        argv += ["--provider", s.opts.provider]
    if s.opts.config:
        argv += ["--config", s.opts.config]
    return shlex.join(argv)


def prewarm_failure(warmed: list[dict]) -> PrewarmFailed | None:
    """One error for every failed pre-warm: each endpoint's cause, and how to retry it."""
    failed = [w for w in warmed if w["status"] == "failed"]
    if not failed:
        return None
    names = ", ".join(w["endpoint"]["name"] for w in failed)
    lines = []
    for w in failed:
        lines.append(f"{w['endpoint']['name']} ({w['mode']}): {w['error']}")
        lines += [f"  {extra}" for extra in (w["detail"], w["hint"] and f"hint: {w['hint']}") if extra]
    lines.append("The apply itself is done. The next deploy sees that the endpoint was never warmed and tries again.")
    return PrewarmFailed(f"the pre-warm of endpoint {names} failed", detail="\n".join(lines),
                         hint="; ".join(f"fix the cause, then run: {w['retry']}" for w in failed))
