"""A write abandoned by a second interrupt (`interrupts.Write.send`, which `rollback` and
`delete` use) sends nothing more once gpu stopped waiting for it (ADR 20). Its thread is not
stopped: the write it waits for may still answer, and `rollback`'s thread then went on with
the read-back and the last-applied record, requests after the command had reported the
write's outcome as unknown. Deploy's steps already kept this rule, with a gate of their own;
now every abandoned thread is closed through `interrupts.abandon`, and the HTTP client sends
nothing on a closed thread, whatever command the thread belongs to.

The real HTTP client, on a transport that holds the write until the test lets it go."""

from __future__ import annotations

import os
import signal
import threading

import httpx
import pytest

from gpuctl import interrupts
from gpuctl.interrupts import Interrupted, writing
from gpuctl.provider.http import ApiClient

WAIT_S = 30  # a safety net only: every wait ends on an event


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals reach the main thread only")
def test_a_write_abandoned_by_a_second_interrupt_sends_no_request_after_it_answers():
    entered, release = threading.Event(), threading.Event()
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.method)
        if request.method == "PATCH":
            entered.set()
            assert release.wait(WAIT_S)  # the answer comes after gpu stopped waiting for it
        return httpx.Response(200, json={"id": "e1"})

    client = ApiClient("http://127.0.0.1:1", "key", transport=httpx.MockTransport(answer))

    def interrupt_twice() -> None:
        if not entered.wait(WAIT_S):
            return
        start = interrupts.arrived()
        os.kill(os.getpid(), signal.SIGINT)
        while interrupts.arrived() == start:
            release.wait(interrupts.TICK_S)  # until the first is counted, so the two are not merged
        os.kill(os.getpid(), signal.SIGINT)

    def rollback() -> dict:  # as apply_rollback: the write, then its read-back
        client.request("PATCH", "/v2/serverless/e1", json={"workers": {"max": 1}})
        return client.request("GET", "/v2/serverless/e1").json()

    signals = threading.Thread(target=interrupt_twice)
    signals.start()
    try:
        with pytest.raises(Interrupted) as caught:
            with writing(lambda: Interrupted("before"), lambda: Interrupted("after")) as write:
                with write.step():
                    write.send(rollback)
    finally:
        release.set()
        signals.join(WAIT_S)
    for thread in [t for t in threading.enumerate() if t.name == "write"]:
        thread.join(WAIT_S)
    assert interrupts.TWICE in caught.value.summary
    assert sent == ["PATCH"], sent  # no read-back after the command had reported the write's outcome as unknown


def test_a_closed_thread_sends_nothing_and_an_open_one_sends(tmp_path):
    """The gate itself: `abandon` closes one thread, not the others."""
    sent: list[str] = []
    client = ApiClient("http://127.0.0.1:1", "key", transport=httpx.MockTransport(lambda r: sent.append(r.method) or httpx.Response(200, json={})))
    raised: list[BaseException] = []

    def closed_step() -> None:
        interrupts.abandon(threading.current_thread())
        try:
            client.request("GET", "/v2/serverless")
        except BaseException as exc:  # noqa: BLE001 - what the step would raise
            raised.append(exc)

    thread = threading.Thread(target=closed_step)
    thread.start()
    thread.join(WAIT_S)
    client.request("GET", "/v2/templates")
    assert [type(e) for e in raised] == [interrupts.Closed] and sent == ["GET"], (raised, sent)
