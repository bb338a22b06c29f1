"""The order of a parallel apply (gpuctl.engine.schedule): prerequisites, concurrency, the plan's
order under one worker, and stopping after the first failure. Steps synchronise on events and
barriers, never on time: a barrier that cannot fill proves the steps did not overlap."""

from __future__ import annotations

import os
import signal
import threading

import pytest


from gpuctl.engine import schedule
from gpuctl.errors import GpuctlError
from gpuctl.plan.model import Action, Kind, ResourceChange, Unknown
from tests.support.wait import until

WAIT_S = 30  # a safety net only: every wait below ends on an event


def endpoint(name: str, action: Action = Action.CREATE, volumes: list | None = None) -> ResourceChange:
    return ResourceChange(Kind.ENDPOINT, name, f"endpoint.{name}", action, id=None if action is Action.CREATE else f"id-{name}",
                          desired={"name": name, "networkVolumes": volumes or []} if action is not Action.DELETE else None)


def volume(name: str, action: Action = Action.CREATE, volume_id: str | None = None) -> ResourceChange:
    return ResourceChange(Kind.NETWORK_VOLUME, name, f"network_volume.{name}", action, id=volume_id, desired={"name": name})


def test_an_endpoint_needs_the_volumes_it_attaches_and_deletions_need_everything_else():
    new, resized = volume("models"), volume("cache", Action.UPDATE, "vol123")
    attaches_new = endpoint("a", volumes=[Unknown("network_volume.models.id")])
    attaches_resized = endpoint("b", Action.UPDATE, volumes=["vol123"])
    alone, gone = endpoint("c"), endpoint("d", Action.DELETE)
    needs = schedule.prerequisites([new, resized, attaches_new, attaches_resized, alone, gone])
    assert needs["endpoint.a"] == {"network_volume.models"}
    assert needs["endpoint.b"] == {"network_volume.cache"}
    assert needs["endpoint.c"] == set() and needs["network_volume.models"] == set()
    assert needs["endpoint.d"] == {"network_volume.models", "network_volume.cache", "endpoint.a", "endpoint.b", "endpoint.c"}


def test_one_worker_applies_in_the_plans_order():
    changes = [volume("v"), endpoint("a", volumes=[Unknown("network_volume.v.id")]), endpoint("b"), endpoint("c", Action.DELETE)]
    started = []
    results = schedule.run(changes, 1, lambda c: started.append(c.address))
    assert started == [c.address for c in changes]
    assert [c.address for c, _ in results.done] == started and not results.failed and not results.not_attempted


def test_independent_changes_run_at_the_same_time():
    together = threading.Barrier(3, timeout=WAIT_S)  # breaks (and fails the step) unless three steps wait at once
    results = schedule.run([endpoint("a"), endpoint("b"), endpoint("c")], 3, lambda c: together.wait())
    assert len(results.done) == 3 and not results.failed


def test_no_more_than_parallelism_run_at_once():
    running, most, lock = set(), [0], threading.Lock()
    release = threading.Event()

    def step(change):
        with lock:
            running.add(change.address)
            most[0] = max(most[0], len(running))
            if len(running) == 2:
                release.set()
        assert release.wait(WAIT_S)
        with lock:
            running.discard(change.address)

    results = schedule.run([endpoint(n) for n in "abcdef"], 2, step)
    assert len(results.done) == 6 and most[0] == 2


def test_an_endpoint_is_not_started_before_the_volume_it_attaches_is_done():
    volume_done, order = threading.Event(), []

    def step(change):
        if change.kind is Kind.NETWORK_VOLUME:
            order.append("volume running")
            volume_done.set()
        else:
            order.append(f"{change.name} saw the volume {'done' if volume_done.is_set() else 'NOT done'}")

    changes = [volume("v"), endpoint("a", volumes=[Unknown("network_volume.v.id")])]
    schedule.run(changes, 10, step)
    assert order == ["volume running", "a saw the volume done"]


def test_after_the_first_failure_nothing_new_starts_and_running_steps_finish():
    a_failing, started = threading.Event(), []

    def step(change):
        started.append(change.name)
        if change.name == "a":
            a_failing.set()
            raise GpuctlError("rejected")
        assert a_failing.wait(WAIT_S)  # b is running when a fails, and finishes after it

    results = schedule.run([endpoint(n) for n in "abcd"], 2, step)
    assert sorted(started) == ["a", "b"]
    assert [c.name for c, _ in results.failed] == ["a"]
    assert [c.name for c, _ in results.done] == ["b"]
    assert [c.name for c in results.not_attempted] == ["c", "d"]


def test_on_done_runs_before_anything_that_needs_the_change_starts():
    """on_done runs before dependents are considered: a volume's id is known when the endpoint starts."""
    seen = {}
    changes = [volume("v"), endpoint("a", volumes=[Unknown("network_volume.v.id")])]
    schedule.run(changes, 10, lambda c: c.address, on_done=lambda c, value: seen.setdefault("first", value))
    assert seen["first"] == "network_volume.v"


def test_an_interrupt_starts_nothing_new_and_reports_the_running_steps_once_they_finish():
    """Ctrl-C lands on the scheduling thread (here: while it settles a); b, still running then,
    finishes and is reported done with its value, and c and d are not attempted."""
    b_running, interrupted, told = threading.Event(), threading.Event(), []

    def step(change):
        if change.name == "a":
            assert b_running.wait(WAIT_S)  # a finishes only once b is running...
        if change.name == "b":
            b_running.set()
            assert interrupted.wait(WAIT_S)  # ...and b only after the interrupt
        return change.name.upper()

    def on_done(change, value):
        if change.name == "a":
            raise KeyboardInterrupt

    def on_interrupt(running):
        told.append(running)
        interrupted.set()

    results = schedule.run([endpoint(n) for n in "abcd"], 2, step, on_done, on_interrupt)
    assert isinstance(results.interrupted, KeyboardInterrupt)
    assert told == [1]
    assert [(c.name, value) for c, value in results.done] == [("a", "A"), ("b", "B")]
    assert [c.name for c in results.not_attempted] == ["c", "d"] and results.failed == []


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals reach the main thread only")
def test_a_second_interrupt_stops_waiting_for_the_steps_in_flight():
    """A second Ctrl-C (or CI's SIGTERM after its SIGINT) ends the wait for the steps still
    running: they are abandoned, reported as such (their outcome unknown), and the run ends at
    once. It only repeated how many were in flight, while the step's request was sent again
    for minutes (review 5, R5-2); one that came right after the first was announced is answered
    too (seen under load: the e2e test waited for the line)."""
    b_running, release, told = threading.Event(), threading.Event(), []

    def step(change):
        if change.name == "a":
            assert b_running.wait(WAIT_S)
        if change.name == "b":
            b_running.set()
            assert release.wait(WAIT_S)
        return change.name

    def on_done(change, value):
        if change.name == "a":
            raise KeyboardInterrupt

    def on_interrupt(running):
        told.append(running)
        if len(told) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # the impatient second Ctrl-C, as the first is said

    try:
        results = schedule.run([endpoint(n) for n in "abcd"], 2, step, on_done, on_interrupt)
    finally:
        release.set()
    assert told == [1, -1]
    assert [c.name for c, _ in results.done] == ["a"]
    assert [c.name for c in results.abandoned] == ["b"] and results.failed == []
    assert [c.name for c in results.not_attempted] == ["c", "d"]


@pytest.mark.parametrize("queued", [True, False], ids=["after-queueing", "before-queueing"])
def test_an_interrupt_inside_submit_loses_no_step(monkeypatch, queued):
    """Ctrl-C can land while the scheduler starts a step's thread: a step either begins, and is
    waited for and reported done, or is cancelled and not attempted; nothing runs unreported
    and nothing that never runs is waited for."""
    ran = []
    spawn, calls = schedule._spawn, []

    def interrupted(future, step, change):
        calls.append(change)
        if len(calls) < 2:
            return spawn(future, step, change)
        if queued:
            spawn(future, step, change)
        raise KeyboardInterrupt

    monkeypatch.setattr(schedule, "_spawn", interrupted)
    results = schedule.run([endpoint(n) for n in "abc"], 3, lambda c: ran.append(c.name) or c.name)
    assert isinstance(results.interrupted, KeyboardInterrupt)
    assert "a" in ran and "c" not in ran and (queued or ran == ["a"])
    assert sorted(c.name for c, _ in results.done) == sorted(ran)  # b, if it ran, is reported
    assert [c.name for c in results.not_attempted] == [n for n in "abc" if n not in ran]


def test_what_was_done_is_reported_in_the_plans_order_whatever_finished_first():
    """The summary and `--json`'s outcome.done listed changes as they happened to finish, so two
    applies of one plan reported them in different orders; they now follow the plan."""
    b_done = threading.Event()

    def step(change):
        if change.name == "a":  # a finishes only after b has
            assert b_done.wait(WAIT_S)
        return change.name

    def done(change, value):
        if change.name == "b":
            b_done.set()

    results = schedule.run([endpoint("a"), endpoint("b"), endpoint("c")], 3, step, done)
    assert [c.name for c, _ in results.done] == ["a", "b", "c"]


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals reach the main thread only")
def test_a_signal_the_kernel_hands_to_a_worker_thread_still_interrupts_at_once():
    """A process-directed SIGTERM or SIGINT can be delivered to any thread that does not block
    it; the main thread must still act on it while the steps run. The signal is sent here to
    the worker thread itself (pthread_kill) once the main thread waits, so it lands exactly
    there. (The e2e SIGTERM test once in 12 to 30 runs under load saw the main thread asleep in
    the scheduler's untimed wait and the signal unanswered until a step ended; this test passes
    with that wait too, so it guards the property, and the wait is now a tick at a time.)"""
    order, release = [], threading.Event()

    def step(change):
        until(lambda: _blocked_in_a_wait(threading.main_thread()), "the main thread to wait for the steps")
        signal.pthread_kill(threading.get_ident(), signal.SIGINT)
        release.wait(WAIT_S)  # a hang guard: the interrupt below lets it go
        order.append("step ended")
        return change.name

    def on_interrupt(running):
        order.append(f"interrupt said, {running} running")
        release.set()

    results = schedule.run([endpoint("a")], 2, step, on_interrupt=on_interrupt)
    assert isinstance(results.interrupted, KeyboardInterrupt)
    assert order == ["interrupt said, 1 running", "step ended"]  # said while the step still ran, not after it ended


def _blocked_in_a_wait(thread: threading.Thread) -> bool:
    """Whether `thread` is inside threading's lock waits (Condition.wait), where only a signal
    delivered to that thread itself wakes it."""
    import sys

    frame = sys._current_frames().get(thread.ident)
    return frame is not None and frame.f_code.co_name == "wait" and frame.f_code.co_filename.endswith("threading.py")
