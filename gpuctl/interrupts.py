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
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from gpuctl.errors import ExitCode, GpuctlError


TICK_S = 0.2  # the longest the main thread waits at a time for other threads, so a signal is acted on within it


class Interrupted(GpuctlError):
    exit_code = ExitCode.INTERRUPTED


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _raise_interrupt(signum, frame) -> None:
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
    handler)."""
    if _main_thread():
        signal.signal(signal.SIGTERM, _raise_interrupt)


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
            yield
            self.done = True
        self.signals += caught


@contextmanager
def writing(before: Callable[[], Interrupted], after: Callable[[], Interrupted], say: Callable[[], None] | None = None) -> Iterator[Write]:
    """Deploy's rule for an interrupt, for a command whose change is one write (rollback,
    delete): what is in flight finishes, the command says what was done, and it ends with exit
    130. An interrupt before the write ends it with `before()` (nothing was changed); one during
    the write (`Write.step`, `say()` told at once) waits for it, and that one, or any later one
    in the body, ends it with `after()` (the write stands): a bare "interrupted" let an operator
    believe nothing had changed while the write landed seconds later (review 3, R9). The body
    ends normally only when no interrupt came."""
    write = Write(say)
    try:
        yield write
    except KeyboardInterrupt:
        raise (after() if write.done else before()) from None
    if write.signals:
        raise after()
