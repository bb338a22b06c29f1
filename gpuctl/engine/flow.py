"""The deploy flow, in one object: lock, observe, plan, check a saved plan, confirm, take the
account lease, plan again, apply, verify, pre-warm.

The CLI drives it and renders what it reports; the GitHub integration and `--wait-healthy`
reuse it without click. It never prints or prompts: it emits events (gpuctl.events) and asks
what only its caller knows through callables it is given: whether to go ahead (a person at a
prompt, or `-y`), and how to warm an endpoint (which needs a view of its own).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gpuctl.engine import prewarming
from gpuctl.commands import NONE, Flags, suggest
from gpuctl.engine.apply import ApplyFailed, Engine, Interrupted, LeaseLost, Outcome, lease_lost_hint, overwritten
from gpuctl.engine.health import HealthCheck, HealthGate, Target
from gpuctl.engine.journal import Journal
from gpuctl.engine.lease import Lease, account_lease, forget_claims, name_claim, seen_by_plan
from gpuctl.engine.lock import ProjectLock, describe
from gpuctl.errors import ExitCode, GpuctlError
from gpuctl.events import Emit, Note, PlanReady
from gpuctl.interrupts import cleanup
from gpuctl.model import Desired, Observed, Unresolved
from gpuctl.plan import plan as make_plan
from gpuctl.plan.drift import lagging_records, previous_repositories
from gpuctl.plan.planner import unreported
from gpuctl.plan.model import CHANGING, Plan
from gpuctl.provider.errors import Who
from gpuctl.provider.protocol import Provider
from gpuctl.v2 import env_of, owner, release_version
from gpuctl.words import agreeing, first_of, joined


class StalePlan(GpuctlError):
    """The plan that was reviewed or saved is no longer the plan: nothing was written."""


class InconsistentResult(GpuctlError):
    """Apply finished, but planning again shows differences: RunPod did not keep a write."""


def still_different(plan: Plan, unreported: dict[str, list[str]] | None = None) -> str:
    """What a plan made after an apply still changes, per resource and field:
    `endpoint.echo: workers.max, gpu.pools; volume.models (to create)`; with the fields the
    account's answer lacks (`planner.unreported`), which the read could not confirm."""
    unreported = unreported or {}
    out = []
    for c in plan.changes:
        paths = list(dict.fromkeys([f.path for f in c.changes if c.action in CHANGING] + unreported.get(c.address, [])))
        if paths:
            out.append(f"{c.address}: {', '.join(paths)}")
        elif c.action in CHANGING:
            out.append(f"{c.address} (to {c.action.value})")
    return "; ".join(out)


class InterruptedAfterApply(Interrupted):
    """Ctrl-C (or SIGTERM) after every change was applied, while the flow read the account
    back, pre-warmed, ran the health gate or released the lease: what was applied stands."""


class InterruptedBeforeApply(Interrupted):
    """Ctrl-C (or SIGTERM) before the flow wrote anything: while it waited for the lock, read
    the account, planned, or asked."""


class Cancelled(GpuctlError):
    """Nobody confirmed the plan: nothing was changed."""


@dataclass(frozen=True)
class DeployRequest:
    """What one deploy is asked to do, resolved before it talks to the account."""

    desired: Desired
    catalog: Any  # gpuctl.catalog.Catalog
    target: str  # the provider's name: "runpod" or "local"
    project_dir: Path  # where .gpu/ (lock, journal) lives
    prune: bool = False
    saved: dict | None = None  # a saved plan document (--from-plan): applied only if it is still the plan
    reviewed: bool = False  # a person confirms the plan shown, so a different plan under the lease is refused
    lock_timeout: float = 0.0
    break_lock: bool = False
    parallelism: int = 10
    grace: float = 20.0  # how long a create may take to become visible
    command: str = "gpu serverless deploy"  # how the lease names its holder
    health: HealthCheck | None = None  # --wait-healthy: the gate after apply
    policy: Any = None  # gpuctl.policy.guard.Guard: every plan is checked; one that breaks a rule is never applied
    applied_by: str | None = None  # who applies (gpuctl.author: a GitHub login, a git author name, a login name), for `history`
    applied_from: tuple[str | None, str | None] = (None, None)  # where it applies from and which commit (gpuctl.author.applied_from), for drift (ADR 37)
    before_write: Callable[[], None] | None = None  # called under the account lease before anything is written; raises to refuse (the GitHub apply's newer-commit check)
    flags: Flags = NONE  # the run's --config, --provider and --policy, which every command its messages suggest repeats (gpuctl.commands)


@dataclass
class DeployResult:
    plan: Plan  # the plan that was applied, or that needed nothing
    observed: Observed  # the account after the deploy
    outcome: Outcome | None  # None: nothing needed changing
    endpoints: list[dict] = field(default_factory=list)  # {name, endpoint_id, url} of each configured endpoint that exists
    warmed: list[dict] = field(default_factory=list)  # one entry per pre-warm: warmed, skipped or failed
    health: dict | None = None  # the health gate's report (--wait-healthy), None when not asked for

    @property
    def healthy(self) -> bool:
        return self.health is None or bool(self.health["healthy"])


def check_saved(saved: dict, plan: Plan, flags: Flags = NONE) -> list[str]:
    """Refuse a saved plan that is no longer the plan: the account, gpu.jsonc or the
    environment changed since it was made. Returns [] for the plan it was saved as, and the
    saved plan's writes ("endpoint.api (create)") when it is applied already (a CI job run
    again): the account has each of them, gpu.jsonc still asks for each, and a plan made now
    writes nothing. That is asked whenever a plan made now differs, not only when the
    account's digest moved: the digest leaves env values out, so an env-value-only plan, once
    applied, leaves it as the plan saw it (review 8, R8-3)."""
    from gpuctl.render.document import comparable, to_document

    _refuse_unknown_values(saved, flags)
    fresh = to_document(plan)
    fresh = {**fresh, "resource_changes": comparable(fresh["resource_changes"])}  # compared as the saved one is
    if isinstance(saved.get("resource_changes"), list):  # each resource a dict, each change too: read_saved checked them
        saved = {**saved, "resource_changes": comparable(saved["resource_changes"])}
    moved = saved.get("observed_digest") != fresh["observed_digest"]
    if moved or saved.get("resource_changes") != fresh["resource_changes"]:
        # The plan's own writes, whichever digest they moved: the observed digest leaves env values
        # out, so a plan that changes only env values leaves it as it was (review 8, R8-3).
        done, left = _own_writes(saved, fresh)
        if done and left == [] and not plan.has_changes and _same_run(saved, fresh):
            return done
        if done and left is not None and _same_run(saved, fresh):
            raise StalePlan(f"an earlier run applied part of the saved plan (in place now: {', '.join(done)}), "
                            "and a saved plan is applied only to the account it was made against; refusing to apply the rest",
                            detail=f"a new plan holds what is left: {', '.join(left)}",
                            hint="make a new plan (deploy --plan --out FILE), review it and apply it")
    if moved:
        raise StalePlan("the account changed since the plan was made; refusing to apply it", detail=_what_moved(saved, fresh),
                        hint="make a new plan (deploy --plan --out FILE) and review it")
    if (saved.get("overrides") or []) != fresh["overrides"]:
        raise StalePlan(f"the plan was made with {_flags(saved.get('overrides'))}, and this run has {_flags(fresh['overrides'])}; refusing to apply it",
                        hint="apply it with the flags it was made with (`deploy --out` prints the whole command), or make a new plan")
    if bool(saved.get("prune")) != fresh["prune"]:
        made, now = ("with", "without") if saved.get("prune") else ("without", "with")
        raise StalePlan(f"the plan was made {made} --prune, and this run is {now} it; refusing to apply it",
                        hint=f"apply it {made} --prune, as it was made, or make a new plan")
    for key in ("project_id", "provider"):
        if saved.get(key) != fresh[key]:
            raise StalePlan(f"the plan was made for {key} {json.dumps(saved.get(key))}, and this run has {json.dumps(fresh[key])}; refusing to apply it",
                            hint="apply it with the --config, --provider and --prune it was made with, or make a new plan")
    if saved.get("resource_changes") != fresh["resource_changes"]:
        if isinstance(saved.get("config"), str) and saved["config"] != fresh["config"]:  # only now: one file spelled two ways plans alike
            import shlex

            raise StalePlan(f"the plan was made from {saved['config']}, and this run reads {fresh['config']}; refusing to apply it",
                            hint=f"apply it with `--config {shlex.quote(saved['config'])}` (and the --provider and --prune it was made with), or make a new plan")
        moved = _env_moved(saved, fresh)
        if moved is not None:
            raise StalePlan(f"{moved[0]} changed since the plan was made: {moved[1]}; refusing to apply it", detail=moved[2],
                            hint="make a new plan (deploy --plan --out FILE) and review it")
        raise StalePlan("gpu.jsonc or the environment changed since the plan was made; refusing to apply it", hint="make a new plan (deploy --plan --out FILE) and review it")
    return []


def _refuse_unknown_values(saved: dict, flags: Flags = NONE) -> None:
    """A saved plan whose writes hold unknown values (`{"unknown_from": [...]}`: made where a
    `${VAR}` was not set, ADR 24) is never applied, whatever the account or gpu.jsonc: it is
    refused naming the variables, not as "changed since", which sent people looking for a change
    that was not there."""
    from gpuctl.render.document import unknown_variables

    unset = unknown_variables(saved)
    if unset:
        them = agreeing(len(unset), "it", "them")
        raise StalePlan(f"the plan was made without {joined(unset)} (a saved plan with unknown values is never applied): set {them} and plan again",
                        hint=f"make a new plan where {joined(unset)} {agreeing(len(unset), 'is', 'are')} set "
                             f"(`{suggest('serverless', 'deploy', '--plan', '--out', 'FILE', flags=flags)}`), review it and apply that one")


def _same_run(saved: dict, fresh: dict) -> bool:
    return (saved.get("overrides") or []) == fresh["overrides"] and all(saved.get(k) == fresh[k] for k in ("project_id", "provider", "prune"))


def _own_writes(saved: dict, fresh: dict) -> tuple[list[str], list[str] | None]:
    """The account moved since the plan was saved: was it this plan's own writes? Returns the
    saved writes in place now (a plan made now does not write the resource, and gpu.jsonc asks
    for it exactly as the saved plan would have written it) and the saved writes a plan made
    now still makes, exactly; `None` for the second when a plan made now writes anything else
    or a saved write is neither (so the account, or gpu.jsonc, changed some other way)."""
    from gpuctl.render.document import writes

    now = {r["address"]: r for r in fresh["resource_changes"]}
    wanted = {w["address"]: w for w in writes(fresh)}
    done: list[str] = []
    left: list[str] = []
    for w in writes(saved):
        label, current = f"{w['address']} ({w['action']})", now.get(w["address"])
        if wanted.pop(w["address"], None) == w:
            left.append(label)
        elif w["action"] == "delete" and current is None:
            done.append(label)
        elif (w["action"] != "delete" and current is not None and current["action"] == "no-op" and current.get("desired") == w["desired"]
              and not _writes_hidden(w)):
            done.append(label)
        else:
            return done, None
    return done, (None if wanted else left)


def _writes_hidden(write: dict) -> bool:
    """Whether a saved write sets a hidden value (`${VAR}` or a literal secret: `{"sensitive":
    true}` with no RunPod secret name): the plan keeps no trace of it (no value, no digest), so
    the account cannot be shown to hold it: two redacted values compare equal whatever they are,
    and a value another run deployed would count as the plan's (review 11, R11-6). Such a write
    is never "in place"; the saved plan is refused as stale instead. A create or replace writes
    every env value of its body; an update only the ones it changes."""
    def traceless(value: Any) -> bool:
        return isinstance(value, dict) and value.get("sensitive") is True and not value.get("secret")

    if any(traceless(after) for _, _, after in write["changes"]):
        return True
    desired = write.get("desired")
    try:
        env = env_of(desired) if isinstance(desired, dict) else {}
    except (TypeError, ValueError):  # a saved plan is a file anyone may have edited: an env of another shape
        env = {}
    return write["action"] in ("create", "replace") and any(traceless(v) for v in env.values())


def _what_moved(saved: dict, fresh: dict) -> str:
    """Which resources a plan made now would treat otherwise than the saved plan does, or that
    none would: the digest covers the whole account, so a change elsewhere (another team's
    endpoint) refuses a plan whose own changes are still exactly right."""
    was = {r.get("address"): r for r in saved.get("resource_changes") or [] if isinstance(r, dict)}
    now = {r["address"]: r for r in fresh["resource_changes"]}
    moved = [a for a in sorted(was.keys() | now.keys(), key=str) if was.get(a) != now.get(a)]
    if not moved:
        return ("the plan's own changes are the same now: what changed is elsewhere in the account (a resource this plan "
                "does not touch), so a new plan shows the same changes")
    return f"a plan made now differs for {first_of(moved, 10)}"


def _env_moved(saved: dict, fresh: dict) -> tuple[str, str, str] | None:
    """The account's digest is the same, yet a plan made now differs: which env values of the
    account moved, when that is all that moved. The digest leaves env values out (it must not
    help guess a secret), so a console edit of an env value shows only here, and was blamed on
    "gpu.jsonc or the environment" (review 5, R5-10). Returns (who changed: `the account`,
    where: `endpoint.a env.PLAIN`, the detail) when every resource that differs asks for the
    same body now as when the plan was made (gpu.jsonc and the variables it reads gave the same
    values) and differs only in env fields; None otherwise (gpu.jsonc or the environment).

    A hidden value (`${VAR}`) is in the plan as the names of its variables only: whether the
    account or the variable changed cannot be told, and both are named. No value is named."""
    was = {r.get("address"): r for r in saved.get("resource_changes") or [] if isinstance(r, dict)}
    now = {r["address"]: r for r in fresh["resource_changes"]}
    where: list[str] = []
    hidden: list[str] = []  # paths whose declared value is hidden: the plan cannot tell who changed it
    variables: list[str] = []
    literal = False  # a hidden value with no variable named: gpu.jsonc may hold it
    for address in sorted(was.keys() | now.keys(), key=str):
        before, after = was.get(address), now.get(address)
        if before == after:
            continue
        if before is None or after is None or any(before.get(k) != after.get(k) for k in ("kind", "id", "desired")):
            return None
        env = env_of(after.get("desired") or {})  # the fresh plan's own document: a dict
        rows = [{c.get("path"): c for c in r.get("changes") or [] if isinstance(c, dict)} for r in (before, after)]
        paths = [p for p in sorted(rows[0].keys() | rows[1].keys(), key=str) if rows[0].get(p) != rows[1].get(p)]
        if not paths:
            return None
        for path in paths:
            key = path.removeprefix("env.") if isinstance(path, str) and path.startswith("env.") else None
            if key is None or key not in env:
                return None
            declared = env[key]
            if isinstance(declared, dict) and declared.get("sensitive") is True and not declared.get("secret"):
                hidden.append(f"{address} {path}")
                named = [str(v) for v in declared.get("from") or []]
                variables += [v for v in named if v not in variables]
                literal = literal or not named
            elif isinstance(declared, dict) and declared.get("sensitive") is not True:
                return None  # not a value gpuctl writes as it is
        where.append(f"{address} {', '.join(paths)}")
    if not where:
        return None
    sources = ["the account"] + (["gpu.jsonc"] if literal else []) + (
        [f"the environment {agreeing(len(variables), 'variable')} {joined(variables)}"] if variables else [])
    who = sources[0] if len(sources) == 1 else f"{', '.join(sources[:-1])} or {sources[-1]}"
    if not hidden:
        detail = ("an env value was changed in the account, such as in the console (values are not shown); gpu.jsonc and the "
                  "environment give the same values as when the plan was made")
    else:
        detail = (f"{joined(hidden)} {agreeing(len(hidden), 'is a hidden value', 'are hidden values')}: the plan keeps no trace of "
                  f"{agreeing(len(hidden), 'it', 'them')}, so whether the account or what gpu.jsonc reads changed cannot be told; "
                  "nothing else of gpu.jsonc changed")
    return who, "; ".join(where), detail


def _flags(overrides: list[dict] | None) -> str:
    """Per-run override flags as typed: `--max-workers 3`, or `no per-run flags`. A saved plan
    may have been edited into any value: it is shown as JSON spells it, shortened, and a list
    or object only by its kind (it was printed whole, 100,000 characters into a CI log)."""
    from gpuctl.redact import clip

    def typed(value: Any) -> str:
        if isinstance(value, (list, dict)):
            return "a list" if isinstance(value, list) else "an object"
        return clip(value if isinstance(value, str) else json.dumps(value), 60)

    return " ".join(f"{clip(str(o['flag']), 60)} {typed(o['value'])}" for o in overrides or []) or "no per-run flags"


def _refuse_unknowns(desired: Desired) -> None:
    """Nothing is applied with a value unknown in this run (ADR 24): only plan-only runs make
    them, so this is the last guard, not the usual error (the config names the variable)."""
    unset = sorted({v for s in desired.endpoints for _, value in s.env if isinstance(value, Unresolved) for v in value.variables})
    if unset:
        raise GpuctlError(f"cannot apply: {', '.join(unset)} not set, so some env values are unknown in this run", hint=f"export {unset[0]}=... and deploy again")


@dataclass
class Deployment:
    provider: Provider
    request: DeployRequest
    emit: Emit = lambda event: None
    confirm: Callable[[Plan], bool] = lambda plan: True
    warm: prewarming.Warm | None = None  # None: pre-warms are skipped (say so in a note)
    sleep: Callable[[float], None] = time.sleep
    applied: DeployResult | None = field(default=None, init=False)  # set once the engine has applied the plan: what the account now has
    writing: bool = field(default=False, init=False)  # set before the flow's first write to the account (a catch-up, a pre-warm), or once it holds the lease
    lease: Lease | None = field(default=None, init=False)  # the account lease, from before it is taken: what its wait did if an interrupt comes then
    planned: Plan | None = field(default=None, init=False)  # the latest plan the flow made to apply (before the lease, then under it): what a refusal was about

    # -- read-only -----------------------------------------------------------------------------

    def plan_against(self, observed: Observed) -> Plan:
        r = self.request
        plan = make_plan(r.desired, observed, r.catalog, target=r.target, prune=r.prune, flags=r.flags)
        return r.policy.check(plan) if r.policy is not None else plan

    def _refuse(self, plan: Plan) -> None:
        """Raise PolicyViolation (exit 4) before anything is written when this plan, or the saved
        plan being applied, breaks a policy rule."""
        if plan.policy is None and self.request.saved is None:
            return
        from gpuctl.policy.guard import refuse
        from gpuctl.render.document import policy_section

        refuse({"policy": policy_section(plan)}, self.request.saved)

    def observe(self) -> Observed:
        return self.request.desired.observe(self.provider)

    def plan(self) -> Plan:
        """The plan against the account as it is now: one read, no lock, no write. When another
        command of the project held its account lease in that read (applying now), the plan
        says so (`Plan.lease`): the account may still change, and what that command has yet to
        write shows as changes of this plan. The lease is read from the same read, never taken
        nor waited for."""
        observed = self.observe()
        return self._shown(self.plan_against(observed), observed)

    def _shown(self, plan: Plan, observed: Observed) -> Plan:
        """`plan`, made against `observed` before this run holds the account lease, as it is
        shown to be reviewed: with the lease another command of the project held in that read
        (`Plan.lease`), which every rendering of the plan puts above its changes. One way for
        `deploy --plan` and for the plan an interactive deploy asks about (review 5, E: the
        question's plan said nothing, and the lease showed only after the yes). Not for a plan
        made under this run's own lease."""
        from dataclasses import replace

        lease = seen_by_plan(observed.templates, self.request.desired.project_id, time.time())
        return replace(plan, lease=lease) if lease is not None else plan

    # -- apply ---------------------------------------------------------------------------------

    def apply(self) -> DeployResult:
        """Make the account match gpu.jsonc. Raises Cancelled, StalePlan, LockHeld, ApplyFailed
        (with `.result`: what was done) or InconsistentResult; returns what happened."""
        _refuse_unknowns(self.request.desired)
        lock = ProjectLock(self.request.project_dir / ".gpu" / "deploy.lock", self.request.command)
        try:
            lock.acquire(self.request.lock_timeout, on_wait=lambda m: self.emit(Note(m, "plain")))
            if lock.interrupted:
                self.emit(Note(f"the previous deploy, {describe(lock.interrupted)}, did not finish; its unfinished writes are checked before anything is created"))
            try:
                result = self._locked()
            except BaseException:
                cleanup(lock.release, unwinding=True)  # an interrupt in the middle of it would leave the holder record for the next deploy to report
                raise
            cleanup(lock.release, unwinding=False)
            return result
        except (KeyboardInterrupt, GpuctlError) as exc:
            failure = self.interrupted_after_apply(exc)
            if failure is None and isinstance(exc, KeyboardInterrupt) and not self.writing:
                # a bare "interrupted" left a person wondering whether half of the plan was applied
                raise self._interrupted_before_apply() from None
            if failure is None:
                raise
            raise failure from None

    def _interrupted_before_apply(self) -> InterruptedBeforeApply:
        """An interrupt before the flow's first write: nothing was changed in the account, unless
        the wait for the account lease had deleted another holder's lease to take its place (a
        live one broken with --break-lock, or a stale one): that is said, for the run it was
        broken from may still be going, and it loses its lease (review: the wording was
        "nothing was changed" after a --break-lock)."""
        removed = self.lease.removed if self.lease is not None else None
        if removed is None:
            return InterruptedBeforeApply("interrupted before the apply: nothing was changed in the account", hint="run deploy again to apply the plan")
        holder, broken = removed
        if not broken:
            return InterruptedBeforeApply(f"interrupted before the apply: no endpoint or volume was changed; the stale account lease of {holder} was deleted",
                                          hint="run deploy again to apply the plan")
        return InterruptedBeforeApply(
            f"interrupted before the apply: no endpoint or volume was changed, but the account lease held by {holder} was broken (--break-lock): "
            "that run, if it is still going, has lost its lease and is told so when it next renews or releases it",
            hint="run deploy again to apply the plan once that run has finished (then without --break-lock); "
                 f"if it wrote meanwhile, `{suggest('serverless', 'drift', flags=self.request.flags)}` shows what differs")

    def interrupted_after_apply(self, exc: BaseException | None = None) -> ApplyFailed | None:
        """An interrupt (`exc`: a KeyboardInterrupt, or an error of exit 130 such as a pre-warm's)
        that came after the engine applied the plan, as the ApplyFailed an interrupted apply ends
        with, carrying what was applied (`.result`): its caller prints that summary, so an
        interrupt in the checks after the apply, or in the lease's release, never hides what was
        written. None when nothing was applied yet or `exc` is no interrupt."""
        if self.applied is None or isinstance(exc, ApplyFailed):
            return None
        if isinstance(exc, GpuctlError) and exc.exit_code != ExitCode.INTERRUPTED:
            return None
        failure = ApplyFailed(self.applied.outcome, InterruptedAfterApply(
            "interrupted after the apply: every change listed as done was applied; the checks after it did not finish",
            hint="run deploy again: it plans again, changes nothing that is in place, and finishes them"))
        failure.result = self.applied
        return failure

    def _locked(self) -> DeployResult:
        observed = self.observe()
        plan = self.planned = self._shown(self.plan_against(observed), observed)
        if self.request.saved is not None and (done := check_saved(self.request.saved, plan, self.request.flags)):
            self.emit(Note(f"the saved plan was applied already: the account has every change it makes ({', '.join(done)}); nothing to write"))
        self.emit(PlanReady(plan))
        self._refuse(plan)
        if not plan.has_changes:
            if self._targets(plan, observed)[0] and not self.confirm(plan):
                raise Cancelled("cancelled: nothing was changed or warmed")
            self.writing = True
            self._catch_up(plan, observed)
            return self._checked(self._result(plan, observed, None, self._prewarm(plan, observed)), {})
        if not self.confirm(plan):
            raise Cancelled("cancelled: nothing was changed")
        # Not `writing` while it waits for the lease: an interrupt then (CI cancelling a queued
        # apply job) wrote nothing, and a lease it had just created is released on the way out.
        with account_lease(self.provider, self.request.desired.project_id, self.request.command, lambda m: self.emit(Note(m, "plain")),
                           wait=self.request.lock_timeout, break_lock=self.request.break_lock, taking=self._taking) as lease:
            self.writing = True
            result = self._leased(plan, lease)
        if lease is not None and lease.lost is not None and result.outcome is not None:
            raise self._lease_lost(lease, result)
        return result

    def _taking(self, lease: Lease) -> None:
        self.lease = lease

    def _leased(self, plan: Plan, lease: Lease | None) -> DeployResult:
        """Plan again and apply, under the account lease."""
        if lease is not None and lease.cut_short and self.request.break_lock:
            self.emit(Note("the run whose lease was broken may still be running: writes it has in flight can land after this run's, "
                           f"and it is told its lease was taken when it next renews or releases it; run `{suggest('serverless', 'drift', flags=self.request.flags)}` once both are done"))
        plan, observed = self._replan(plan)
        if lease is not None and lease.cut_short and any(c.action.value in ("create", "replace") for c in plan.changes):
            plan, observed = self._settle(plan)
        if not plan.has_changes:
            return self._checked(self._result(plan, observed, None), {})
        if self.request.before_write is not None:
            self.request.before_write()  # a newer run may have applied while this one waited for the lease
        return self._execute(plan, observed, lease)

    def _lease_lost(self, lease: Lease, result: DeployResult, changed: str | None = None) -> ApplyFailed:
        """The account lease was taken from this run while it applied (another run's
        --break-lock): each reported success, with different results, and the account holds
        whichever write landed last. What this run applied is printed, and it ends with exit 1.
        `changed`: what the check after the apply found otherwise than written, the other run's
        doing."""
        failure = ApplyFailed(result.outcome, LeaseLost(
            f"the account lease was {lease.lost} while this deploy applied: another run may have written the account meanwhile, "
            "so the account may not hold what this deploy applied",
            hint=lease_lost_hint(self.request.flags)) if changed is None else overwritten(changed, str(lease.lost), flags=self.request.flags))
        failure.result = result
        return failure

    @staticmethod
    def _taken(lease: Lease | None) -> str | None:
        """What became of the account lease, asked of the account now: None while this run still
        holds it (or the account did not say), else how it was lost (`Lease.lost`; the lease's
        own check, which warns once). Asked when a check after a write finds the account
        otherwise than written: under a lease taken meanwhile, that is the other run's write,
        not the provider's fault (review 5, R5-9). A renewal finds a lost lease only once a
        minute, and the release only after the checks."""
        if lease is None:
            return None
        lease.still_held()  # the one check of whether the account still has this lease; it sets `lost`
        return lease.lost

    def _replan(self, shown: Plan, meanwhile: str = "while this deploy waited for the lease") -> tuple[Plan, Observed]:
        """Plan again under the account lease: another runner may have applied between the first
        plan and the lease. A plan someone reviewed (at the prompt, or saved with --out) is
        applied only if it is still the plan; otherwise the new plan is applied, and shown, with
        a note saying when the account changed (`meanwhile`: what this deploy was waiting for)."""
        from gpuctl.render.document import to_document

        observed = self.observe()
        plan = self.planned = self.plan_against(observed)
        if self.request.saved is not None:
            check_saved(self.request.saved, plan, self.request.flags)
        elif to_document(plan)["resource_changes"] != to_document(shown)["resource_changes"]:
            if self.request.reviewed:
                raise StalePlan("the account changed after the plan was shown; refusing to apply it", hint="run deploy again and review the new plan")
            self.emit(Note(f"the account changed {meanwhile}; applying the plan as it is now"))
            self.emit(PlanReady(plan, "replanned"))
        self._refuse(plan)
        return plan, observed

    def _settle(self, plan: Plan) -> tuple[Plan, Observed]:
        """The lease was taken from a holder that stopped before it expired (killed on this
        machine, or broken with --break-lock), maybe from another checkout whose journal this
        one cannot read. RunPod may not show what it created last yet, and a create planned
        now could make a second one: wait out the visibility grace once, then plan again."""
        how = "the lease was broken before it expired (its holder may still be running)" if self.request.break_lock else "its holder stopped before the lease expired"
        self.emit(Note(f"{how}; waiting {self.request.grace:.0f}s for what it may have just created "
                       "to show, then planning again"))
        self.sleep(self.request.grace)
        return self._replan(plan, f"during the {self.request.grace:.0f}s wait for what the lease's previous holder created to show")

    def _execute(self, plan: Plan, observed: Observed, lease: Lease | None = None) -> DeployResult:
        """Apply `plan` (made against `observed`) under the account `lease`; the name claims of
        the holder it was taken from go with it, and claims left in the account are deleted once
        the apply is done."""
        r = self.request
        repository = r.desired.repository()
        previous = {} if repository else previous_repositories(plan.changes, observed.templates, r.desired.project_id, r.desired.config_id)
        left_by = lease.replaced if lease is not None else None
        journal = Journal(r.project_dir / ".gpu" / "journal.jsonl")
        engine = Engine(self.provider, r.desired.project_id, journal, self.emit, grace=r.grace, parallelism=r.parallelism, applied_by=r.applied_by, applied_from=r.applied_from, config_id=r.desired.config_id, repository=repository, previous=previous, flags=r.flags,
                        # through the engine's provider and voice: a step a second interrupt abandoned neither sends nor says anything more
                        claim=lambda change: name_claim(engine.provider, r.desired.project_id, change, lambda m: engine.say(Note(m, "plain")), left_by, stop=engine.stopping),
                        lease_lost=lambda: self._taken(lease), lease_known_lost=lambda: lease.lost if lease is not None else None)
        before = self._versions(plan)
        try:
            outcome = engine.apply(plan)
        except ApplyFailed as failure:
            failure.result = DeployResult(plan, Observed(), failure.outcome, self._endpoints(failure.outcome, None))
            if failure.outcome.abandoned and lease is not None:
                cleanup(lambda: self._forget_abandoned_claims(lease), unwinding=True)
            raise
        self.applied = DeployResult(plan, Observed(), outcome, self._endpoints(outcome, None))
        observed = self.observe()
        after = self.plan_against(observed)
        unconfirmed = unreported(after, observed)
        if after.has_changes or unconfirmed:
            if lease is not None and self._taken(lease):
                raise self._lease_lost(lease, self.applied, f"{still_different(after, unconfirmed)} differs from what was written")
            raise InconsistentResult(f"inconsistent result after apply, still different from gpu.jsonc: {still_different(after, unconfirmed)}",
                                     hint=f"{Who.of(self.provider.name).name} did not keep what was written; run deploy --plan to see the values")
        journal.clear()
        written = {i for _, _, i in outcome.done if i}
        self._remember(after, [i for i in lagging_records(after.changes, observed.templates, r.desired.project_id, r.desired.config_id, r.desired.repository()) if i not in written])  # under the lease; written ones have theirs
        prewarming.forget_orphans(self.provider, r.desired.project_id, observed, self.emit)
        if lease is not None:
            forget_claims(self.provider, r.desired.project_id, observed.templates, lease, lambda m: self.emit(Note(m, "plain")))
        return self._checked(self._result(plan, observed, outcome, self._prewarm(plan, observed)), before)

    def _forget_abandoned_claims(self, lease: Lease) -> None:
        """The name claims of the steps a second interrupt abandoned: held by threads that will
        never release them, they blocked this project's next create of those names for minutes.
        This run holds the project's lease, so every claim of the project is its own. Best effort:
        the interrupt's report must not be lost to a failure here."""
        from gpuctl.provider.errors import ProviderError

        try:
            forget_claims(self.provider, self.request.desired.project_id, self.provider.list_templates(), lease, lambda m: None)
        except ProviderError:
            pass

    # -- the last-applied record of endpoints already in sync (ADR 10) -------------------------

    def _catch_up(self, plan: Plan, observed: Observed) -> None:
        """A deploy with nothing to change brings the record of an endpoint in sync up to date
        when it lags (gpu.jsonc took the account's values with `pull --write`, or a record write
        was missed), so the next console edit reads as changed in the account, not in both. It
        takes the account lease without waiting and plans again under it; when another command
        holds the lease, it leaves the records to that command. Nothing is written when every
        record is current."""
        from gpuctl.engine.lock import LockHeld

        project_id = self.request.desired.project_id
        config_id, repository = self.request.desired.config_id, self.request.desired.repository()
        if not lagging_records(plan.changes, observed.templates, project_id, config_id, repository):
            return
        try:
            with account_lease(self.provider, project_id, self.request.command, lambda m: None, wait=0.0):
                observed = self.observe()
                fresh = self.plan_against(observed)
                if not fresh.has_changes:
                    self._remember(fresh, lagging_records(fresh.changes, observed.templates, project_id, config_id, repository))
        except LockHeld:
            return

    def _remember(self, plan: Plan, endpoint_ids: list[str]) -> None:
        """Write the record of each endpoint of `endpoint_ids`, in sync in `plan`. Best effort, as
        after an apply: a failure is a note, and changes nothing that is in place."""
        from gpuctl.engine import applied
        from gpuctl.provider.errors import ProviderError

        wanted = set(endpoint_ids)
        for change in plan.changes:
            if change.kind.value != "endpoint" or change.action.value != "no-op" or str(change.id) not in wanted:
                continue
            try:
                applied.remember(self.provider, self.request.desired.project_id, str(change.id), applied.declared(change, {}), time.time(), applied=False,
                                 config=self.request.desired.config_id, repository=self.request.desired.repository())
            except ProviderError as exc:
                self.emit(Note(f"{change.address}: its last-applied record could not be brought up to date ({exc.summary}); "
                               "drift origins of this endpoint may be wrong until a deploy writes it"))

    # -- the health gate (--wait-healthy) ------------------------------------------------------

    def _versions(self, plan: Plan) -> dict[str, int]:
        """{endpoint name: its version now} for each endpoint the plan updates in place: what
        --rollback-on-failure goes back to. Read only when the health gate is asked for."""
        if self.request.health is None or not self.request.health.rollback:
            return {}
        updates = [c for c in plan.changes if c.kind.value == "endpoint" and c.action.value == "update" and c.id]
        return {c.name: release_version(self.provider.releases(c.id)) or 0 for c in updates}

    def _checked(self, result: DeployResult, before: dict[str, int]) -> DeployResult:
        if self.request.health is None:
            return result
        templates = {s.name: s.template.resolved for s in self.request.desired.endpoints}
        targets = [Target(e["name"], e["endpoint_id"], templates.get(e["name"]), before.get(e["name"])) for e in result.endpoints]
        result.health = HealthGate(self.provider, self.request.health, self.emit, applied_by=self.request.applied_by, flags=self.request.flags).run(targets)
        return result

    # -- pre-warm and the result ---------------------------------------------------------------

    def _targets(self, plan: Plan, observed: Observed):
        return prewarming.targets(self.request.desired, plan, observed)

    def _prewarm(self, plan: Plan, observed: Observed) -> list[dict]:
        return prewarming.run(self._targets(plan, observed), self.warm, self.emit)

    def _result(self, plan: Plan, observed: Observed, outcome: Outcome | None, warmed: list[dict] | None = None) -> DeployResult:
        return DeployResult(plan, observed, outcome, self._endpoints(outcome, observed), warmed or [])

    def _endpoints(self, outcome: Outcome | None, observed: Observed | None) -> list[dict]:
        """Name, id and request URL of each configured endpoint that exists."""
        ids = {a.removeprefix("endpoint."): i for a, _, i in (outcome.done if outcome else []) if a.startswith("endpoint.") and i}
        if observed is not None:
            ids |= {e["name"]: e["id"] for e in observed.endpoints if owner(e) == self.request.desired.project_id}
        specs = self.request.desired.endpoints
        return [{"name": s.name, "endpoint_id": ids[s.name], "url": self.provider.request_url(ids[s.name])} for s in specs if s.name in ids]
