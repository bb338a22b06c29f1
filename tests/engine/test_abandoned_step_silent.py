"""A step a second interrupt abandoned (ADR 20) is not stopped: its thread runs until the process
exits, and the write it waited for may still answer. Whatever it does then must not reach the
run's output or records: the summary has listed it as failed with its outcome unknown, so a
progress line (`update complete`) printed after it, a journal entry (a torn line, were the
process to exit mid-write), or a further request (its read-back, its last-applied record, the
create of a replace) would contradict or outlast that report. From the moment the apply stops
waiting for it, it emits nothing, records nothing and sends nothing."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from gpuctl.engine.apply import ApplyFailed, Engine
from gpuctl.engine.journal import Journal
from gpuctl.events import Waiting
from gpuctl.plan.model import Action, Kind, Plan, ResourceChange

WAIT_S = 30  # a safety net only: every wait ends on an event


class Provider:
    name = "local"

    def __init__(self):
        self.calls: list[str] = []

    def on_pause(self, callback) -> None:
        pass

    def get_endpoint(self, endpoint_id: str) -> dict:
        self.calls.append(f"get {endpoint_id}")
        return {"id": endpoint_id}


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals reach the main thread only")
def test_an_abandoned_step_emits_records_and_sends_nothing_once_abandoned(tmp_path):
    entered, release = threading.Event(), threading.Event()
    events: list = []
    provider = Provider()

    def emit(event) -> None:
        events.append(event)
        if isinstance(event, Waiting) and event.message.startswith("interrupted: waiting"):
            os.kill(os.getpid(), signal.SIGINT)  # the second interrupt, as the first is said

    journal = Journal(tmp_path / "journal.jsonl")
    engine = Engine(provider=provider, project_id="p", journal=journal, emit=emit, parallelism=1)

    def one(change, ids, unfinished):
        def held_write() -> dict:
            entered.set()
            assert release.wait(WAIT_S)  # the answer comes after the apply stopped waiting
            return {"id": change.id}

        engine._write(change.address, "update", held_write)
        engine._tell(Waiting(f"{change.address}: written"))
        engine.provider.get_endpoint(change.id)  # its read-back
        return change.id, ""

    engine._one = one
    change = ResourceChange(Kind.ENDPOINT, "a", "endpoint.a", Action.UPDATE, id="id-a", desired={"name": "a"})
    plan = Plan("p", "gpu.jsonc", "local", False, (change,), (), None, (), "digest")
    first = threading.Thread(target=lambda: entered.wait(WAIT_S) and os.kill(os.getpid(), signal.SIGINT))
    first.start()
    try:
        with pytest.raises(ApplyFailed) as caught:
            engine.apply(plan)
        seen = len(events)
        journal_then = (tmp_path / "journal.jsonl").read_text()
    finally:
        release.set()
        first.join(WAIT_S)
    [step] = [t for t in threading.enumerate() if t.name == "apply endpoint.a"] or [None]
    if step is not None:
        step.join(WAIT_S)
    assert caught.value.outcome.abandoned == ["endpoint.a"]
    assert events[seen:] == [], events[seen:]  # nothing said after the summary's facts were decided
    assert (tmp_path / "journal.jsonl").read_text() == journal_then  # the intent stays the last word: its outcome is unknown
    assert provider.calls == []
