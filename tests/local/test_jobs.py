"""The job API semantics of api-notes §5: states, cancel, retry, purge, runsync fallback,
execution timeouts, webhooks, the OpenAI route, and queues that cannot be served failing fast
instead of waiting forever."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest

from tests.local.conftest import LocalServer, start_server, stop_server, wait_for
from tests.support.wait import until


@pytest.fixture(scope="module")
def worker_ep(server: LocalServer) -> dict:
    return server.create_endpoint("jobs-echo", timeout=300_000)


@pytest.fixture(scope="module")
def parked(server: LocalServer) -> dict:
    """An endpoint with a runtime but workers.max 0: jobs wait in the queue."""
    return server.create_endpoint("jobs-parked", workers={"min": 0, "max": 0, "idleTimeout": 5})


def status(server: LocalServer, endpoint_id: str, job_id: str) -> dict:
    return server.job(endpoint_id, f"status/{job_id}", method="GET").json()


def test_endpoint_without_local_command_fails_fast_with_a_hint(server: LocalServer) -> None:
    bare = server.create_endpoint("jobs-bare", worker=None)
    queued = server.job(bare["id"], "run", {"input": {"x": 1}}).json()
    assert queued["status"] == "FAILED"
    done = server.job(bare["id"], "runsync", {"input": {"x": 1}}).json()
    assert done["status"] == "FAILED" and "local.command" in done["error"] and "gpu.jsonc" in done["error"]
    assert status(server, bare["id"], queued["id"])["status"] == "FAILED"


def test_unstartable_command_fails_the_queue(server: LocalServer) -> None:
    ep = server.create_endpoint("jobs-missing-binary", worker=None, env={"GPUCTL_LOCAL_COMMAND": '["/nonexistent/worker"]'})
    done = server.job(ep["id"], "runsync?wait=10000", {"input": {}}).json()
    assert done["status"] == "FAILED" and "could not start" in done["error"]


def test_worker_that_crashes_before_taking_jobs_fails_the_queue(server: LocalServer) -> None:
    ep = server.create_endpoint("jobs-crash", worker="crash_worker.py")
    done = server.job(ep["id"], "runsync?wait=20000", {"input": {}}).json()
    assert done["status"] == "FAILED"
    assert "code 7" in done["error"] and "failing at import time" in done["error"]


def test_runsync_wait_falls_back_to_in_queue(server: LocalServer, parked: dict) -> None:
    answer = server.job(parked["id"], "runsync?wait=1000", {"input": {}}).json()
    assert answer["status"] == "IN_QUEUE" and set(answer) == {"id", "status"}
    assert status(server, parked["id"], answer["id"]) == {"id": answer["id"], "status": "IN_QUEUE"}


@pytest.mark.parametrize("wait", ["1e9", "2.5e4", "20000.0", "inf"])
def test_runsync_takes_any_number_as_wait_and_clamps_it(server: LocalServer, worker_ep: dict, wait: str) -> None:
    """`?wait=1e9` (a client computing its wait as a float, or asking for "as long as you
    hold") got a 400 where RunPod's 1 000-300 000 ms range clamps it: any number is held to
    the range, as whole milliseconds were already."""
    done = server.job(worker_ep["id"], f"runsync?wait={wait}", {"input": {"x": 1}})
    assert done.status_code == 200 and done.json()["status"] == "COMPLETED", done.text


@pytest.mark.parametrize("wait", ["-5", "0.5", "1e-3"])
def test_runsync_wait_below_the_range_holds_the_minimum(server: LocalServer, parked: dict, wait: str) -> None:
    answer = server.job(parked["id"], f"runsync?wait={wait}", {"input": {}})
    assert answer.status_code == 200 and answer.json()["status"] == "IN_QUEUE", answer.text
    server.job(parked["id"], f"cancel/{answer.json()['id']}")


@pytest.mark.parametrize("wait", ["soon", "nan", "", "0x10"])
def test_runsync_wait_that_is_no_number_is_a_runpod_shaped_400_that_queues_nothing(server: LocalServer, parked: dict, wait: str) -> None:
    before = server.job(parked["id"], "health", method="GET").json()["jobs"]["inQueue"]
    answer = server.job(parked["id"], f"runsync?wait={wait}", {"input": {}})
    assert answer.status_code == 400 and "wait must be a number of milliseconds" in answer.json()["error"], answer.text
    assert server.job(parked["id"], "health", method="GET").json()["jobs"]["inQueue"] == before


def test_wait_is_clamped_to_runpods_range() -> None:
    from starlette.requests import Request

    from gpuctl.local.api.jobs import wait_ms

    def held(raw: str) -> float:
        return wait_ms(Request({"type": "http", "query_string": f"wait={raw}".encode()}), 90_000)

    assert [held(v) for v in ("1e9", "inf", "300001", "-1", "0.5", "2.5e4", "1500")] == [300_000, 300_000, 300_000, 1000, 1000, 25_000, 1500]


def test_cancel_and_purge_queued_jobs(server: LocalServer, parked: dict) -> None:
    server.job(parked["id"], "purge-queue")
    ids = [server.job(parked["id"], "run", {"input": {"n": n}}).json()["id"] for n in range(3)]
    assert all(i.endswith("-u1") for i in ids)
    assert server.job(parked["id"], f"cancel/{ids[0]}").json() == {"id": ids[0], "status": "CANCELLED"}
    assert server.job(parked["id"], "health", method="GET").json()["jobs"]["inQueue"] == 2
    assert server.job(parked["id"], "purge-queue").json() == {"removed": 2, "status": "completed"}
    assert server.job(parked["id"], f"status/{ids[1]}", method="GET").status_code == 404
    assert status(server, parked["id"], ids[0])["status"] == "CANCELLED"


def test_request_validation(server: LocalServer, parked: dict) -> None:
    assert server.job(parked["id"], "run", {"nope": 1}).status_code == 400
    assert server.job(parked["id"], "run", {"input": {}, "policy": {"ttl": 5}}).status_code == 400
    assert server.job(parked["id"], "run", {"input": {}, "policy": {"executionTimeout": 1000}}).status_code == 400
    assert server.job("nosuchendpoint", "run", {"input": {}}).status_code == 404
    assert server.job(parked["id"], "status/nosuchjob", method="GET").status_code == 404
    unauthorized = server.http.post(f"/ai/v2/{parked['id']}/run", json={"input": {}}, headers={"Authorization": "Bearer wrong"})
    assert unauthorized.status_code == 401
    raw = server.http.post(f"/ai/v2/{parked['id']}/run", json={"input": {}}, headers={"Authorization": server.token})
    assert raw.status_code == 200  # the job API also takes the raw key, as RunPod's docs show


def test_cancel_in_progress_job_stops_it_on_the_worker(server: LocalServer, worker_ep: dict) -> None:
    job_id = server.job(worker_ep["id"], "run", {"input": {"sleep": 30}}).json()["id"]
    wait_for(lambda: status(server, worker_ep["id"], job_id)["status"] == "IN_PROGRESS")
    assert server.job(worker_ep["id"], f"cancel/{job_id}").json()["status"] == "CANCELLED"
    after = server.job(worker_ep["id"], "runsync", {"input": {"after": "cancel"}}).json()
    assert after["status"] == "COMPLETED"  # the worker dropped the cancelled job and took the next
    assert status(server, worker_ep["id"], job_id)["status"] == "CANCELLED"


def test_a_worker_that_never_lets_go_of_a_cancelled_job_is_replaced(server: LocalServer) -> None:
    """A handler that swallows the stop signal keeps its worker busy for ever (the SDK takes no
    other job while one is in flight): past `stop_deadline_s` the worker is stopped and replaced,
    and the job queued behind it runs on the new one."""
    ep = server.create_endpoint("jobs-stubborn", timeout=300_000)  # workers.max 1
    stuck = server.job(ep["id"], "run", {"input": {"ignore_stop": True}}).json()["id"]
    running = until(lambda: (s := status(server, ep["id"], stuck))["status"] == "IN_PROGRESS" and s, "the stubborn job to start")
    stubborn_pids = server.worker_pids(ep["id"])  # workers.max 1: the stubborn worker's alone
    assert len(stubborn_pids) == 1
    assert server.job(ep["id"], f"cancel/{stuck}").json()["status"] == "CANCELLED"
    behind = server.job(ep["id"], "run", {"input": {"after": "stubborn"}}).json()["id"]
    done = until(lambda: (s := status(server, ep["id"], behind))["status"] in ("COMPLETED", "FAILED") and s,
                 "the job queued behind the stubborn one to end")
    assert done["status"] == "COMPLETED" and done["workerId"] != running["workerId"]
    until(lambda: stubborn_pids[0] not in server.worker_pids(ep["id"]), "the stubborn worker's process to be gone (per /proc)")
    assert status(server, ep["id"], stuck)["status"] == "CANCELLED"


def test_a_late_answer_from_the_worker_of_an_earlier_attempt_is_not_the_retried_jobs(server: LocalServer) -> None:
    """A retry keeps the job's id. A worker that ran the timed-out attempt and answers late (its
    handler ignored the stop) posted to the same job-done URL, and its answer ended the attempt
    another worker was running. Only the worker the job is with now may end it or add to it."""
    parked = server.create_endpoint("jobs-late", workers={"min": 0, "max": 0, "idleTimeout": 5})  # only this test's workers take
    job_id = server.job(parked["id"], "run", {"input": {"n": 1}, "policy": {"executionTimeout": 5000}}).json()["id"]
    key = server.admin("GET", f"worker-key/{parked['id']}")["key"]
    root = f"/ai/v2/{parked['id']}"

    def take(worker: str) -> dict:
        taken = server.http.get(f"{root}/job-take/{worker}?gpu=CPU&job_in_progress=0", headers={"Authorization": key})
        assert taken.status_code == 200, taken.text
        return taken.json()

    def post(verb: str, worker: str, body: dict) -> None:
        sent = server.http.post(f"{root}/{verb}/{worker}/{job_id}?isStream=false", headers={"Authorization": key}, content=json.dumps(body))
        assert sent.status_code == 200, sent.text

    assert take("lateworker001")["id"] == job_id
    until(lambda: status(server, parked["id"], job_id)["status"] == "TIMED_OUT", "the first attempt to time out")
    assert server.job(parked["id"], f"retry/{job_id}").json()["status"] == "IN_QUEUE"
    assert take("nextworker001")["id"] == job_id
    post("job-done", "lateworker001", {"status": "IN_PROGRESS", "output": "stale progress"})
    post("job-stream", "lateworker001", {"output": "stale chunk"})
    post("job-done", "lateworker001", {"output": "stale"})
    now = status(server, parked["id"], job_id)
    assert now["status"] == "IN_PROGRESS" and now["workerId"] == "nextworker001" and "output" not in now, now
    post("job-done", "nextworker001", {"output": "fresh"})
    done = status(server, parked["id"], job_id)
    assert done["status"] == "COMPLETED" and done["output"] == "fresh", done


LOST_TAKE = {"op": "take", "kind": "worker", "action": "commit_then_fail", "times": 1}  # the take hands the job out, its answer is lost


def test_a_job_whose_take_answer_was_lost_goes_back_to_the_queue(faults: LocalServer) -> None:
    """The server handed a job to a worker's job-take, but the answer never reached the worker
    (a dropped connection, a worker killed between take and receipt). The job waited
    IN_PROGRESS for its whole execution timeout (5 min here). Heartbeats that do not list it
    prove nothing by themselves (the answer may wait unread behind a blocked event loop); once
    the same worker has sent its next take, two heartbeats that do not list it do: it goes back
    to the queue, another take runs it, and a late answer from the first taker changes nothing
    (at most once: only the current holder ends it)."""
    server = faults
    parked = server.create_endpoint("jobs-lost-take", workers={"min": 0, "max": 0, "idleTimeout": 5}, timeout=300_000)
    job_id = server.job(parked["id"], "run", {"input": {"n": 1}}).json()["id"]
    key = server.admin("GET", f"worker-key/{parked['id']}")["key"]
    root = f"/ai/v2/{parked['id']}"

    def take(worker: str) -> httpx.Response:
        return server.http.get(f"{root}/job-take/{worker}?gpu=CPU&job_in_progress=0", headers={"Authorization": key})

    def ping(worker: str, *held: str) -> None:
        query = f"?job_id={','.join(held)}&runpod_version=1.12.0" if held else "?runpod_version=1.12.0"
        assert server.http.get(f"{root}/ping/{worker}{query}", headers={"Authorization": key}).status_code == 200

    def post(worker: str, body: dict) -> None:
        sent = server.http.post(f"{root}/job-done/{worker}/{job_id}?isStream=false", headers={"Authorization": key}, content=json.dumps(body))
        assert sent.status_code == 200, sent.text

    server.admin("POST", "faults", LOST_TAKE)
    assert take("losttaker001").status_code == 500  # what the worker saw: no job
    assert server.admin("GET", "faults")["rules"][0]["fired"] == 1
    assert status(server, parked["id"], job_id)["workerId"] == "losttaker001"
    for _ in range(4):
        ping("losttaker001")
    assert status(server, parked["id"], job_id)["status"] == "IN_PROGRESS"  # no later take yet: silence proves nothing
    assert take("losttaker001").status_code == 204  # its next take: it is done with the first one
    ping("losttaker001")
    assert status(server, parked["id"], job_id)["status"] == "IN_PROGRESS"  # this heartbeat may predate that take
    ping("losttaker001")
    assert status(server, parked["id"], job_id)["status"] == "IN_QUEUE"
    taken = take("nexttaker001")
    assert taken.status_code == 200 and taken.json()["id"] == job_id
    post("losttaker001", {"output": "from the taker that never had it"})
    now = status(server, parked["id"], job_id)
    assert now["status"] == "IN_PROGRESS" and now["workerId"] == "nexttaker001", now
    post("nexttaker001", {"output": "fresh"})
    done = status(server, parked["id"], job_id)
    assert done["status"] == "COMPLETED" and done["output"] == "fresh", done
    assert server.job(parked["id"], "health", method="GET").json()["jobs"]["retried"] == 1


def test_a_heartbeat_from_an_sdk_not_known_to_list_its_jobs_requeues_nothing(faults: LocalServer) -> None:
    """runpod releases before 1.12.0 may ping from a process that does not see the job list, so
    their heartbeat lists nothing even while the handler runs. Their silence must not send a
    running job back to the queue (its handler would run twice): only a heartbeat from a
    release known to list its jobs can say the take's answer was lost."""
    server = faults
    parked = server.create_endpoint("jobs-old-sdk-ping", workers={"min": 0, "max": 0, "idleTimeout": 5}, timeout=300_000)
    job_id = server.job(parked["id"], "run", {"input": {"n": 1}}).json()["id"]
    key = server.admin("GET", f"worker-key/{parked['id']}")["key"]
    root = f"/ai/v2/{parked['id']}"
    server.admin("POST", "faults", LOST_TAKE)
    take = f"{root}/job-take/oldsdk000001?gpu=CPU&job_in_progress=0"
    assert server.http.get(take, headers={"Authorization": key}).status_code == 500
    assert server.http.get(take, headers={"Authorization": key}).status_code == 204  # its next take

    def ping(query: str) -> dict:
        assert server.http.get(f"{root}/ping/oldsdk000001{query}", headers={"Authorization": key}).status_code == 200
        return status(server, parked["id"], job_id)

    for query in ("?runpod_version=1.6.2", "", "?runpod_version=dev"):
        for _ in range(3):
            assert ping(query)["status"] == "IN_PROGRESS", query
    assert ping("?runpod_version=1.12.0")["status"] == "IN_PROGRESS"
    assert ping("?runpod_version=1.12.0")["status"] == "IN_QUEUE"


def test_the_sdk_worker_runs_a_job_whose_take_answer_was_lost(faults: LocalServer) -> None:
    """The same, with the real SDK: its take fails (500), it goes on polling, and its heartbeat
    lists only what it really holds. The caller (invoke, runsync) gets the result instead of waiting out
    the job's execution timeout."""
    server = faults
    ep = server.create_endpoint("jobs-lost-take-sdk", timeout=300_000)
    server.admin("POST", "faults", LOST_TAKE)
    job_id = server.job(ep["id"], "run", {"input": {"lost": "take"}}).json()["id"]
    until(lambda: server.admin("GET", "faults")["rules"][0]["fired"] == 1, "the first take's answer to be lost")
    done = until(lambda: (s := status(server, ep["id"], job_id))["status"] in ("COMPLETED", "FAILED", "TIMED_OUT") and s,
                 "the job to end after its lost take")
    assert done["status"] == "COMPLETED" and done["output"]["echo"] == {"lost": "take"}, done


def test_a_job_handed_to_a_worker_whose_event_loop_is_blocked_runs_once(tmp_path) -> None:
    """Review 10, R10-4. A worker with concurrency 2 runs job A, whose handler blocks the event
    loop (a sync call in an async handler); its second slot's take is out, and the server hands
    it job B. The answer waits unread in the socket while the SDK's separate heartbeat process
    keeps listing only A. That silence is no proof the answer was lost: the worker reads it once
    A lets go, so B must not go back to the queue meanwhile (its handler would run twice). The
    long take poll keeps the second slot's take out while A blocks."""
    server = start_server(tmp_path / "data", {"take_poll_s": 60.0})
    try:
        ep = server.create_endpoint("jobs-blocked-taker", env={"ECHO_CONCURRENCY": "2"}, timeout=300_000)
        runs = tmp_path / "runs.log"
        a = server.job(ep["id"], "run", {"input": {"sleep": 1, "block": 12, "runs": str(runs)}}).json()["id"]
        until(lambda: runs.exists() and f"block {a}" in runs.read_text(), "job A's handler to block its worker's event loop")
        b = server.job(ep["id"], "run", {"input": {"runs": str(runs)}}).json()["id"]
        handed = until(lambda: (s := status(server, ep["id"], b))["status"] != "IN_QUEUE" and s, "job B to be handed out")
        assert handed["status"] == "IN_PROGRESS" and status(server, ep["id"], a)["status"] == "IN_PROGRESS", handed
        ended = ("COMPLETED", "FAILED", "TIMED_OUT", "CANCELLED")
        done = until(lambda: (s := status(server, ep["id"], b))["status"] in ended and s, "job B to end")
        assert done["status"] == "COMPLETED", done
        assert status(server, ep["id"], a)["status"] == "COMPLETED"
        assert runs.read_text().splitlines().count(f"start {b}") == 1, runs.read_text()
        assert server.job(ep["id"], "health", method="GET").json()["jobs"]["retried"] == 0
    finally:
        stop_server(server)


def test_execution_timeout_then_retry(server: LocalServer, worker_ep: dict) -> None:
    job_id = server.job(worker_ep["id"], "run", {"input": {"sleep": 8}, "policy": {"executionTimeout": 5000}}).json()["id"]
    timed_out = wait_for(lambda: (s := status(server, worker_ep["id"], job_id))["status"] == "TIMED_OUT" and s)
    assert "execution timeout" in timed_out["error"] and timed_out["executionTime"] >= 5000
    assert server.job(worker_ep["id"], f"retry/{job_id}").json() == {"id": job_id, "status": "IN_QUEUE"}
    assert server.job(worker_ep["id"], f"cancel/{job_id}").json()["status"] == "CANCELLED"
    assert server.job(worker_ep["id"], "health", method="GET").json()["jobs"]["retried"] >= 1
    assert server.job(worker_ep["id"], f"retry/{job_id}").status_code == 400  # only FAILED/TIMED_OUT


def test_failed_job_retries_with_the_same_id(server: LocalServer, worker_ep: dict) -> None:
    failed = server.job(worker_ep["id"], "runsync", {"input": {"fail": "once"}}).json()
    assert failed["status"] == "FAILED"
    server.job(worker_ep["id"], f"retry/{failed['id']}")
    again = wait_for(lambda: (s := status(server, worker_ep["id"], failed["id"]))["status"] == "FAILED" and s)
    assert json.loads(again["error"])["error_message"] == "once"


class _Hook(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list]]:
    received: list = []
    handler = type("Hook", (_Hook,), {"received": received})
    httpd = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/done", received
    httpd.shutdown()
    httpd.server_close()


def test_webhook_receives_the_terminal_status(server: LocalServer, worker_ep: dict, webhook: tuple[str, list]) -> None:
    url, received = webhook
    job_id = server.job(worker_ep["id"], "run", {"input": {"hook": 1}, "webhook": url}).json()["id"]
    wait_for(lambda: received)
    assert received[0]["id"] == job_id and received[0]["status"] == "COMPLETED"
    assert received[0]["output"]["echo"] == {"hook": 1}
    assert len(received) == 1


class _EndlessAnswer(BaseHTTPRequestHandler):
    """Answers 200 with a body that goes on (200 MB declared), and records how much of it was
    sent before the caller closed the connection."""

    sent: list = []
    closed: threading.Event

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", str(200 * 1024 * 1024))
        self.end_headers()
        chunk, sent = b"x" * 65536, 0
        try:
            while sent < 200 * 1024 * 1024:
                self.wfile.write(chunk)
                sent += len(chunk)
        except OSError:
            pass
        type(self).sent.append(sent)
        type(self).closed.set()

    def log_message(self, *args) -> None:
        pass


def test_a_webhook_answer_is_not_read_past_its_status(server: LocalServer, worker_ep: dict) -> None:
    """A receiver's 2xx is all a webhook needs: the server read whole answers (200 MB here,
    into memory), and a 200 whose body never ended was a failure, sent again twice."""
    handler = type("Endless", (_EndlessAnswer,), {"sent": [], "closed": threading.Event()})
    httpd = HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        server.job(worker_ep["id"], "run", {"input": {"hook": 2}, "webhook": f"http://127.0.0.1:{httpd.server_port}/done"})
        assert handler.closed.wait(90), "the webhook never closed the connection"
        [sent] = handler.sent
        assert sent < 64 * 1024 * 1024, f"the server read {sent} bytes of the answer"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_openai_route_becomes_a_job(server: LocalServer, worker_ep: dict) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    answer = server.http.post(f"/ai/v2/{worker_ep['id']}/openai/v1/chat/completions", json=body)
    assert answer.status_code == 200
    assert answer.json()["echo"] == {"openai_route": "/v1/chat/completions", "openai_input": body}
    models = server.http.get(f"/ai/v2/{worker_ep['id']}/openai/v1/models").json()
    assert models["echo"] == {"openai_route": "/v1/models"}


def test_low_priority_jobs_do_not_scale_up(server: LocalServer) -> None:
    """The scaler's verdict is observed, not waited for: a job on another endpoint, sent after
    the low-priority one, gets a worker, and the tick that started it also weighed the
    low-priority queue, which it left without one."""
    ep = server.create_endpoint("jobs-lowprio")
    witness = server.create_endpoint("jobs-lowprio-witness")
    low = server.job(ep["id"], "run", {"input": {"low": True}, "policy": {"lowPriority": True}}).json()["id"]
    assert server.job(witness["id"], "runsync", {"input": {}}).json()["status"] == "COMPLETED"
    assert status(server, ep["id"], low)["status"] == "IN_QUEUE" and not server.worker_pids(ep["id"])
    assert server.job(ep["id"], "runsync", {"input": {"normal": True}}).json()["status"] == "COMPLETED"
    wait_for(lambda: status(server, ep["id"], low)["status"] == "COMPLETED")  # the started worker takes it too


def test_results_expire_after_their_retention(tmp_path) -> None:
    short = start_server(tmp_path / "short", {"retention_run_s": 0.5, "retention_sync_s": 0.5})
    try:
        bare = short.create_endpoint("retention", worker=None)
        job_id = short.job(bare["id"], "run", {"input": {}}).json()["id"]
        assert short.job(bare["id"], f"status/{job_id}", method="GET").status_code == 200
        wait_for(lambda: short.job(bare["id"], f"status/{job_id}", method="GET").status_code == 404)
    finally:
        stop_server(short)
