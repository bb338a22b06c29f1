"""Apply a plan through a provider: volumes, then endpoints, then deletions.

Before creating anything the engine looks the object up by identity, so a create that was
committed but whose answer was lost is never repeated. Every write is read back and compared
field by field. On the first failure it stops; the outcome lists what was done, what failed
and what was not attempted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from gpuctl import interrupts
from gpuctl.commands import NONE, Flags, suggest
from gpuctl.engine import applied, schedule
from gpuctl.events import Emit, Event, Failed, Finished, Started, Waiting
from gpuctl.engine.journal import Journal
from gpuctl.errors import GpuctlError
from gpuctl.model import Sensitive
from gpuctl.polling import Backoff, time_left
from gpuctl.v2 import data_center, model_references, owner, release_version, size_gb, volume_patch
from gpuctl.plan import fields
from gpuctl.plan.model import CHANGING, Action, Kind, Plan, ResourceChange, Unknown
from gpuctl.provider.errors import NotFound, ProviderError, Stopped, StoppedChange, Who
from gpuctl.provider.protocol import Provider
from gpuctl.words import counted


class NotHonoured(GpuctlError):
    """A write was accepted but the object read back differs: never reported as success."""


class LeaseLost(GpuctlError):
    """Another run took the account lease while this one applied (--break-lock): the account
    may not hold what this run applied. Its own writes are listed under `Applied, but the
    account lease was taken meanwhile:` (cli.deploy), and the run ends with exit 1.
    `overwritten`: set when a check right after this run's own write found the other run's
    values (`overwritten()`): (the id written, what read back otherwise); that change was
    applied, then overwritten, not failed."""

    overwritten: tuple[str, str] | None = None


def lease_lost_hint(flags: Flags = NONE) -> str:
    """What to do when another run took the account lease; `flags`: the run's options, which
    the command it names repeats (`gpuctl.commands`)."""
    return f"run `{suggest('serverless', 'drift', flags=flags)}` once the other run has finished, to see what differs from gpu.jsonc; then deploy again"


def overwritten(what: str, lost: str, resource_id: str | None = None, flags: Flags = NONE) -> LeaseLost:
    """A check after a write found the account otherwise than written (`what`: which fields)
    while the account lease was no longer this run's (`lost`: `Lease.lost`): the run that took
    it wrote meanwhile. Blaming the provider ("did not honour", "did not keep") sent people
    looking for an API fault, and its "run deploy again" could land while the other run was
    still going (review 5, R5-9)."""
    short = lost.split(" (", 1)[0]  # `taken over by pid 4242 on runner-7`: the whole of it is the detail's (and the warning's, said at once)
    error = LeaseLost(f"changed by another writer after this run's write ({what}): the account lease was {short} meanwhile",
                     detail=f"the account lease was {lost} while this run held it; this run's write was accepted, "
                            "the run that took the lease wrote after it, and the account holds whichever write landed last",
                     hint=lease_lost_hint(flags))
    if resource_id is not None:
        error.overwritten = (resource_id, what)
    return error


class Ambiguous(GpuctlError):
    """More than one object has the identity of the one we are about to create."""


@dataclass
class Outcome:
    done: list[tuple[str, str, str | None]] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)
    not_attempted: list[tuple[str, str]] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)  # address -> id of what now exists
    abandoned: list[str] = field(default_factory=list)  # addresses whose step a second interrupt stopped waiting for (also in `failed`)
    overwritten: dict[str, str] = field(default_factory=dict)  # address -> what read back otherwise: applied (in `done`), then changed by the run that took the lease


class Interrupted(interrupts.Interrupted):
    """Ctrl-C (or SIGTERM) during apply: the changes in flight finished, nothing new started.
    With changes left it has no hint of its own: how to apply the rest depends on how the deploy
    is run (by hand, or as a GitHub workflow job), so the view that renders the failure gives it
    (DeployView.stopped). With none left (`_interrupted`) it says nothing is left to apply.
    It is the one interrupt error of gpuctl's (`gpuctl.interrupts.Interrupted`), named for the apply."""


class ApplyFailed(GpuctlError):
    def __init__(self, outcome: Outcome, cause: GpuctlError):
        super().__init__(f"apply stopped: {cause.summary}", detail=cause.detail, hint=cause.hint)
        self.outcome, self.cause = outcome, cause


def located(error: BaseException, address: str) -> BaseException:
    """The error a change failed with, as the apply ends with it: its address in front. A step's
    own messages never name the address: every line that reports a step (its progress line, the
    outcome's `failed:` line) names it already, so it is added here, once, for the final error."""
    if not isinstance(error, GpuctlError):
        return error
    other = error.with_hint(error.hint)
    other.summary = f"{address}: {error.summary}"
    other.args = (other.summary,)
    return other


def unknown_hint(flags: Flags = NONE) -> str:
    """Where to see whether a write whose outcome is unknown was carried out."""
    return f"`{suggest('serverless', 'deploy', '--plan', flags=flags)}` shows what the account has now"


def _interrupted(outcome: Outcome, unknown: int = 0, abandoned: bool = False, flags: Flags = NONE) -> Interrupted:
    """The interrupt an apply stopped with: the changes in flight finished and nothing else was
    started, or, when those were the plan's last (nothing left unattempted), that every change
    was applied and only the checks after the apply did not run: "apply the rest" was untrue.
    `unknown` changes in flight may or may not have been carried out: their write was sent and
    the interrupt kept it from being sent again, or (`abandoned`) a second interrupt stopped
    the wait for it (review 5, R5-2)."""
    if unknown:
        how = "a second interrupt stopped the wait for its answer" if abandoned else "its answer did not come, and it was not sent again"
        return Interrupted(f"interrupted: the outcome of {counted(unknown, 'write')} in flight is unknown ({how}); nothing else was started",
                           hint=f"{unknown_hint(flags)}; deploy again to apply the rest")
    if outcome.not_attempted or outcome.failed:
        return Interrupted("interrupted: the changes in flight finished; nothing else was started")
    return Interrupted("interrupted: every change of the plan was applied (the changes in flight finished); the checks after the apply did not run",
                       hint="run deploy again: it plans again, changes nothing that is in place, and runs the checks")


def _summary(error: BaseException) -> str:
    return error.summary if isinstance(error, GpuctlError) else f"{type(error).__name__}: {error}"


def reveal_body(value: Any, ids: dict[str, str]) -> Any:
    """A desired body ready to send: secrets revealed, ids known only after apply filled in."""
    if isinstance(value, Sensitive):
        return value.value
    if isinstance(value, Unknown):
        return ids[value.ref]
    if isinstance(value, dict):
        return {k: reveal_body(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal_body(v, ids) for v in value]
    return value


# The top-level fields of an endpoint whose change makes no release: the autoscaler's settings,
# applied to the endpoint's workers as they are (RunPod bumps the version on a template or env
# change only, api-notes §endpoint), and the name.
NO_RELEASE = frozenset({"workers", "scaling", "timeout", "flashboot", "name"})


def _differing(body: dict, live: dict) -> set[str]:
    """The top-level fields of `body` that differ from the endpoint `live`: what an update sends."""
    declared, observed = fields.flatten(body), fields.observed_fields(live)
    differ = {p.split(".")[0] for p, v in declared.items() if p not in fields.GRAPHQL_ONLY and not fields.same(p, v, observed.get(p))}
    differ |= {p.split(".")[0] for p in fields.removed(declared, observed)}
    if body.get("name") and body["name"] != live.get("name"):  # an adopted endpoint the block renames (ADR 11)
        differ.add("name")
    return differ


class _Gated:
    """The provider as the apply's steps use it: each call first asks `check` (Engine._open),
    which stops a step a second interrupt abandoned before it sends anything more. The HTTP
    client asks the same (`interrupts.check_open`) before every request; this covers a provider
    that sends none (a test's, a program's own)."""

    def __init__(self, inner: Any, check: Callable[[], None]):
        self.inner, self._check = inner, check

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.inner, name)
        if not callable(value):
            return value

        def gated(*args: Any, **kwargs: Any) -> Any:
            self._check()
            return value(*args, **kwargs)

        return gated


@dataclass
class Engine:
    provider: Provider
    project_id: str
    journal: Journal
    emit: Emit = lambda event: None
    grace: float = 20.0  # how long an object may take to become visible after a create
    poll: float = 1.0
    create_attempts: int = 3
    clock: Callable[[], float] = time.monotonic
    now: Callable[[], float] = time.time  # the wall clock, for the last-applied record's GPUCTL_APPLIED_AT
    sleep: Callable[[float], None] = time.sleep
    claim: Callable[[ResourceChange], AbstractContextManager] = lambda change: nullcontext()  # the account-wide claim on a name being created, or a volume being grown
    parallelism: int = 10  # changes in flight at once; 1 applies in the plan's order, one by one
    applied_by: str | None = None  # who applies (gpuctl.author), kept with each apply in the last-applied record
    config_id: str | None = None  # which gpu.jsonc applies (config.loader.config_identity), kept in the last-applied record (ADR 35)
    repository: str | None = None  # which repository that gpu.jsonc is in (gpuctl.author.repository), kept in the record too (ADR 60)
    previous: Mapping[str, str] = field(default_factory=dict)  # by address, the repository the previous record of a block the plan creates or replaces named (drift.previous_repositories), kept when `repository` is None (review F1)
    applied_from: tuple[str | None, str | None] = (None, None)  # where it applies from and which commit (gpuctl.author.applied_from), kept with each apply (ADR 37)
    lease_lost: Callable[[], str | None] = lambda: None  # None while this run still holds the account lease (asked of the account), else what became of it (`Lease.lost`)
    lease_known_lost: Callable[[], str | None] = lambda: None  # what became of the account lease as this run knows already (`Lease.lost`, no request): once set, no new change starts
    flags: Flags = NONE  # the run's options, which the commands its errors suggest repeat (gpuctl.commands)
    _emitting: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _began: int | None = field(default=None, repr=False)  # interrupts that had come when the apply began (`interrupts.arrived`); None outside `apply`

    def _close(self) -> None:
        """A second interrupt abandoned the steps still running, and the scheduler closed their
        threads (`interrupts.abandon`): from now on they emit nothing, record nothing in the
        journal and send nothing (`_open`). Waits for the emitting lock, so no step's line is
        half-way out as the apply's report begins."""
        with self._emitting:
            pass

    def _open(self) -> None:
        """On a step's thread: raise schedule.Closed once the apply no longer waits for the step
        (ADR 20): whatever it would do now comes after the run's summary spoke for it."""
        interrupts.check_open()

    def stopping(self) -> bool:
        """Whether an interrupt came since the apply began: its waits then end after one more
        look (`_waits`: `_find`, `_read`)."""
        return self._began is not None and interrupts.arrived() > self._began

    def apply(self, plan: Plan) -> Outcome:
        """Carry out the plan's changes, up to `parallelism` at a time (gpuctl.engine.schedule
        says in which order). Raises ApplyFailed, with the exact outcome, on a failure or an
        interrupt (its cause is then Interrupted: exit 130)."""
        outcome = Outcome()
        self._began = interrupts.arrived()
        pending = [c for c in plan.changes if c.action in CHANGING]
        unfinished = self.journal.unfinished()
        self.provider.on_pause(self._paused)
        self.provider = _Gated(self.provider, self._open)  # a step abandoned by a second interrupt sends nothing more
        try:
            results = schedule.run(pending, self.parallelism, lambda c: self._step(c, dict(outcome.ids), c.address in unfinished),
                                   lambda c, result: self._done(outcome, c, result), self._interrupted,
                                   stop=lambda: self.lease_known_lost() is not None, on_close=self._close)
        finally:
            self.provider.on_pause(None)
            self.provider = self.provider.inner
        overwritten = [(c, e) for c, e in results.failed if isinstance(e, LeaseLost) and e.overwritten is not None]
        results.failed = [(c, e) for c, e in results.failed if not (isinstance(e, LeaseLost) and e.overwritten is not None)]
        for c, e in overwritten:  # its own write landed: applied, then changed by the run that took the lease
            resource_id, what = e.overwritten
            results.done.append((c, (resource_id, "", 0.0)))
            outcome.overwritten[c.address] = what
            outcome.ids[c.address] = outcome.ids[f"{c.address}.id"] = resource_id
        order = {c.address: i for i, c in enumerate(pending)}
        results.done.sort(key=lambda item: order[item[0].address])
        outcome.done = [(c.address, c.action.value, result[0]) for c, result in results.done]
        lost = self.lease_known_lost()
        if lost is not None and not results.interrupted and (overwritten or results.failed or results.not_attempted):
            outcome.failed = [(c.address, c.action.value, _summary(e)) for c, e in results.failed]
            outcome.not_attempted = [(c.address, c.action.value) for c in results.not_attempted]
            first = overwritten[0] if overwritten else results.failed[0] if results.failed else None
            cause = located(first[1], first[0].address) if first is not None else LeaseLost(
                f"the account lease was {lost} while this deploy applied: no change was started after this run learned it, "
                "so the account may not hold what this deploy applied", hint=lease_lost_hint(self.flags))
            raise ApplyFailed(outcome, cause) if isinstance(cause, GpuctlError) else cause
        if results.failed or results.interrupted:
            outcome.failed = [(c.address, c.action.value, _summary(e)) for c, e in results.failed]
            outcome.failed += [(c.address, c.action.value, f"{interrupts.TWICE}: its outcome is unknown") for c in results.abandoned]
            outcome.abandoned = [c.address for c in results.abandoned]
            outcome.not_attempted = [(c.address, c.action.value) for c in results.not_attempted]
            if results.interrupted:  # exit 130, whatever the changes in flight came to: each is listed
                unknown = sum(isinstance(e, Stopped) and e.sent for _, e in results.failed) + len(results.abandoned)
                cause = _interrupted(outcome, unknown, bool(results.abandoned), flags=self.flags)
            else:
                cause = located(results.failed[0][1], results.failed[0][0].address)
            raise ApplyFailed(outcome, cause) if isinstance(cause, GpuctlError) else cause
        written = {c.name: outcome.ids[c.address] for c in pending if c.kind is Kind.ENDPOINT and c.action is not Action.DELETE and c.address in outcome.ids}
        applied.forget_gone(self.provider, self.project_id, written, self.now())
        return outcome

    @property
    def _who(self) -> str:
        """The provider in use, as messages name it: RunPod, or the local provider."""
        from gpuctl.provider.errors import Who

        return Who.of(self.provider.name).name

    def _paused(self, seconds: float, why: str) -> None:
        """A rate-limit pause holds every worker: say so, or a long apply looks hung."""
        self._tell(Waiting(f"rate limited: {why}; every request waits {seconds:.0f}s"))

    def _interrupted(self, running: int) -> None:
        """Said at once on Ctrl-C, so waiting for the changes in flight does not look like a hang;
        and at a second interrupt (`running` < 0: how many it abandoned), that the wait ended."""
        if running < 0:
            self._tell(Waiting(f"{interrupts.TWICE} ({counted(-running, 'change')}; outcome unknown)"))
            return
        self._tell(Waiting(f"interrupted: waiting for the {counted(running, 'change')} in flight to finish (a second interrupt stops waiting); nothing new starts"
                           if running else "interrupted: nothing new starts"))

    def say(self, event: Event) -> None:
        """Emit an event of a step's own (a name claim's note) as the engine's are (`_tell`)."""
        self._tell(event)

    def _tell(self, event: Event) -> None:
        """Emit from any worker thread; views see one event at a time. A step abandoned by a
        second interrupt says nothing more (`_close`)."""
        with self._emitting:
            if interrupts.abandoned():
                return
            self.emit(event)

    def _step(self, change: ResourceChange, ids: dict[str, str], unfinished: bool) -> tuple[str | None, str, float]:
        """One change, on a worker thread: (id, note, seconds), or the error, reported as an event."""
        self._tell(Started(change.address, change.action.value))
        start = self.clock()
        try:
            resource_id, note = self._one(change, ids, unfinished)
        except LeaseLost as exc:
            if exc.overwritten is None:
                self._tell(Failed(change.address, change.action.value, _summary(exc)))
            else:  # applied, then changed by the run that took the lease: not a failure of this change
                self._tell(Finished(change.address, change.action.value, exc.overwritten[0], self.clock() - start,
                                    f"applied, then changed by another writer: {exc.overwritten[1]}"))
            raise
        except BaseException as exc:
            self._tell(Failed(change.address, change.action.value, _summary(exc)))
            raise
        return resource_id, note, self.clock() - start

    def _done(self, outcome: Outcome, change: ResourceChange, result: tuple[str | None, str, float]) -> None:
        resource_id, note, seconds = result
        if resource_id:
            outcome.ids[change.address] = resource_id
            outcome.ids[f"{change.address}.id"] = resource_id
        self._tell(Finished(change.address, change.action.value, resource_id, seconds, note))

    def _one(self, change: ResourceChange, ids: dict[str, str], unfinished: bool) -> tuple[str | None, str]:
        match (change.kind, change.action):
            case (Kind.NETWORK_VOLUME, Action.CREATE):
                return self._create_volume(change, unfinished)
            case (Kind.NETWORK_VOLUME, Action.UPDATE):
                return self._grow_volume(change)
            case (Kind.ENDPOINT, Action.CREATE):
                return self._remembered(change, ids, *self._create_endpoint(change, ids, unfinished))
            case (Kind.ENDPOINT, Action.UPDATE):
                return self._remembered(change, ids, *self._update_endpoint(change, ids))
            case (Kind.ENDPOINT, Action.REPLACE):
                self._write(change.address, "delete", lambda: self.provider.delete_endpoint(change.id))
                self._forget(change.id)
                return self._remembered(change, ids, *self._create_endpoint(change, ids, unfinished))
            case (Kind.ENDPOINT, Action.DELETE):
                gone = self._write(change.address, "delete", lambda: self.provider.delete_endpoint(change.id))
                self._forget(change.id)
                return change.id, "" if gone else "it was already gone"
        raise AssertionError(f"no apply step for {change.kind} {change.action}")

    # -- identity lookups -----------------------------------------------------------------------

    def _find(self, change: ResourceChange, lookup: Callable[[], list[dict]], wait: bool, first: list[dict] | None = None) -> dict | None:
        """The existing object with this identity; when a create may have happened (an earlier
        intent, a lost answer), keep looking for `grace` seconds before concluding it did not.
        `first`: what a lookup just found, so the first look costs no request.
        After an interrupt (`stopping`) the wait is one look: the run is ending, and the 20 s
        poll held it up (ADR 20); None then does not say the object is absent (`_unsettled`)."""
        waits = self._waits(self.grace if wait else 0)
        told = False
        while True:
            found, first = (lookup() if first is None else first), None
            if len(found) > 1:
                ids = ", ".join(str(f.get("id")) for f in found)
                raise Ambiguous(f"{counted(len(found), 'object')} match ({ids})", hint="remove the duplicates, then deploy again")
            if found or waits.over:
                return found[0] if found else None
            if not told:
                self._tell(Waiting(f"{change.address}: an earlier create may not be visible yet; checking for up to {self.grace:.0f}s"))
                told = True
            waits.pause()

    def _read(self, get: Callable[[], dict], created: tuple[str, str] | None = None) -> dict:
        """Read an object back; right after a create RunPod may not show it yet, so a
        not-found is retried for `grace` seconds before it counts. After an interrupt
        (`stopping`) it looks once: the 20 s wait held the run (ADR 20). `created`: (address,
        id) of a create whose answer just gave the id; not visible at that one look, the change
        stops as created but not read back (`_not_read_back`): not-found then says nothing."""
        waits = self._waits(self.grace)
        while True:
            try:
                return get()
            except NotFound:
                if waits.stopped and created is not None:
                    raise self._not_read_back(*created) from None
                if waits.over:
                    raise
                waits.pause()

    def _waits(self, seconds: float) -> Backoff:
        """The pacing of a wait of a step's for `seconds` (an object to become visible), a look
        every `poll`: the one way the engine waits, so that every such wait ends at an interrupt
        (`stopping`) after one more look. A step's thread gets no KeyboardInterrupt: its wait
        would otherwise run to its end while the user (or CI's cancel) waits for the exit."""
        return Backoff(remaining=time_left(self.clock() + seconds, self.clock), sleep=self.sleep, first=self.poll, stop=self.stopping)

    def _not_read_back(self, address: str, resource_id: str) -> Stopped:
        """A create that was answered (its id known, the journal has it done), whose read-back
        an interrupt cut to one look before the object became visible: created, not checked.
        The journal says so (`unseen`): the next run may not see it yet either, and its create
        then looks for this one for the grace first, instead of making a second object."""
        self.journal.record(address, "create", "unseen", resource_id)
        listed = suggest("serverless", "list", flags=self.flags)
        return Stopped(f"created ({resource_id}), but not read back: interrupted, so it was looked up once, and it is not visible yet "
                       f"(`{listed}` shows it once it is; deploy again checks it)",
                       detail="the create was accepted; RunPod shows a new object a moment after its create",
                       hint=f"`{listed}` shows it once visible; deploy again reads it back and applies what is left",
                       provider=Who.of(self.provider.name))

    def _volumes_named(self, change: ResourceChange) -> list[dict]:
        return [v for v in self.provider.list_volumes() if v.get("name") == change.name and data_center(v) == change.data_center]

    def _refuse_foreign(self, change: ResourceChange, named: list[dict]) -> None:
        """Another project created this name after the plan was made (the plan refuses names
        it finds taken): stop rather than make a second endpoint of that name. `named` is every
        endpoint of that name in the account."""
        theirs = [e for e in named if owner(e) != self.project_id]
        if theirs:
            who = owner(theirs[0])
            raise Ambiguous(f'an endpoint named "{change.name}" ({theirs[0].get("id")}) was created {f"by project {who!r} " if who else ""}while this deploy ran; nothing was created',
                            hint="give this block another name, or run deploy --plan to see what to do")

    def _endpoints_named(self, change: ResourceChange) -> list[dict]:
        return [e for e in self.provider.list_endpoints() if e.get("name") == change.name]

    def _ours(self, endpoints: list[dict]) -> list[dict]:
        return [e for e in endpoints if owner(e) == self.project_id]

    def _write(self, address: str, op: str, call: Callable[[], Any]) -> Any:
        """`call()`, a write, between its intent and its outcome in the journal. Once its step is
        abandoned (`_open`), the intent stays the last word: the outcome is unknown to the run."""
        self._open()
        self.journal.record(address, op, "intent")
        try:
            result = call()
        except ProviderError as exc:
            self._open()
            # a change sent, then not sent again after an interrupt (`Stopped.sent`), is one the summary calls of unknown outcome: so does the journal
            self.journal.record(address, op, "ambiguous" if exc.outcome_unknown or (isinstance(exc, Stopped) and exc.sent) else "failed")
            raise
        self._open()
        self.journal.record(address, op, "done", result.get("id") if isinstance(result, dict) else None)
        return result

    def _create(self, change: ResourceChange, lookup: Callable[[], list[dict]], create: Callable[[], dict], unfinished: bool) -> tuple[dict, str]:
        """Create once. When the outcome is unknown (the answer was lost after the request was
        sent), look the object up, waiting out delayed visibility, and only when it is surely
        absent send the create again. A refusal (429, 503, never connected: the client has
        already retried those) or a rejection is a definite answer: nothing to wait for."""
        with self.claim(change):
            return self._create_claimed(change, lookup, create, unfinished)

    def _create_claimed(self, change: ResourceChange, lookup: Callable[[], list[dict]], create: Callable[[], dict], unfinished: bool) -> tuple[dict, str]:
        """`_create` while this project holds the claim on the name: nobody else creates it now."""
        first = None
        if change.kind is Kind.ENDPOINT:
            named = self._endpoints_named(change)
            self._refuse_foreign(change, named)
            first = self._ours(named)
        existing = self._find(change, lookup, unfinished, first)
        if existing:
            return existing, "found from an earlier run"
        if unfinished and self.stopping():  # the look for an earlier run's create was cut short: creating now could make a second one
            raise Stopped("interrupted before the create was sent: an earlier run's create of it may not be visible yet, so it was not sent",
                          hint="deploy again: it looks for the earlier create first", provider=Who.of(self.provider.name))
        for attempt in range(1, self.create_attempts + 1):
            try:
                return self._write(change.address, "create", create), ""
            except ProviderError as exc:
                if not exc.outcome_unknown:
                    raise
                existing = self._find(change, lookup, True)
                if existing:
                    return existing, "the answer was lost, but the create took effect"
                if self.stopping():  # looked up once, not for `grace`: absent now says nothing of a create still to show
                    raise self._unsettled(exc) from None
                if exc.in_flight:  # the server may still be working on it: a second create could make a second object
                    raise type(exc)(f"{exc.summary}, and it is not in the account after {self.grace:.0f}s; "
                                    "the server may still be carrying it out, so it was not sent again",
                                    hint=f"run `{suggest('serverless', 'deploy', flags=self.flags)}` again in a few minutes: it looks the object up first "
                                         f"and adopts it if the create landed ({unknown_hint(self.flags)})") from None
                if attempt == self.create_attempts:
                    raise
                self._tell(Waiting(f"{change.address}: the create did not take effect; sending it again"))
        raise AssertionError("unreachable")

    def _unsettled(self, exc: ProviderError) -> StoppedChange:
        """A create whose answer was lost, interrupted: one look did not find it, and it is not
        sent again. It may have landed, or may still land: its outcome is unknown."""
        what = exc.last if isinstance(exc, Stopped) and exc.last else exc.summary
        listed = suggest("serverless", "list", flags=self.flags)
        stopped = StoppedChange(f"{what}; interrupted, so it was looked up once and not sent again: it is not in the account yet, "
                                f"and its outcome is unknown (check with `{listed}`)",
                                detail="the server may have carried it out, or may still be carrying it out",
                                hint=f"`{listed}` shows whether it landed; deploy again adopts it if it did, and creates it if not",
                                provider=Who.of(self.provider.name))
        stopped.last = what
        return stopped

    # -- volumes --------------------------------------------------------------------------------

    def _create_volume(self, change: ResourceChange, unfinished: bool) -> tuple[str, str]:
        created, note = self._create(change, lambda: self._volumes_named(change), lambda: self.provider.create_volume(change.desired), unfinished)
        live = self._read(lambda: self.provider.get_volume(created["id"]), (change.address, created["id"]))
        if size_gb(live) < size_gb(change.desired):
            live = self.provider.update_volume(live["id"], volume_patch(size_gb(change.desired)))
        return self._verify_volume(change, live), note

    def _grow_volume(self, change: ResourceChange) -> tuple[str, str]:
        """Grow a volume under the claim on its name, read again there: another project that
        shares the volume may be growing it at this moment, and RunPod refuses a PATCH that
        would shrink what that one grew. Already as large as asked: nothing to send."""
        with self.claim(change):
            live = self.provider.get_volume(change.id)
            if size_gb(live) >= size_gb(change.desired):
                return self._verify_volume(change, live), f"another deploy grew it to {size_gb(live)} GB meanwhile"
            self._write(change.address, "update", lambda: self.provider.update_volume(change.id, change.desired))
            return self._verify_volume(change, self.provider.get_volume(change.id)), ""

    def _verify_volume(self, change: ResourceChange, live: dict) -> str:
        wrong = [k for k, v in change.desired.items() if k != "size" and live.get(k) != v]
        if "size" in change.desired and size_gb(live) < size_gb(change.desired):
            wrong.append("size")
        if wrong:
            raise self._differs(", ".join(wrong), live.get("id")) or NotHonoured(f"the volume read back differs in {', '.join(wrong)}",
                                                                 hint=f"{self._who} did not apply the change; run deploy again or check the console")
        return live["id"]

    def _differs(self, what: str, resource_id: str | None = None) -> LeaseLost | None:
        """Why an object read back differs from what was just written, when it is not the
        provider's doing: the account lease was taken meanwhile, so the run that took it may have
        written the object after this run did (`overwritten`). None while the lease is still
        this run's: then the provider did not keep the write."""
        lost = self.lease_lost()
        return overwritten(f"{what} read back otherwise", lost, resource_id, self.flags) if lost else None

    # -- endpoints ------------------------------------------------------------------------------

    def _create_endpoint(self, change: ResourceChange, ids: dict[str, str], unfinished: bool) -> tuple[str, str, int | None]:
        body = reveal_body(change.desired, ids)
        v2 = fields.create_body(body)
        created, note = self._create(change, lambda: self._ours(self._endpoints_named(change)), lambda: self.provider.create_endpoint(v2), unfinished)
        if note:  # it existed already: bring it to the desired state like an update
            self._patch(change, body, created)
        self._model_references(change, body, created["id"])
        self._verify_endpoint(body, created["id"], created=change.address)
        return created["id"], note, self._release_version(created["id"])

    def _update_endpoint(self, change: ResourceChange, ids: dict[str, str]) -> tuple[str, str, int | None]:
        """(id, note, the version the write made: None when it made no release)."""
        body = reveal_body(change.desired, ids)
        live = self._read(lambda: self.provider.get_endpoint(change.id))
        # Only a change of the template or env makes a release (api-notes §endpoint): an update of
        # the autoscaler alone reads no version (two requests fewer), and is kept as making none.
        releasing = bool(_differing(body, live) - NO_RELEASE)
        before = self._release_version(change.id) if releasing else None
        self._patch(change, body, live)
        self._model_references(change, body, change.id)
        self._verify_endpoint(body, change.id)
        after = self._release_version(change.id) if before is not None else None
        return change.id, "", after if before is not None and after != before else None

    def _patch(self, change: ResourceChange, body: dict, live: dict) -> None:
        """PATCH the top-level fields that differ, each sent whole: RunPod v2 replaces `env`
        and `scaling`, and `gpu.pools` without `excludedTypes` clears the exclusions."""
        differ = _differing(body, live)
        if differ:
            patch = {k: body[k] for k in sorted(differ) if k in body}
            self._write(change.address, "update", lambda: self.provider.update_endpoint(live["id"], patch))

    def _model_references(self, change: ResourceChange, body: dict, endpoint_id: str) -> None:
        wanted = model_references(body)
        if wanted is None:
            return
        got = self._write(change.address, "model-references", lambda: {"refs": self.provider.set_model_references(endpoint_id, wanted)})["refs"]
        if sorted(got) != sorted(wanted):
            raise NotHonoured(f"{self._who} did not honour modelReferences", hint="check the cached model id; gated models need access on Hugging Face")

    def _verify_endpoint(self, body: dict, endpoint_id: str, created: str | None = None) -> None:
        """Read the endpoint back and check it is as sent (`created`: its address, when this
        step just created it)."""
        raw = self._read(lambda: self.provider.get_endpoint(endpoint_id), (created, endpoint_id) if created else None)
        live = fields.observed_fields(raw)
        declared = fields.flatten(body)
        wrong = [p for p, v in declared.items() if p not in fields.GRAPHQL_ONLY and not fields.same(p, v, live.get(p))]
        wrong += fields.removed(declared, live)
        if wrong:
            raise self._differs(", ".join(sorted(wrong)), endpoint_id) or NotHonoured(f"{self._who} did not honour {', '.join(sorted(wrong))}", detail="the write was accepted but the endpoint read back differs",
                                                                        hint="run deploy again; if it persists, the API ignores this field")

    def _release_version(self, endpoint_id: str) -> int | None:
        """The release the endpoint is on: `endpointVersion` of its releases, the one place
        RunPod's v2 documents it (its endpoint object has no `version`), as `rollback` reads it.
        None when it cannot be read (not waited for: the endpoint itself has been read back): it
        only lets `history` credit a release exactly (without it, by time), so the write stands."""
        try:
            return release_version(self.provider.releases(endpoint_id))
        except ProviderError:
            return None

    # -- the last-applied record (ADR 10) -------------------------------------------------------

    def _remembered(self, change: ResourceChange, ids: dict[str, str], endpoint_id: str, note: str, version: int | None) -> tuple[str, str]:
        """Write the record of an endpoint just written and read back, with the release
        `version` the write made (history attributes it exactly). Its failure does not fail
        the apply (the endpoint is as gpu.jsonc says); the step's note says so, because until
        the endpoint's next applied change the plan may label its drift wrongly."""
        new = change.action in (Action.CREATE, Action.REPLACE) and not note  # created just now, under a new id
        try:
            applied.remember(self.provider, self.project_id, endpoint_id, applied.declared(change, ids), self.now(), new, by=self.applied_by, version=version,
                             config=self.config_id, source=self.applied_from, repository=self.repository, succeeds=self.previous.get(change.address))
        except ProviderError as exc:
            missed = f"the last-applied record was not written ({exc.summary}); drift origins of this endpoint may be wrong until its next applied change"
            return endpoint_id, f"{note}; {missed}" if note else missed
        return endpoint_id, note

    def _forget(self, endpoint_id: str | None) -> None:
        applied.forget(self.provider, str(endpoint_id))

