"""Ctrl-C (SIGINT) and SIGTERM (a CI runner cancelling, `kill`) around steps that must not be
cut in half: the one mechanism every such step uses.

A step that undoes or records something (release the account lease, delete a warm-up pod,
unlock the project lock, write a result) must finish even when an interrupt comes in the
middle of it, or what it cleans up is left behind: a lease held until it goes stale, a pod
that costs money. `held` runs such a step with both signals caught; the step finishes, and the
interrupt then takes its course (a KeyboardInterrupt, exit 130), or, for a step that ends a
command whose outcome is decided, is reported by the caller. A step run while an exception
already unwinds (a `finally`, an `except BaseException`) uses `raise_after=False` plus
`cleanup`, which keeps that exception: it already ends the command.

Handlers can only be installed from the main thread, the only one a signal interrupts; on
another thread the helpers do nothing and the caller's own handling applies.

Every interrupt the process receives through these handlers is counted (`arrived`), so code
on any thread can see that one came: the HTTP client sends no request again, and sleeps no
backoff, once an interrupt came after the request began (review 5, R5-2: a PATCH in flight
was re-sent for 3 minutes after Ctrl-C), and a second interrupt stops the wait for a write in
flight (`Write.send`, the apply's drain), as Terraform's "Two interrupts received. Exiting
immediately" does.

A thread whose wait a second interrupt ended is not stopped (it cannot be, half-way through a
request); it is closed instead (`abandon`), the one rule for every such thread, a deploy's step
or the one write of `rollback` or `delete`: from then on it sends, prints and records nothing
(`check_open`, which the HTTP client asks before every request; `abandoned`), since the
command's report has already spoken for it (ADR 20). `rollback`'s write thread once went on
with its read-back and last-applied record after the report had called its outcome unknown.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from weakref import WeakSet

from gpuctl.errors import ExitCode, GpuctlError


TICK_S = 0.2  # the longest the main thread waits at a time for other threads, so a signal is acted on within it
EXITING_TIMEOUT_S = 2.0  # the longest a request begun after a second interrupt waits for its answer (a lease's release as gpu exits; the HTTP client)
TWICE = "Two interrupts received: stopped waiting for the write in flight"  # said when a second interrupt ends that wait

_count = 0  # interrupts received so far (`arrived`); only ever grows
_closed: WeakSet[threading.Thread] = WeakSet()  # threads a second interrupt abandoned (`abandon`)


class Interrupted(GpuctlError):
    exit_code = ExitCode.INTERRUPTED


class Abandoned(KeyboardInterrupt):
    """A second interrupt ended the wait for a write in flight (`Write.send`): it was sent, and
    whether it was carried out is unknown."""


class Closed(BaseException):
    """Raised on a thread that was abandoned (`abandon`) where it would send, print or record
    anything more: the command's report has spoken for what it was doing. A BaseException, so
    no `except Exception` on the way swallows it."""


def abandon(*threads: threading.Thread) -> None:
    """Close `threads`, whose wait a second interrupt ended: from now on each sends no request
    (the HTTP client asks `check_open`), emits no line and writes no record (`abandoned`)."""
    for thread in threads:
        _closed.add(thread)


def abandoned(thread: threading.Thread | None = None) -> bool:
    """Whether `thread` (default: the calling one) was abandoned (`abandon`)."""
    return (thread or threading.current_thread()) in _closed


def check_open() -> None:
    """Raise Closed on a thread that was abandoned: called before anything it would send or
    record. Never on the main thread, which no interrupt abandons."""
    if abandoned():
        raise Closed


def arrived() -> int:
    """How many interrupts (SIGINT, SIGTERM) this process has received through gpuctl's
    handlers. A request, a wait, compares it with the count when it began: a higher one means
    an interrupt came meanwhile. Safe to read from any thread; it takes no lock, so the signal
    handler that raises it never waits for one."""
    return _count


def note_interrupt() -> None:
    """Count an interrupt: called by every handler of gpuctl's, and by code that learns of one
    another way (a KeyboardInterrupt of a process whose handlers are not gpuctl's)."""
    global _count
    _count += 1


def nap(seconds: float) -> None:
    """time.sleep(seconds), ended early by an interrupt that arrives meanwhile: the HTTP
    client's backoff between attempts, which an interrupt makes pointless."""
    start, end = arrived(), time.monotonic() + seconds
    while arrived() == start:
        left = end - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(TICK_S, left))


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _raise_interrupt(signum, frame) -> None:
    note_interrupt()
    raise KeyboardInterrupt


def sigterm_as_ctrl_c() -> None:
    """From now on SIGTERM raises KeyboardInterrupt in the main thread, as Ctrl-C does: the one
    way gpu treats it, installed by `gpuctl.cli.main` for the whole process. SIGTERM is how
    GitLab, Jenkins and Kubernetes cancel a job (GitHub Actions after SIGINT); with its default,
    gpu died on the spot and left the account lease, its name claims and a warm-up pod behind.
    So every command ends on it as on Ctrl-C, through the same `finally`s and `held` steps (a
    deploy finishes the changes in flight, prints what was done and releases the lease; `warm`
    deletes its pod; `status --watch` and `logs -f` stop with exit 0), as Terraform treats it.
    A program that drives gpuctl's engine or warm-ups without the CLI calls this once at its
    start, from the main thread (elsewhere it does nothing: only the main thread can install a
    handler). SIGINT gets the same handler, Python's own but for counting the interrupt
    (`arrived`), which the HTTP client reads to send nothing again after it."""
    if _main_thread():
        signal.signal(signal.SIGTERM, _raise_interrupt)
        signal.signal(signal.SIGINT, _raise_interrupt)  # Python's own Ctrl-C, counted (`arrived`)


@contextmanager
def held(interrupt_after: bool = True, say: Callable[[], None] | None = None) -> Iterator[list[int]]:
    """Run a step that must finish (create, then delete, a pod; release a lease): SIGINT and
    SIGTERM that arrive meanwhile are held and raised as KeyboardInterrupt once it is done.
    With `interrupt_after=False` the step is the last of a command whose outcome is decided
    (writing its result), or runs while an exception already unwinds: they are not raised, the
    outcome stands; the caller gets the signals caught (the list yielded) to say so.
    `say()` runs at the first signal held, so a person who pressed Ctrl-C learns why gpu has
    not stopped yet; it must only write a line (it runs inside the signal handler)."""
    caught: list[int] = []
    if not _main_thread():
        yield caught
        return

    def hold(signum, frame) -> None:
        note_interrupt()
        caught.append(signum)
        if say is not None and len(caught) == 1:
            try:
                say()
            except Exception:  # noqa: BLE001 - a note that cannot be written must not end the step it is about
                pass

    previous = {s: signal.signal(s, hold) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield caught
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if caught and interrupt_after:
        raise KeyboardInterrupt


def cleanup(step: Callable[[], object], say: Callable[[], None] | None = None, *, unwinding: bool) -> None:
    """Run `step`, a cleanup (release, unlock), to its end whatever signal comes meanwhile.
    When an exception already `unwinding` ends the command, a signal held here is dropped: that
    exception stands (an interrupted apply's own summary, its exit code). When the body ended
    normally, the signal is raised once the step is done, so the command still ends as
    interrupted (exit 130)."""
    with held(interrupt_after=not unwinding, say=say):
        step()


class Write:
    """The one write of a command that makes a single one (`rollback`'s PATCH, `delete`), as
    `writing` runs it: `step()` wraps the write and what must follow it at once (its read-back,
    gpuctl's records of it). `done` once that step has ended."""

    def __init__(self, say: Callable[[], None] | None):
        self.say = say
        self.done = False
        self.signals: list[int] = []

    @contextmanager
    def step(self) -> Iterator[None]:
        """The write in flight: SIGINT and SIGTERM are held until it is done (never raised in
        the middle of it: the request would still land, unreported), and counted for `writing`."""
        with held(interrupt_after=False, say=self.say) as caught:
            self.signals = caught  # the same list: what comes while the step runs is seen at once (`send`)
            yield
            self.done = True

    def send(self, call: Callable[[], Any]) -> Any:
        """`call()`, the write itself, inside `step`: run on a daemon thread while this thread
        waits a tick at a time, so a second interrupt ends the wait at once (Abandoned: the
        write was sent and its outcome is unknown) instead of after the request's timeout, and
        closes the thread (`abandon`): what `call` would do after its write answers (a
        read-back, a record) is not done. The first interrupt only stops the client sending it
        again (`arrived`)."""
        if not _main_thread():
            return call()
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["value"] = call()
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
                box["error"] = exc

        thread = threading.Thread(target=run, name="write", daemon=True)
        thread.start()
        while thread.is_alive():
            thread.join(TICK_S)
            if thread.is_alive() and len(self.signals) >= 2:
                abandon(thread)
                raise Abandoned
        if "error" in box:
            raise box["error"]
        return box["value"]


@contextmanager
def writing(before: Callable[[], Interrupted], after: Callable[[], Interrupted], say: Callable[[], None] | None = None,
            unknown: Callable[[str], Interrupted] | None = None) -> Iterator[Write]:
    """Deploy's rule for an interrupt, for a command whose change is one write (rollback,
    delete): what is in flight finishes, the command says what was done, and it ends with exit
    130. An interrupt before the write ends it with `before()` (nothing was changed); one during
    the write (`Write.step`, `say()` told at once) waits for it, and that one, or any later one
    in the body, ends it with `after()` (the write stands): a bare "interrupted" let an operator
    believe nothing had changed while the write landed seconds later (review 3, R9). The body
    ends normally only when no interrupt came.
    A write whose answer never came, and which the interrupt kept from being sent again (the
    client's `Stopped`), or whose wait a second interrupt ended (Abandoned), ends with
    `unknown(why)`: it may have been carried out (review 5, R5-2); a `Stopped` before anything
    was sent ends with `before()`."""
    from gpuctl.provider.errors import Stopped

    write = Write(say)
    try:
        yield write
    except Abandoned:
        raise (unknown or _unknown)(TWICE) from None
    except KeyboardInterrupt:
        raise (after() if write.done else before()) from None
    except Stopped as stopped:
        if not stopped.sent:
            raise before() from None
        raise (unknown or _unknown)(f"{stopped.last}; not sent again") from None
    if write.signals:
        raise after()


def _unknown(why: str) -> Interrupted:
    return Interrupted(f"interrupted while the write was in flight: its outcome is unknown ({why})",
                       hint="the write may have been carried out: look at the account before you run the command again")
