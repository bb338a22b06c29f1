"""One writer per project across machines: a lease kept in the account itself.

The `.gpu/` flock (lock.py) stops two deploys in one checkout; two CI runners have two
checkouts. RunPod template names are unique per account (api-notes §4), so a template named
for the project is a lock every runner sees: creating it takes the lease, a create that fails
because the name exists means someone holds it. The holder renews it while it applies and
deletes it at the end. A holder that was killed cannot renew, so its lease goes stale after
`ttl` seconds (plus an allowance for clock skew between machines) and the next deploy takes it
over, saying whose it was. A live lease is never broken silently: `--break-lock` takes it
after the holder has been shown.

Every command that writes an endpoint's configuration or deletes it (deploy, rollback, delete)
holds the lease of the project it writes for through `account_lease`, so none of them lands in
the middle of another's plan and apply.

The same mechanism claims one endpoint or volume name for the moment of its create (or of a
volume's growth), so two different projects racing on one name cannot both create it
(`name_claim`).
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gpuctl.engine.lock import LockHeld
from gpuctl.interrupts import EXITING_TIMEOUT_S, abandon, arrived, cleanup, held
from gpuctl.model import MARKER_ENV
from gpuctl.plan.model import LeaseSeen
from gpuctl.moments import iso_utc
from gpuctl.polling import Backoff, time_left
from gpuctl.provider.errors import AmbiguousWrite, AuthError, InvalidId, NotFound, ProviderError, Stopped, Who
from gpuctl.provider.protocol import Provider
from gpuctl.safetext import one_line
from gpuctl.v2 import env_of, owner, template_patch, template_request

LEASE_PREFIX = "gpuctl-lock-"
CLAIM_KINDS = ("endpoint", "volume")  # a name claim: gpuctl-lock-endpoint-<name>, gpuctl-lock-volume-<dc>-<name>
CLAIM_PREFIXES = tuple(f"{LEASE_PREFIX}{kind}-" for kind in CLAIM_KINDS)
RENAMED_PREFIX = "gpuctl-lease-"  # the lease of a project whose id would give a claim's name (ADR 44)
HOLDER, EXPIRES, TOKEN = "GPUCTL_LEASE_HOLDER", "GPUCTL_LEASE_EXPIRES", "GPUCTL_LEASE_TOKEN"
HOST, PID, PID_SPACE = "GPUCTL_LEASE_HOST", "GPUCTL_LEASE_PID", "GPUCTL_LEASE_PID_SPACE"
ACCOUNT_LEASE = "the account lease"
Holder = tuple[str, str, str]  # (host, pid, pid space) as a lease template records its holder
TTL_S = 300.0  # a crashed holder blocks others for at most this long (plus SKEW_S)
RENEW_S = 60.0
SKEW_S = 60.0  # clocks of two CI runners may disagree by this much
DAMAGED_AHEAD_S = 86_400.0  # an expiry further ahead than this is damaged, not a clock off by a few minutes
MAX_NAME = 191
HOLDER_SHOWN = 200  # what gpuctl writes is about 100 characters; anyone with the account's key may write a megabyte


def lease_name(kind: str, key: str) -> str:
    """`gpuctl-lock-<key>` for a project, `gpuctl-lock-endpoint-<name>` (`-volume-<dc>-<name>`)
    for a name claim; hashed when it would pass RunPod's 191-character limit. A project id
    that starts with a claim's kind (`endpoint-e5`) would name its lease as the claim on one
    of its own names (review 5, R5-4: its deploy waited for itself, and blocked another
    project's create of `e5`): its lease is `gpuctl-lease-<key>` (ADR 44). Every other project
    keeps the name every gpuctl takes, so versions still exclude each other."""
    if kind == "project" and key.startswith(tuple(f"{k}-" for k in CLAIM_KINDS)):
        name = f"{RENAMED_PREFIX}{key}"
        return name if len(name) <= MAX_NAME else f"{RENAMED_PREFIX}sha256-{hashlib.sha256(key.encode()).hexdigest()}"
    name = f"{LEASE_PREFIX}{kind + '-' if kind != 'project' else ''}{key}"
    if len(name) <= MAX_NAME:
        return name
    return f"{LEASE_PREFIX}{kind}-sha256-{hashlib.sha256(key.encode()).hexdigest()}"


def is_claim(name: str) -> bool:
    """Whether a template name is a name claim's (`name_claim`), never a project's lease."""
    return name.startswith(CLAIM_PREFIXES)


def read_expiry(template: dict, now: float) -> tuple[float | None, str | None]:
    """(the expiry a lease template holds, None), or (None, what is wrong with it) for a
    damaged one: missing, not a number, not finite, or more than a day ahead of `now`, which
    no holder writes (it writes its clock plus the TTL, and clocks differ by about SKEW_S)."""
    raw = env_of(template).get(EXPIRES)
    if raw is None or raw == "":
        return None, f"it has no {EXPIRES}"
    shown = "'" + one_line(raw, 40) + "'"
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None, f"its {EXPIRES} {shown} is not a time"
    if not math.isfinite(value):
        return None, f"its {EXPIRES} {shown} is not a finite time"
    if value - now > DAMAGED_AHEAD_S:
        return None, f"its {EXPIRES} {shown} is more than a day ahead of this machine's clock"
    return value, None


def describe_holder(template: dict, now: float, ttl: float = TTL_S) -> str:
    """`pid 12 on host (...) (expires in 240s unless renewed)`; for an expiry further ahead
    than a holder writes (its clock plus `ttl`, clocks differing by up to SKEW_S), that its
    holder's clock seems ahead, since waiting for that expiry is not what frees the lease."""
    return f"{holder_text(env_of(template))} ({describe_expiry(template, now, ttl)})"


def describe_expiry(template: dict, now: float, ttl: float = TTL_S) -> str:
    """`expires in 240s unless renewed`, `expired 30s ago`, that the expiry is damaged, or how
    far ahead of this machine's clock it is (`describe_holder`)."""
    expires, _ = read_expiry(template, now)
    if expires is None:
        return "its expiry is damaged"
    if clock_ahead(expires, now, ttl):
        return _AHEAD.format(by=_span(expires - now), limit=f"{ttl + SKEW_S:.0f}", off=_span(expires - now - ttl))
    left = expires - now
    return f"expires in {left:.0f}s unless renewed" if left > 0 else f"expired {max(0, -left):.0f}s ago"


_AHEAD = ("its expiry is {by} ahead of this machine's clock, further than the {limit}s a holder with a correct clock writes: "
          "the holder's clock seems about {off} ahead")
_AHEAD_LASTING = ("its expiry is further ahead of this machine's clock than the {limit}s a holder with a correct clock writes: "
                  "the holder's clock seems ahead")
_SPAN = r"[0-9]+(?:h[0-9]{2}m|m[0-9]{2}s|s)"  # what `_span` writes
_VARYING = ((re.compile(re.escape(_AHEAD).replace(r"\{by\}", _SPAN).replace(r"\{off\}", _SPAN).replace(r"\{limit\}", "(?P<limit>[0-9]+)")),
             lambda found: _AHEAD_LASTING.format(limit=found["limit"])),
            (re.compile(r"expires in [0-9]+s unless renewed"), lambda found: "expires unless renewed"),
            (re.compile(r"expired [0-9]+s ago"), lambda found: "has expired"))


def lasting_detail(detail: str) -> str:
    """`detail` (a lease's expiry as `describe_expiry` says it, as a document keeps it) without
    what changes from one read to the next though the lease is the same: the seconds left, or
    how far ahead of this machine's clock the expiry and its holder's clock are. For a page
    that lasts across runs and is rewritten only when what it reports changes (the drift
    issue, `gpu github drift`): `its expiry is further ahead of this machine's clock than the
    360s a holder with a correct clock writes: the holder's clock seems ahead`. Any other text
    as it is."""
    for pattern, steady in _VARYING:
        if found := pattern.fullmatch(detail):
            return steady(found)
    return detail


def holder_text(env: dict) -> str:
    """The holder a lease or claim names, as one line of at most HOLDER_SHOWN characters: the
    account hands back whatever was written there, and it is shown in errors, notes, drift's
    JSON and GitHub comments."""
    return one_line(env.get(HOLDER), HOLDER_SHOWN) if env.get(HOLDER) else "an unknown holder"


def clock_ahead(expires: float, now: float, ttl: float) -> bool:
    """Whether an expiry is further ahead than any holder writes: its clock runs ahead of ours."""
    return expires - now > ttl + SKEW_S


def stale_within(template: dict, now: float, ttl: float) -> float:
    """Seconds of waiting after which this lease, if nobody renews it, is stale for a command
    that starts waiting now (`Lease._judge`): its expiry plus the skew allowance, or, for an
    expiry further ahead than a holder writes, the TTL plus the skew from when it is first seen."""
    expires, _ = read_expiry(template, now)
    if expires is None:
        return 0.0
    return ttl + SKEW_S if clock_ahead(expires, now, ttl) else max(0.0, expires - now + SKEW_S)


def wait_flag(seconds: float) -> str:
    """A `--lock-timeout` value that outlasts `seconds`, in whole minutes with a margin for the
    polls: 360 s -> `7m`."""
    return f"{math.ceil(seconds / 60) + 1}m"


def _span(seconds: float) -> str:
    """`10800` -> `3h00m`, `400` -> `6m40s`, `40` -> `40s`: a span people read at a glance."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


@dataclass
class Lease:
    """A lease named `name`, held by `holder` (for people: `pid 12 on host (command)`)."""

    provider: Provider
    name: str
    project_id: str
    holder: str
    ttl: float = TTL_S
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    on_note: Callable[[str], None] = lambda message: None
    what: str = ACCOUNT_LEASE  # how messages name it: the account lease, or the claim on one name
    stop: Callable[[], bool] = lambda: False  # whether the wait to take it ends now: a name claim's, once the apply was interrupted (`Engine.stopping`)
    token: str = field(default_factory=lambda: secrets.token_hex(8))
    template_id: str | None = None
    cut_short: str | None = None  # the holder of a lease taken before it expired (dead process, --break-lock): it may have just created something
    replaced: Holder | None = None  # the holder whose lease this one took over
    left_by: Holder | None = None  # a claim: the holder gone with the project lease this deploy took; its claims are stale too
    _seen: dict[tuple[str, str], float] = field(default_factory=dict, repr=False)  # (template id, expiry) -> when this lease first saw it
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _renewer: threading.Thread | None = field(default=None, repr=False)
    _lost_create: bool = field(default=False, repr=False)  # a create whose answer was lost: it may hold the lease
    removed: tuple[str, bool] | None = None  # (holder, broken) of the lease this one deleted to take its place, set as the delete is sent (it may land though an interrupt comes); broken: it was live (--break-lock), not stale
    lost: str | None = None  # what became of this lease while it was held (`_check_held`): "taken over by <holder>", or "deleted from the account"
    expires: float | None = None  # the latest expiry this lease sent to the account (a create or a renewal, answered or not)

    def acquire(self, timeout: float, break_lock: bool = False) -> None:
        """Take the lease, waiting up to `timeout` seconds for its holder to finish. Raises
        LockHeld (exit 3) naming the holder when it is still held after that.
        A name claim's wait (on an apply's step thread, which no KeyboardInterrupt reaches)
        ends once `stop` says so, at an interrupt (ADR 20): nothing new starts, so the create it
        guards is not sent (`Stopped`); it waited up to CLAIM_WAIT_S (2 minutes) as the run ended."""
        waits, told = Backoff(remaining=time_left(self.clock() + timeout, self.clock), sleep=self.sleep, first=2.0, stop=self.stop), False
        current: dict | None = None
        waited = False  # only a wait for another holder ends at an interrupt: a change already running takes its free claim and goes on (ADR 20)
        while True:
            if waited and waits.stopped:
                raise self._stopped_waiting(current)
            current = self._try_create()
            if current is None:
                return
            stale, why = self._judge(current)
            if stale or break_lock:
                holder = describe_holder(current, self.clock(), self.ttl)
                if break_lock and not stale:
                    note = f"breaking, as --break-lock asks, the lease held by {holder}"
                elif self.what == ACCOUNT_LEASE:
                    note = f"taking over the stale lease of {holder}"
                else:
                    note = f"taking over {self.what}, left by {holder}"
                self.on_note(f"note: {note}{'; ' + why if why else ''}")
                if not stale or stale in ("damaged", "dead", "left"):
                    self.cut_short = holder  # its holder may have stopped a moment ago
                self.replaced = _holder(current)
                self.removed = (holder, not stale)
                self._delete(current["id"])
                break_lock = False
                continue
            if waits.stopped:
                raise self._stopped_waiting(current)
            if waits.over:
                if self.what != ACCOUNT_LEASE:  # a name claim: held by whichever deploy creates that name, of any project
                    raise LockHeld(f"{self.what} is held by {describe_holder(current, self.clock(), self.ttl)}",
                                   detail=f"the claim is the template {self.name} ({current.get('id')}) in the account",
                                   hint="another deploy is creating an object of this name; deploy again once it has finished")
                raise LockHeld(f"another gpuctl command of project \"{self.project_id}\" holds the account lease: {describe_holder(current, self.clock(), self.ttl)}",
                               detail=f"the lease is the template {self.name} ({current.get('id')}) in the account",
                               hint=self._held_hint(current))
            if not told:
                self.on_note(f"waiting for {self.what} held by {describe_holder(current, self.clock(), self.ttl)}")
                told = True
            waits.pause()
            waited = True

    def _stopped_waiting(self, current: dict | None) -> Stopped:
        """An interrupt ended the wait for a name claim: its create was not sent."""
        by = f" held by {describe_holder(current, self.clock(), self.ttl)}" if current is not None else ""
        return Stopped(f"interrupted while waiting for {self.what}{by}: the create was not sent",
                       hint="another deploy is creating an object of this name; deploy again once it has finished",
                       provider=Who.of(self.provider.name))

    def _held_hint(self, current: dict) -> str:
        """What to do about a project lease that is still held: a wait long enough for it to go
        stale if its holder has stopped (a `--lock-timeout 5m` could end just before), or
        --break-lock once the holder is known to be gone."""
        from gpuctl.author import holder_name, holder_place

        now = self.clock()
        wait = wait_flag(stale_within(current, now, self.ttl))
        host, pid, _ = _holder(current)
        place = holder_place(holder_text(env_of(current)), pid, host)  # where it runs (a run of Actions), as the refusal names it
        who = holder_name(pid, host, place) if host and pid else "its holder"
        expires, _ = read_expiry(current, now)
        if expires is not None and clock_ahead(expires, now, self.ttl):
            return (f"its holder's clock seems ahead, so its expiry is no guide: a lease nobody renews is taken over "
                    f"{self.ttl + SKEW_S:.0f}s after a waiting command first sees it. Pass --lock-timeout {wait} to wait that long "
                    f"(if its holder is still running, the wait ends when it finishes), or check that {who} is gone and pass --break-lock; "
                    f"then fix that machine's clock (NTP)")
        return f"wait for it to finish, pass --lock-timeout {wait} to wait (a holder that stopped leaves a lease that is stale by then), or, if you are sure {who} is gone, --break-lock"

    @contextmanager
    def held(self, wait: float, break_lock: bool = False, renew_every: float = RENEW_S) -> Iterator[Lease]:
        """Hold it for the body of a `with`: taken (waiting up to `wait` seconds; LockHeld when
        it stays held), renewed while the body runs, released however the body ends.

        The release runs to its end even when Ctrl-C or SIGTERM comes in the middle of it
        (`gpuctl.interrupts.cleanup`): cut short, it left the lease in the account until it went
        stale, and the project's next deploy waited for it or exit 3. An interrupt that came
        during the release is raised once it is done (exit 130); one that ended the body already
        is the one that stands. So does a create of the lease: an interrupt during its POST is
        raised once the answer is in, so a lease just created is released too."""
        try:
            self.acquire(wait, break_lock)
            self.keep_alive(renew_every)
            yield self
        except BaseException:
            cleanup(self.release, self._say_releasing, unwinding=True)
            raise
        cleanup(self.release, self._say_releasing, unwinding=False)

    def _say_releasing(self) -> None:
        """What gpu says when an interrupt comes while it releases: why it has not stopped yet."""
        self.on_note(f"interrupted: releasing {self.what} ({self.name}) first")

    def keep_alive(self, every: float = RENEW_S) -> None:
        """Renew the lease in the background until `release`."""
        def loop() -> None:
            while not self._stop.wait(every):
                self.renew()

        self._renewer = threading.Thread(target=loop, name=f"renew {self.name}", daemon=True)
        self._renewer.start()

    def renew(self) -> None:
        if self.template_id is None or self.lost is not None:
            return
        try:
            self.provider.update_template(self.template_id, template_patch(self._env()))
        except ProviderError as exc:
            if self._stop.is_set():  # released meanwhile (its answer came late): nothing to say after the run's summary
                return
            if isinstance(exc, NotFound):
                self._check_held()  # deleted: broken by another run's --break-lock, or by hand
                return
            self.on_note(f"warning: could not renew {self.what} {self.name} ({exc.summary}); it expires in {self.ttl:.0f}s")

    def still_held(self) -> bool:
        """Ask the account now whether it still has this lease (`_check_held`); `lost` says what
        became of it when it does not. For a caller that must tell another run's write from the
        provider's fault (engine.flow, review 5 R5-9)."""
        return self._check_held()

    def _check_held(self) -> bool:
        """Whether the account still has this lease (its template, with this lease's token).
        When it does not, another run broke it (`--break-lock`) or someone deleted it while this
        one held it: what this run writes may interleave with what the other writes. `lost`
        says what became of it, and a warning says so at once (a renewal may find it minutes
        before the run ends); the deploy flow then ends with an error (a run told nothing
        reported success while its writes were overwritten, or overwrote the other's)."""
        if self.lost is not None:
            return False
        try:
            current = self._current()
        except ProviderError:
            return True  # not known: the release goes on as before
        if current is not None and env_of(current).get(TOKEN) == self.token:
            return True
        self.lost = (f"taken over by {describe_holder(current, self.clock(), self.ttl)}" if current is not None
                     else "deleted from the account (broken by another run's --break-lock, which has released it since, or deleted by hand)")
        self.on_note(f"warning: {self.what} ({self.name}) was {self.lost} while this run held it")
        return False

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            # A renewal in flight is waited for, but as gpu exits after a second interrupt only as
            # long as a request then waits (a daemon thread: it ends with the process).
            self._renewer.join(None if arrived() < 2 else EXITING_TIMEOUT_S)
            if self._renewer.is_alive():  # not waited for any longer: it sends and says nothing more (ADR 20)
                abandon(self._renewer)
        if self.template_id is None and self._lost_create:
            try:  # an interrupt came right after a create whose answer was lost: it may have landed
                current = self._current()
            except ProviderError:
                current = None
            if current is not None and env_of(current).get(TOKEN) == self.token:
                self.template_id = current["id"]
        self._lost_create = False
        if self.template_id is None:
            return
        # Its template is gone, or another's: nothing of this lease's to delete. Not asked as gpu
        # exits after a second interrupt: the delete is by this lease's own template id, which
        # never names another holder's lease, and every request then may take its 2 s.
        if arrived() < 2 and not self._check_held():
            self.template_id = None
            return
        try:
            self._delete(self.template_id)
        except ProviderError as exc:
            self.on_note(f"warning: could not release {self.what} {self.name} ({exc.summary}); {self._left_until()}")
        self.template_id = None

    def _left_until(self) -> str:
        """How long a lease this run could not release stays in the way, and how to take it
        sooner: its latest expiry plus the clock-skew allowance, at once on this machine once
        this process is gone (`dead_here`), and, for the account lease, `--break-lock`."""
        now = self.clock()
        stale = (self.expires if self.expires is not None else now + self.ttl) + SKEW_S
        when = (f"it goes stale at {iso_utc(stale)} ({_span(stale - now)} from now: its expiry plus {SKEW_S:.0f}s for clock skew), "
                "or at once for a gpuctl command on this machine once this process has exited")
        if self.what != ACCOUNT_LEASE:
            return f"{when}; the project's next deploy that applies a change deletes it"
        return f"{when}; to take it over sooner from another machine, run the next command with --break-lock once this run has stopped"

    # -- the account side -----------------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        """The lease template's env, for a create or a renewal about to be sent: its expiry is
        kept (`expires`), since the account may hold it from then on."""
        expires = round(self.clock() + self.ttl)
        self.expires = max(self.expires or 0.0, float(expires))
        return {MARKER_ENV: self.project_id, HOLDER: self.holder, EXPIRES: str(expires), TOKEN: self.token,
                HOST: socket.gethostname(), PID: str(os.getpid()), PID_SPACE: pid_space()}

    def _created(self) -> bool:
        body = template_request(self.name, "gpuctl/lease:none", self._env())
        with held():  # a lease created is a lease known, so `held`'s release finds it even when an interrupt came meanwhile
            try:
                self.template_id = self.provider.create_template(body)["id"]
                return True
            except (AuthError, InvalidId):
                raise
            except AmbiguousWrite:
                self._lost_create = True  # it may have landed: release looks for it by token
                return False
            except ProviderError:
                return False  # the name is taken, or the server is busy: the account says which

    def _try_create(self) -> dict | None:
        """None when the lease is now ours; else the template that holds it."""
        if self._created():
            return None
        for _ in range(5):
            current = self._current()
            if current is not None and env_of(current).get(TOKEN) == self.token:
                self.template_id = current["id"]  # our create took effect; its answer was lost
                return None
            if current is not None:
                return current
            self.sleep(0.5)  # refused, yet no lease visible: just released, or not visible yet
            if self._created():
                return None
        raise LockHeld(f"could not take the account lease {self.name}: the account refuses the template and shows none",
                       hint="run the command again; if it persists, look for a template of that name in the account")

    def _current(self) -> dict | None:
        return next((t for t in self.provider.list_templates() if t.get("name") == self.name), None)

    def _judge(self, template: dict) -> tuple[str | None, str | None]:
        """(why the lease `template` is stale, a note saying so when the holder's line does not),
        or (None, None) while it is live. Stale: "expired", its expiry plus the skew allowance
        passed; "unrenewed", its expiry is further ahead than a holder writes (a clock off by
        more than SKEW_S) and nobody renewed it for `ttl` plus the skew since this lease first
        saw it: a dead holder blocks at most that long whatever expiry it wrote; "damaged", an
        expiry nobody can wait for (missing, not a finite number, a day ahead): nobody renews
        it; "dead", held by a process of this machine that no longer exists (a deploy killed
        with -9 here frees its lease at once); "left", a claim of the holder whose project
        lease this deploy took over."""
        env, now = env_of(template), self.clock()
        expires, damage = read_expiry(template, now)
        if expires is None:
            return "damaged", f"the lease template {self.name} ({template.get('id')}) is damaged: {damage}"
        if now > expires + SKEW_S:
            return "expired", None
        first_seen = self._seen.setdefault((str(template.get("id")), str(env.get(EXPIRES))), now)  # a renewal writes a new expiry
        if now > first_seen + self.ttl + SKEW_S:
            return "unrenewed", (f"the lease template {self.name} ({template.get('id')}) says it expires {expires - now:.0f}s from now, "
                                 f"more than a holder writes, and was not renewed for {now - first_seen:.0f}s")
        if dead_here(template):
            return "dead", None
        if self.left_by is not None and _holder(template) == self.left_by:
            return "left", None
        return None, None

    def _delete(self, template_id: str) -> None:
        try:
            self.provider.delete_template(template_id)
        except NotFound:
            pass


def _holder(template: dict) -> Holder:
    env = env_of(template)
    return str(env.get(HOST) or ""), str(env.get(PID) or ""), str(env.get(PID_SPACE) or "")


@functools.cache
def pid_space() -> str:
    """Which processes a pid names here: a digest of the kernel's boot id and this process's pid
    namespace. A pid is only a process's name within one namespace of one running kernel, and
    the host name says neither: containers on one host with host networking, or CI jobs given
    one `--hostname`, share it while each has its own pids. The boot id alone is not enough
    (containers on one host share the kernel), nor is the namespace alone (the host's own has
    the same inode number on every machine). Where /proc does not say (macOS), both parts are
    empty and the host name decides as before: there is one pid space per running system."""
    parts = []
    for read in (lambda: Path("/proc/sys/kernel/random/boot_id").read_text().strip(), lambda: os.readlink("/proc/self/ns/pid")):
        try:
            parts.append(read())
        except OSError:
            parts.append("")
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def _alive(pid: str | None) -> bool:
    try:
        os.kill(int(pid or ""), 0)
    except ProcessLookupError:
        return False
    except (ValueError, PermissionError, OverflowError):
        return True  # not ours to judge: leave it to the expiry
    return True


def seen_by_plan(templates: Iterable[dict], project_id: str, now: float) -> LeaseSeen | None:
    """The project's account lease as a plan or a drift report sees it (`plan.model.LeaseSeen`),
    from the templates read with the account: nothing is taken, waited for or read again. The
    one rule by which `deploy --plan` and `drift` say whether another command is applying, so
    the same account gets the same answer from both. None when there is no lease, or it is
    stale: expired, or of a process of this machine that is gone, whatever its expiry says (the
    next deploy takes either over at once, so nobody is applying under it). A lease that cannot
    be judged (a damaged expiry, a holder's clock far ahead: deploy counts it only until nobody
    renews it, which one read cannot see; a template of an unexpected shape) is `unclear`,
    never an error: neither report is about the lease."""
    name = lease_name("project", project_id)
    template = next((t for t in templates if isinstance(t, dict) and t.get("name") == name), None)
    if template is None:
        return None
    try:
        env = env_of(template)
        holder = holder_text(env) if env.get(HOLDER) else None
        if dead_here(template):
            return None
        expires, damage = read_expiry(template, now)
        if expires is None:
            return LeaseSeen("unclear", name, holder, str(damage))
        if now > expires + SKEW_S:
            return None
        status = "unclear" if clock_ahead(expires, now, TTL_S) else "held"
        return LeaseSeen(status, name, holder, describe_expiry(template, now))
    except (TypeError, ValueError, AttributeError, OverflowError) as exc:  # a template of a shape no gpuctl writes
        return LeaseSeen("unclear", name, None, f"the lease template could not be read ({type(exc).__name__})")


def dead_here(template: dict) -> bool:
    """Whether a lease's holder was a process of this machine that no longer exists (a command
    killed with -9 here): its lease is stale, whatever its expiry says. "This machine" is the
    host name and the pid space (`pid_space`): a pid of another container with the same host
    name says nothing about the processes here. A lease that records no pid space (written by
    an older gpuctl) is judged by its expiry alone."""
    env = env_of(template)
    return env.get(HOST) == socket.gethostname() and env.get(PID_SPACE) == pid_space() and not _alive(env.get(PID))


def project_lease(provider: Provider, project_id: str, command: str, on_note: Callable[[str], None], **options: Any) -> Lease:
    """The project's account lease, its holder `pid 12 on HOST (`COMMAND`, since TIME)`; in
    GitHub Actions `pid 12 on HOST in owner/repo:branch (...)`, the run's place
    (`author.applied_from`), which is what a public page may name of it (`author.public_holder`)."""
    from gpuctl.author import applied_from, holder_name

    place = applied_from(os.environ)[0] if os.environ.get("GITHUB_ACTIONS") == "true" else None
    holder = f"{holder_name(os.getpid(), socket.gethostname(), place)} (`{command}`, since {iso_utc()})"
    return Lease(provider, lease_name("project", project_id), project_id, holder, on_note=on_note, **options)


def lease_project(endpoint: dict, project_id: str | None) -> str | None:
    """The project whose writers must not run while `endpoint` is written or deleted: its
    owner (this project's, or another one's under --force), else this project's, whose deploy
    may be adopting it (ADR 11); None for an unmarked endpoint outside any project."""
    return owner(endpoint) or project_id


@contextmanager
def account_lease(provider: Provider, project_id: str | None, command: str, on_note: Callable[[str], None], *, wait: float,
                  break_lock: bool = False, taking: Callable[[Lease], None] | None = None) -> Iterator[Lease | None]:
    """Hold the project's account lease for the body of a `with` (deploy, rollback and delete
    all take it here): waiting up to `wait` seconds, `break_lock` after showing the holder
    (LockHeld, exit 3, when it stays held), renewed while the body runs, released however it
    ends. A project of None has no lease to take: a note says so and the body runs without one.
    `taking` gets the lease before it is taken, so a caller interrupted while it waits knows
    what the wait did to the account already (`Lease.removed`: another holder's lease deleted)."""
    if project_id is None:
        on_note("note: the endpoint belongs to no project, so there is no account lease to take")
        yield None
        return
    lease = project_lease(provider, project_id, command, on_note)
    if taking is not None:
        taking(lease)
    with lease.held(wait, break_lock) as lease:
        yield lease


CLAIM_TTL_S = 60.0
CLAIM_MARGIN_S = 15.0  # a few polls (2 s apart) and the look-ups between them
# A claim left by a killed deploy is stale at most CLAIM_TTL_S + SKEW_S after it was last
# renewed (`Lease._judge`), so a deploy waiting for it finds it stale instead of giving up
# first (exit 3 with nothing to do but deploy again).
CLAIM_WAIT_S = CLAIM_TTL_S + SKEW_S + CLAIM_MARGIN_S


@contextmanager
def name_claim(provider: Provider, project_id: str, change: Any, on_note: Callable[[str], None], left_by: Holder | None = None, *,
               clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep,
               stop: Callable[[], bool] = lambda: False) -> Iterator[None]:
    """Hold `gpuctl-lock-endpoint-<name>` (or `-volume-<dc>-<name>`) while creating it, or
    growing the volume, so two projects racing on one name take turns; the second then finds
    the first one's object (or the volume already grown).
    It waits up to CLAIM_WAIT_S for the claim, longer than a dead holder's claim takes to go stale.
    `left_by`: the holder whose project lease this deploy took over (`Lease.replaced`);
    a claim it left is taken at once, with a note, as its lease was. `stop`: the wait for the
    claim ends now (the apply was interrupted): the create is not sent."""
    kind, key = ("volume", f"{change.data_center}-{change.name}") if change.kind.value == "network_volume" else ("endpoint", change.name)
    holder = f"project {project_id!r}, pid {os.getpid()} on {socket.gethostname()}"
    claim = Lease(provider, lease_name(kind, key), project_id, holder, ttl=CLAIM_TTL_S, on_note=on_note, what=f"the claim on the {kind} name {key!r}",
                  left_by=left_by, clock=clock, sleep=sleep, stop=stop)
    with claim.held(CLAIM_WAIT_S, renew_every=CLAIM_TTL_S / 3):
        yield


def forget_claims(provider: Provider, project_id: str, templates: Iterable[dict], held: Lease, on_note: Callable[[str], None]) -> None:
    """After an apply under this project's account lease (`held`), delete the name claims of
    this project that are left in the account: a deploy killed while it created a name leaves
    its claim behind, and when the next deploy does not create that name nothing else would
    remove it. Only the project lease's holder takes claims of the project, and this one has
    released its own, so any other is left over. Housekeeping: a failure is a warning only."""
    for template in templates:
        env = env_of(template)
        name = str(template.get("name") or "")
        if not is_claim(name) or owner(template) != project_id or TOKEN not in env:
            continue
        if name == held.name or template.get("id") == held.template_id:
            continue
        try:
            provider.delete_template(template["id"])
        except NotFound:
            continue
        except ProviderError as exc:
            on_note(f"warning: could not delete the name claim {one_line(name, MAX_NAME)} ({exc.summary}); the next deploy that applies a change deletes it")
            continue
        on_note(f"note: deleted the name claim {one_line(name, MAX_NAME)}, left by {holder_text(env)}")

