"""gpuctl.polling, the one pacing of every polling loop, and the loops moved onto it: each is
driven by a fake clock, so a wait of minutes takes no time and its pauses can be read."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from gpuctl.polling import Backoff, poll_until, time_left


class Clock:
    """A clock that moves only when something sleeps; `slept` lists the pauses."""

    def __init__(self) -> None:
        self.now, self.slept = 0.0, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.slept.append(round(seconds, 6))
        self.now += seconds


def test_pauses_grow_by_the_factor_up_to_the_cap_and_never_past_the_deadline():
    clock = Clock()
    waits = Backoff(remaining=time_left(10.0, clock), sleep=clock.sleep, first=1.0, factor=2.0, cap=3.0)
    while not waits.over:
        waits.pause()
    assert clock.slept == [1.0, 2.0, 3.0, 3.0, 1.0] and clock.now == 10.0


def test_stop_ends_a_wait_at_once_with_time_left():
    """An apply's step threads wait through Backoff with `stop` = "an interrupt came" (ADR 20)."""
    clock, stopping = Clock(), []
    waits = Backoff(remaining=time_left(20.0, clock), sleep=clock.sleep, first=1.0, stop=lambda: bool(stopping))
    waits.pause()
    assert not waits.over and not waits.stopped
    stopping.append(True)
    assert waits.over and waits.stopped and clock.now == 1.0


def test_a_pause_under_way_ends_early_when_stop_becomes_true():
    """Stop 19: after an interrupt, a pause already under way still ran to its end (a second
    of the lease wait's two) before the one look. With `stop` given, the pause is slept in
    ticks of `Backoff.TICK`, `stop` asked between them: it ends at the first tick after."""
    clock, stopping = Clock(), []

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.now >= 0.3 - 1e-9:
            stopping.append(True)  # the interrupt comes 0.3 s into the pause

    waits = Backoff(remaining=time_left(20.0, clock), sleep=sleep, first=2.0, stop=lambda: bool(stopping))
    waits.pause()
    assert waits.stopped and clock.now == 3 * Backoff.TICK and max(clock.slept) <= Backoff.TICK  # the first tick past 0.3 s


def test_a_pause_without_stop_is_one_sleep():
    clock = Clock()
    Backoff(remaining=time_left(20.0, clock), sleep=clock.sleep, first=2.0).pause()
    assert clock.slept == [2.0]


def test_poll_until_returns_the_answer_waited_for_and_shows_the_others():
    clock, answers, seen = Clock(), iter(["a", "b", "done"]), []
    got = poll_until(lambda: next(answers), lambda v: v == "done", remaining=time_left(60, clock), sleep=clock.sleep,
                     first=0.25, factor=1.5, cap=2.0, seen=seen.append)
    assert got == "done" and seen == ["a", "b"] and clock.slept == [0.25, 0.375]


def test_poll_until_returns_the_last_answer_when_the_time_is_up():
    clock, calls = Clock(), []
    got = poll_until(lambda: calls.append(clock()) or len(calls), lambda v: False, remaining=time_left(1.0, clock), sleep=clock.sleep, first=0.4)
    assert got == len(calls) and calls == [0.0, 0.4, 0.8, 1.0]  # the last look is at the deadline, not past it


def test_a_job_wait_keeps_its_pace():
    from gpuctl.jobs import MAX_POLL_S, wait_until_final

    clock, statuses = Clock(), iter(["IN_QUEUE"] * 8 + ["COMPLETED"])
    shown = []
    job = wait_until_final(lambda: {"id": "j", "status": next(statuses)}, {"id": "j", "status": "IN_QUEUE"},
                           remaining=time_left(600, clock), sleep=clock.sleep, on_status=shown.append)
    assert job["status"] == "COMPLETED" and len(shown) == 9
    assert clock.slept[:3] == [0.25, 0.375, 0.5625] and max(clock.slept) == MAX_POLL_S


def test_a_rollout_wait_gives_up_at_the_deadline_with_the_last_answer():
    from gpuctl.engine.health import HealthCheck, HealthGate, Target

    clock = Clock()
    doc = {"version": 3, "rollout": {"inProgress": True, "workersOnLatest": 1, "workersTotal": 2}}
    provider = SimpleNamespace(releases=lambda endpoint_id: doc)
    gate = HealthGate(provider, HealthCheck(timeout=30.0), clock=clock, sleep=clock.sleep)
    step = gate._rollout(Target("api", "ep1", None, None), deadline=30.0)
    assert step["status"] == "failed" and clock.now == 30.0
    assert clock.slept[:3] == [0.5, 0.75, 1.125] and max(clock.slept) == 5.0


def engine(clock: Clock, grace: float, poll: float):
    from gpuctl.engine.apply import Engine

    return Engine(provider=None, project_id="p", journal=None, grace=grace, poll=poll, clock=clock, sleep=clock.sleep)


def test_a_visibility_wait_ends_at_its_grace_not_a_poll_later():
    """An identity lookup kept looking `grace` seconds, but its last pause was a whole `poll`
    long whatever was left: with a grace of 2.5 s and a poll of 1 s it looked at 3 s."""
    clock, looks = Clock(), []
    found = engine(clock, grace=2.5, poll=1.0)._find(SimpleNamespace(address="endpoint.api"), lambda: looks.append(clock()) or [], wait=True)
    assert found is None and looks == [0.0, 1.0, 2.0, 2.5]


def test_a_read_back_ends_at_its_grace_not_a_poll_later():
    from gpuctl.provider.errors import NotFound

    clock, reads = Clock(), []

    def get() -> dict:
        reads.append(clock())
        raise NotFound("GET /v2/endpoints/x: not found")

    with pytest.raises(NotFound):
        engine(clock, grace=2.5, poll=1.0)._read(get)
    assert reads == [0.0, 1.0, 2.0, 2.5]


class NoPodYet:
    """A provider whose pod create got no answer and whose pod never shows up; `looks` lists
    when the pods were listed."""

    name = "local"

    def __init__(self, clock: Clock) -> None:
        self.clock, self.looks = clock, []

    def list_pods(self) -> list[dict]:
        self.looks.append(self.clock())
        return []

    def get_volume(self, volume_id: str) -> dict:
        return {"id": volume_id, "name": "models", "dataCenter": "US-TX-3"}

    def create_pod(self, body: dict) -> dict:
        from gpuctl.provider.errors import UnansweredWrite

        raise UnansweredWrite("POST /v2/pods: no answer")


def quiet() -> SimpleNamespace:
    return SimpleNamespace(status=lambda text: None, note=lambda text: None)


def test_a_watch_for_an_unanswered_pod_create_ends_at_the_deadline_not_a_poll_later():
    """`await_pod` slept a whole POLL_S (2 s) whatever was left of --timeout: with 3 s left it
    looked at 0, 2 and 4 s, a second past the deadline."""
    from gpuctl.warm.cpu import await_pod
    from gpuctl.warm.errors import WarmTimeout

    clock = Clock()
    provider = NoPodYet(clock)
    with pytest.raises(WarmTimeout):
        await_pod(provider, "gpuctl-warm-ep1-abcdef-until9", deadline=3.0, timeout=3.0, view=quiet(), clock=clock, sleep=clock.sleep)
    assert provider.looks == [0.0, 2.0, 3.0] and clock.now == 3.0


def test_a_cpu_warm_up_waits_with_the_sleep_it_was_given():
    """`warm_cpu` did not pass its caller's sleep on to `warm_volume`, so the watch for an
    unanswered create slept for real (2 s a look) whatever a test injected."""
    from gpuctl.prewarm import ModelList
    from gpuctl.warm.cpu import warm_cpu
    from gpuctl.warm.errors import WarmTimeout

    clock = Clock()
    provider = NoPodYet(clock)
    endpoint = {"id": "ep1", "name": "flux", "networkVolumes": ["vol1"]}
    with pytest.raises(WarmTimeout):
        warm_cpu(provider, endpoint, ModelList(("org/model",), "test"), 5.0, quiet(), {}, clock=clock, sleep=clock.sleep)
    assert clock.slept == [2.0, 2.0, 1.0] and clock.now == 5.0
