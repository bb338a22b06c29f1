"""The deploy flow: plan, show, confirm, apply, verify. The click options live in
`serverless.py`; this module is imported only when deploy runs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from gpuctl.catalog import load_catalog
from gpuctl.cli import planning
from gpuctl.cli.connect import connect
from gpuctl.cli.context import AppContext
from gpuctl.config import build_desired, load_config
from gpuctl.engine.apply import Engine
from gpuctl.engine.journal import Journal
from gpuctl.cli.prewarming import forget_orphans, prewarm, prewarm_failure, prewarm_targets
from gpuctl.engine.lease import name_claim, project_lease
from gpuctl.engine.lock import ProjectLock
from gpuctl.errors import ExitCode, GpuctlError, UsageError
from gpuctl.model import Sensitive
from gpuctl.plan import plan as make_plan
from gpuctl.render.document import dumps, read_saved, to_document
from gpuctl.snapshot import read_snapshot


class StalePlan(GpuctlError):
    pass


class InconsistentResult(GpuctlError):
    pass


@dataclass
class DeployOptions:
    plan_only: bool
    observed: str | None
    config: str | None
    fmt: str
    detailed_exitcode: bool
    prune: bool
    provider: str | None
    yes: bool
    out: str | None
    from_plan: str | None
    lock_timeout: float
    break_lock: bool
    json_result: bool
    overrides: dict


@dataclass
class Session:
    """Everything one deploy run has resolved before talking to the account."""

    app: AppContext
    opts: DeployOptions
    catalog: object
    desired: object
    target: str
    project_dir: Path
    snapshot: object | None = None  # gpuctl.snapshot.Snapshot, under --observed

    def plan(self, observed):
        return make_plan(self.desired, observed, self.catalog, target=self.target, prune=self.opts.prune)

    @property
    def needs_model_references(self) -> bool:
        return any(spec.cached_model for spec in self.desired.endpoints)


def session(app: AppContext, opts: DeployOptions) -> Session:
    """Load gpu.jsonc and choose the provider as deploy does; public because `drift` plans
    with exactly this session."""
    catalog = load_catalog()
    path, display = planning.config_path(app, opts.config)
    loaded = load_config(path, planning.overrides(opts.overrides), catalog, display, flags_may_replace=opts.config is None)
    desired = build_desired(loaded, app.environ, catalog)
    for spec in desired.endpoints:
        for _, value in spec.env:
            if isinstance(value, Sensitive):
                app.protect(value.value)
    snapshot = None
    if opts.observed:
        snapshot_path, shown = planning.config_path(app, opts.observed)
        snapshot = read_snapshot(snapshot_path)
        target, _ = planning.snapshot_provider(app, opts.provider, loaded.provider, snapshot.provider, shown)
    else:
        target, _ = planning.choose_provider(app, opts.provider, loaded.provider)
    return Session(app, opts, catalog, desired, target, path.resolve().parent, snapshot)


def run(app: AppContext, opts: DeployOptions) -> int:
    s = session(app, opts)
    if opts.observed:
        if not (opts.plan_only or opts.out):
            raise UsageError("--observed plans against a snapshot and cannot apply", hint="add --plan, or drop --observed to deploy to the account")
        return _show_plan(s, s.plan(s.snapshot.observed))
    provider = connect(app, s.target)
    try:
        if opts.plan_only or opts.out:
            return _show_plan(s, s.plan(provider.observe(s.needs_model_references)))
        return _apply(s, provider)
    finally:
        provider.close()


def _show_plan(s: Session, plan) -> int:
    if s.opts.out:
        Path(s.opts.out).write_text(dumps(to_document(plan)))
        s.app.note(f"saved the plan to {s.opts.out}; apply exactly it with: gpu serverless deploy --from-plan {s.opts.out}")
    planning.write_plan(s.app, plan, s.opts.fmt)
    return ExitCode.CHANGES if s.opts.detailed_exitcode and not plan.in_sync else ExitCode.OK


def _check_saved(s: Session, saved: dict, plan) -> None:
    fresh = to_document(plan)
    if saved.get("observed_digest") != fresh["observed_digest"]:
        raise StalePlan("the account changed since the plan was made; refusing to apply it", hint="make a new plan (deploy --plan --out FILE) and review it")
    same = ("project_id", "provider", "prune", "resource_changes")
    if any(saved.get(k) != fresh[k] for k in same):
        raise StalePlan("gpu.jsonc or the environment changed since the plan was made; refusing to apply it", hint="make a new plan and review it")


def _confirm(s: Session) -> bool:
    if s.opts.yes or s.opts.json_result or s.opts.from_plan:
        return True
    if not (s.app.stdin_tty and s.app.stdout_tty):
        raise UsageError("deploy needs confirmation but there is no terminal to ask on", hint="review the plan, then pass -y (or --json) to apply without asking")
    import click

    return click.confirm("Apply these changes?", default=False, err=True)


def _apply(s: Session, provider) -> int:
    app, opts = s.app, s.opts
    saved = read_saved(Path(opts.from_plan)) if opts.from_plan else None
    lock = ProjectLock(s.project_dir / ".gpu" / "deploy.lock", "gpu serverless deploy")
    lock.acquire(opts.lock_timeout, on_wait=lambda m: app.note(m))
    if lock.interrupted:
        from gpuctl.engine.lock import describe

        app.note(f"note: the previous deploy, {describe(lock.interrupted)}, did not finish; its unfinished writes are checked before anything is created")
    try:
        observed = provider.observe(s.needs_model_references)
        plan = s.plan(observed)
        if saved is not None:
            _check_saved(s, saved, plan)
        if not opts.json_result:
            planning.write_plan(app, plan, "text" if opts.fmt == "json" else opts.fmt)
        if not plan.has_changes:
            if prewarm_targets(s, plan, observed)[0] and not _confirm(s):
                app.note("cancelled: nothing was changed or warmed")
                return ExitCode.ERROR
            return _result(s, provider, plan, None, observed, prewarm(s, provider, plan, observed))
        reviewed = not (opts.yes or opts.json_result or saved is not None)
        if not _confirm(s):
            app.note("cancelled: nothing was changed")
            return ExitCode.ERROR
        lease = project_lease(provider, s.desired.project_id, "gpu serverless deploy", app.note)
        lease.acquire(opts.lock_timeout, opts.break_lock)
        lease.keep_alive()
        try:
            plan, observed = _replan(s, provider, plan, saved, reviewed)
            if not plan.has_changes:
                return _result(s, provider, plan, None, observed)
            return _execute(s, provider, plan)
        finally:
            lease.release()
    finally:
        lock.release()


def _replan(s: Session, provider, shown, saved: dict | None, reviewed: bool):
    """Plan again under the account lease: another runner may have applied between the first
    plan and the lease. A plan someone reviewed (at the prompt, or saved with --out) is
    applied only if it is still the plan; under -y the new plan is applied, and shown."""
    observed = provider.observe(s.needs_model_references)
    plan = s.plan(observed)
    if saved is not None:
        _check_saved(s, saved, plan)
    elif to_document(plan)["resource_changes"] != to_document(shown)["resource_changes"]:
        if reviewed:
            raise StalePlan("the account changed after the plan was shown; refusing to apply it", hint="run deploy again and review the new plan")
        s.app.note("note: the account changed while this deploy waited for the lease; applying the plan as it is now")
        if not s.opts.json_result:
            planning.write_plan(s.app, plan, "text" if s.opts.fmt == "json" else s.opts.fmt)
    return plan, observed


def _execute(s: Session, provider, plan) -> int:
    from gpuctl.engine.apply import ApplyFailed
    from gpuctl.render.progress import ProgressView, outcome_lines

    journal = Journal(s.project_dir / ".gpu" / "journal.jsonl")
    grace = float(s.app.environ.get("GPUCTL_VISIBILITY_GRACE", "20"))
    engine = Engine(provider, s.desired.project_id, journal, ProgressView(s.app.console(stderr=True)), grace=grace,
                    claim=lambda change: name_claim(provider, s.desired.project_id, change, s.app.note))
    try:
        outcome = engine.apply(plan)
    except ApplyFailed as failure:
        s.app.note("\n".join(["Apply stopped:", *outcome_lines(failure.outcome)]))
        if s.opts.json_result:
            doc = _result_doc(s, provider, plan, failure.outcome, None, error=failure.cause.summary)
            s.app.stdout.write(json.dumps(doc, indent=2) + "\n")
        raise failure.cause from None
    observed = provider.observe(s.needs_model_references)
    after = s.plan(observed)
    if after.has_changes:
        left = ", ".join(c.address for c in after.changes if c.action.value != "no-op")
        raise InconsistentResult(f"inconsistent result after apply: {left} still differ", hint="RunPod did not keep what was written; run deploy --plan to see the fields")
    journal.clear()
    forget_orphans(s, provider, observed)
    warmed = prewarm(s, provider, plan, observed)
    return _result(s, provider, plan, outcome, observed, warmed)


def _endpoints(s: Session, provider, outcome, observed) -> list[dict]:
    """Name, id and request URL of each configured endpoint that exists."""
    from gpuctl.plan.planner import owner

    ids = {a.removeprefix("endpoint."): i for a, _, i in (outcome.done if outcome else []) if a.startswith("endpoint.") and i}
    if observed is not None:
        ids |= {e["name"]: e["id"] for e in observed.endpoints if owner(e) == s.desired.project_id}
    return [{"name": spec.name, "endpoint_id": ids[spec.name], "url": provider.request_url(ids[spec.name])} for spec in s.desired.endpoints if spec.name in ids]


def _result_doc(s: Session, provider, plan, outcome, observed, error: str | None = None, warmed: list | None = None) -> dict:
    endpoints = _endpoints(s, provider, outcome, observed)
    return {
        "prewarm": warmed or [],
        "format_version": "1",
        "applied": error is None,
        "provider": s.target,
        "error": error,
        "endpoint_id": endpoints[0]["endpoint_id"] if endpoints else None,
        "endpoints": endpoints,
        "outcome": {
            "done": [{"address": a, "action": act, "id": i} for a, act, i in (outcome.done if outcome else [])],
            "failed": [{"address": a, "action": act, "error": e} for a, act, e in (outcome.failed if outcome else [])],
            "not_attempted": [{"address": a, "action": act} for a, act in (outcome.not_attempted if outcome else [])],
        },
        "plan": to_document(plan),
    }


def _result(s: Session, provider, plan, outcome, observed, warmed: list | None = None) -> int:
    from gpuctl.render.progress import endpoint_lines

    doc = _result_doc(s, provider, plan, outcome, observed, warmed=warmed)
    if s.opts.json_result:
        s.app.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        done = [d["action"] for d in doc["outcome"]["done"]]
        counts = ", ".join(f"{done.count(a)} {past}" for a, past in (("create", "created"), ("update", "updated"), ("replace", "replaced"), ("delete", "deleted")))
        head = "No changes were needed." if outcome is None else f"Apply complete: {counts}."
        s.app.stdout.write("\n".join(["", head, *endpoint_lines(doc["endpoints"], s.target == "local")]) + "\n")
    failure = prewarm_failure(doc["prewarm"])
    if failure:
        raise failure
    return ExitCode.CHANGES if s.opts.detailed_exitcode and outcome is not None else ExitCode.OK
