"""The order of an apply, and running it on up to N workers.

A change may start once everything it needs is done: an endpoint needs the volume changes it
attaches (the id of a volume still to be created is known only then), and deletions need every
other change (they come last, so a failure never leaves the account with less than before).
Among the changes that may start, the plan's order decides, so one worker (`--parallelism 1`)
applies exactly in the plan's order.

After the first failure nothing new starts; the steps already running finish, so what the
summary reports as done, failed and not attempted is exactly what happened. An interrupt
(Ctrl-C) does the same: the steps running finish and are settled like any other, and the
results say it was interrupted, so the caller can report exactly what happened. A second
interrupt stops that wait (Terraform: "Two interrupts received. Exiting immediately"): the
steps still running are abandoned, their writes' outcome unknown (review 5, R5-2), and their
threads closed (`interrupts.abandon`: they send, say and record nothing more). So each step
runs on a daemon thread, which the process does not wait for as it exits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
import threading
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from gpuctl import interrupts
from gpuctl.interrupts import TICK_S, held
from gpuctl.plan.model import Action, Kind, ResourceChange, Unknown
from gpuctl.v2 import volume_ids


def _references(value: Any) -> set[str]:
    """The addresses whose ids `value` (a desired body) is waiting for."""
    if isinstance(value, Unknown):
        return {value.ref.removesuffix(".id")}
    if isinstance(value, dict):
        return set().union(*(_references(v) for v in value.values())) if value else set()
    if isinstance(value, (list, tuple)):
        return set().union(*(_references(v) for v in value)) if value else set()
    return set()


def _attached_ids(change: ResourceChange) -> set[str]:
    body = change.desired if isinstance(change.desired, dict) else {}
    return set(volume_ids(body))


def prerequisites(pending: Sequence[ResourceChange]) -> dict[str, frozenset[str]]:
    """{address: addresses that must be done before it starts} for the changes of one apply."""
    volumes = {c.address: c for c in pending if c.kind is Kind.NETWORK_VOLUME}
    by_id = {c.id: a for a, c in volumes.items() if c.id}
    others = {c.address for c in pending if c.action is not Action.DELETE}
    needs: dict[str, frozenset[str]] = {}
    for change in pending:
        if change.action is Action.DELETE:
            needs[change.address] = frozenset(others)
        elif change.kind is Kind.ENDPOINT:
            attached = (_references(change.desired) & volumes.keys()) | {by_id[i] for i in _attached_ids(change) if i in by_id}
            needs[change.address] = frozenset(attached)
        else:
            needs[change.address] = frozenset()
    return needs


_THREADS: WeakKeyDictionary[Future, threading.Thread] = WeakKeyDictionary()  # each step's thread, once it runs (`_run_into`)
Closed = interrupts.Closed  # raised on a step's thread the scheduler abandoned, where it would report, record or send more


@dataclass
class Results:
    """What became of each change: its step's value, its error, or nothing (not attempted).
    `done` and `not_attempted` follow the plan's order; `failed` the order of the failures, so
    the first is what stopped the run."""

    done: list[tuple[ResourceChange, Any]] = field(default_factory=list)
    failed: list[tuple[ResourceChange, BaseException]] = field(default_factory=list)
    not_attempted: list[ResourceChange] = field(default_factory=list)
    interrupted: BaseException | None = None  # the KeyboardInterrupt that stopped the run, once the running steps finished
    abandoned: list[ResourceChange] = field(default_factory=list)  # still running when a second interrupt ended the wait: outcome unknown


def run(pending: Sequence[ResourceChange], parallelism: int, step: Callable[[ResourceChange], Any],
        on_done: Callable[[ResourceChange, Any], None] = lambda change, value: None,
        on_interrupt: Callable[[int], None] = lambda running: None,
        stop: Callable[[], bool] = lambda: False, on_close: Callable[[], None] = lambda: None) -> Results:
    """Run `step(change)` for every change in `pending` (in plan order), up to `parallelism` at a
    time, each once its prerequisites are done. `on_done` runs on this thread as each step
    succeeds, before anything that needs it starts. Stops starting new steps after the first
    failure, and once `stop()` says so (the account lease is known lost: every write then lands
    over another run's). An interrupt (KeyboardInterrupt on this thread) stops starting new steps too:
    `on_interrupt(n)` is told how many are still running, they finish and are settled, and the
    results carry the interrupt for the caller to raise. A second interrupt ends that wait: the
    threads of the steps still running are closed (`interrupts.abandon`: from then on they do
    nothing more), `on_close()` runs, then `on_interrupt(-n)` is told how many are abandoned
    (`Results.abandoned`)."""
    needs, results = prerequisites(pending), Results()
    order = {c.address: i for i, c in enumerate(pending)}
    waiting, running, finished = list(pending), {}, set()
    try:
        while waiting or running:
            if not results.failed and not stop():
                _start(waiting, running, finished, needs, parallelism, lambda f, c: _spawn(f, step, c))
            if not running:
                break
            ended = _first_ended(running)
            for future in sorted(ended, key=lambda f: order[running[f].address]):
                _settle(running[future], future, results, finished, on_done)
                del running[future]
    except KeyboardInterrupt as interrupt:  # start nothing more; what runs finishes and is reported
        _drain(interrupt, running, waiting, results, finished, order, on_done, on_interrupt, on_close)
    results.not_attempted = sorted(waiting, key=lambda c: order[c.address])
    results.done.sort(key=lambda item: order[item[0].address])  # as the plan lists them, whatever finished first
    return results


def _drain(interrupt: KeyboardInterrupt, running: dict, waiting: list, results: Results, finished: set, order: dict,
           on_done: Callable[[ResourceChange, Any], None], on_interrupt: Callable[[int], None],
           on_close: Callable[[], None] = lambda: None) -> None:
    """After an interrupt: cancel the steps submitted but not begun (back to `waiting`), let the
    running ones finish and settle them; a second interrupt abandons those still running. Their
    threads (`_THREADS`) are closed, and `on_close` runs, before it is decided which ended: one
    that ended before is settled as it ended, one that had not is abandoned and does nothing
    more (`Closed`)."""
    with held(interrupt_after=False) as further:  # counted, not raised: the wait below decides
        results.interrupted = interrupt
        settled = {c.address for c, _ in results.done} | {c.address for c, _ in results.failed}
        in_flight = {f: c for f, c in running.items() if c.address not in settled}
        for future, change in list(in_flight.items()):
            if future.cancel():  # submitted, but its step had not begun: it never will
                del in_flight[future]
                if change not in waiting:
                    waiting.append(change)  # the caller's list: it lists what was not attempted
        on_interrupt(len(in_flight))
        while wait(in_flight, timeout=TICK_S).not_done:
            if further:  # a second interrupt: the steps are not stopped (they cannot be, half-way), but no longer waited for
                interrupts.abandon(*(_THREADS[f] for f in in_flight if f in _THREADS))
                on_close()
                break
        for future, change in sorted(in_flight.items(), key=lambda item: order[item[1].address]):
            if future.done() and not isinstance(future.exception(), Closed):
                _settle(change, future, results, finished, on_done)
            else:
                results.abandoned.append(change)
        if results.abandoned:
            on_interrupt(-len(results.abandoned))


def _first_ended(running: dict) -> set:
    """The futures of `running` that have ended, once one has. The wait is a tick at a time: a
    signal is handled only when the main thread runs, and an untimed wait left it asleep while
    a cancelled CI job's SIGTERM went unanswered until a step ended (a held create: minutes)."""
    while True:
        ended, _ = wait(running, timeout=TICK_S, return_when=FIRST_COMPLETED)
        if ended:
            return ended


def _spawn(future: Future, step: Callable[[ResourceChange], Any], change: ResourceChange) -> None:
    """Start the step on a daemon thread of its own (`_start` keeps at most `parallelism`
    running): a thread pool's workers are joined as the process exits, so a step abandoned by a
    second interrupt kept gpu alive until its request timed out."""
    threading.Thread(target=_run_into, args=(future, step, change), name=f"apply {change.address}", daemon=True).start()


def _run_into(future: Future, step: Callable[[ResourceChange], Any], change: ResourceChange) -> None:
    """A worker's part: run the step into a future the scheduler made (and recorded as running)
    before starting it, so an interrupt that lands inside `_spawn` loses no step. A future
    cancelled before its step began is skipped. The thread is entered in `_THREADS` before its
    future can be running, so a second interrupt that finds the step running can close it."""
    _THREADS[future] = threading.current_thread()
    if not future.set_running_or_notify_cancel():
        return
    try:
        future.set_result(step(change))
    except BaseException as exc:  # the scheduler reports it; a worker thread has nowhere to raise it
        future.set_exception(exc)


def _start(waiting: list, running: dict, finished: set, needs: dict, parallelism: int, submit: Callable[[Future, ResourceChange], Any]) -> None:
    for change in [c for c in waiting if needs[c.address] <= finished]:
        if len(running) >= max(1, parallelism):
            return
        future: Future = Future()
        running[future] = change
        waiting.remove(change)
        submit(future, change)


def _settle(change: ResourceChange, future: Future, results: Results, finished: set, on_done: Callable) -> None:
    error = future.exception()
    if error is None:
        results.done.append((change, future.result()))
        finished.add(change.address)
        on_done(change, future.result())
    else:
        results.failed.append((change, error))
