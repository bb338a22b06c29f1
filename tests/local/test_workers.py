"""Real, unmodified RunPod workers (`runpod.serverless.start`) driven by RunPod's own client
(`runpod.Endpoint`), against the local provider."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import runpod

from tests.local.conftest import LocalServer, wait_for


@pytest.fixture(scope="module")
def sdk(server: LocalServer) -> Iterator[None]:
    """The runpod SDK pointed at the server, exactly as `gpu local env` would point it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runpod, "api_key", server.token)
        patch.setattr(runpod, "endpoint_url_base", server.info["endpoint_base_url"])
        yield


@pytest.fixture(scope="module")
def echo(server: LocalServer, sdk: None) -> dict:
    volume = server.http.post("/v2/network-volumes", json={"name": "models", "size": 10, "dataCenter": "EU-RO-1"}).json()
    return server.create_endpoint("sdk-echo", networkVolumes=[volume["id"]])


def health(server: LocalServer, endpoint_id: str) -> dict:
    return server.job(endpoint_id, "health", method="GET").json()


def test_run_sync_run_status_output_and_health(server: LocalServer, echo: dict, tmp_path: Path) -> None:
    before = health(server, echo["id"])
    assert before["jobs"] == {"completed": 0, "failed": 0, "inProgress": 0, "inQueue": 0, "retried": 0}
    assert all(v == 0 for v in before["workers"].values())

    endpoint = runpod.Endpoint(echo["id"])
    result = endpoint.run_sync({"hello": "world"}, timeout=60)
    assert result["echo"] == {"hello": "world"}

    release = tmp_path / "release"  # the job runs until the test has seen it run (a sleep could end unseen under load)
    job = endpoint.run({"hold": str(release)})
    during = wait_for(lambda: (h := health(server, echo["id"]))["jobs"]["inProgress"] == 1 and h)
    assert during["workers"]["running"] == 1 and during["jobs"]["completed"] == 1
    release.touch()
    assert job.output(timeout=90)["echo"] == {"hold": str(release)}
    assert job.status() == "COMPLETED"

    after = health(server, echo["id"])
    assert after["jobs"] == {"completed": 2, "failed": 0, "inProgress": 0, "inQueue": 0, "retried": 0}
    assert after["workers"]["idle"] == 1 and after["workers"]["running"] == 0


def test_a_job_longer_than_uvicorns_default_keep_alive_returns_its_result(server: LocalServer, echo: dict) -> None:
    """The worker SDK sends a job's result on the pooled connection it took the job on. With
    uvicorn's 5 s default keep-alive the server had closed it, the result was lost ("Server
    disconnected") and the job stayed IN_PROGRESS for ever; a model-loading handler hits that."""
    job = runpod.Endpoint(echo["id"]).run({"block": 6})
    assert job.output(timeout=30)["echo"] == {"block": 6}
    assert job.status() == "COMPLETED"


def test_job_status_carries_runpods_timings(server: LocalServer, echo: dict) -> None:
    done = server.job(echo["id"], "runsync", {"input": {"n": 1}}).json()
    assert done["status"] == "COMPLETED" and done["id"].startswith("sync-")
    assert isinstance(done["delayTime"], int) and isinstance(done["executionTime"], int)
    assert done["workerId"] == done["output"]["worker"] and len(done["workerId"]) == 14


def test_worker_sees_its_network_volume_as_a_directory(server: LocalServer, echo: dict) -> None:
    done = server.job(echo["id"], "runsync", {"input": {"volume": "cached weights"}}).json()
    assert done["output"]["volume"] == "cached weights"
    assert (server.data_dir / "volumes" / echo["networkVolumes"][0] / "probe.txt").read_text() == "cached weights"


def test_progress_updates_show_while_in_progress(server: LocalServer, echo: dict, tmp_path: Path) -> None:
    release = tmp_path / "release"  # held after its updates until the test has seen one
    job_id = server.job(echo["id"], "run", {"input": {"progress": 3, "hold": str(release)}}).json()["id"]
    seen = wait_for(lambda: (s := server.job(echo["id"], f"status/{job_id}", method="GET").json())["status"] == "IN_PROGRESS"
                    and s.get("output") and s)
    assert seen["output"]["step"] >= 1
    release.touch()
    final = wait_for(lambda: (s := server.job(echo["id"], f"status/{job_id}", method="GET").json())["status"] == "COMPLETED" and s)
    assert final["output"]["echo"]["progress"] == 3


def test_raising_handler_fails_with_the_sdks_error_json(server: LocalServer, echo: dict) -> None:
    failed = server.job(echo["id"], "runsync", {"input": {"fail": "bad input"}}).json()
    assert failed["status"] == "FAILED"
    error = json.loads(failed["error"])
    assert error["error_type"] == "<class 'ValueError'>" and error["error_message"] == "bad input"
    assert error["worker_id"] == failed["workerId"] and "Traceback" in error["error_traceback"]


def test_generator_handler_streams(server: LocalServer, sdk: None) -> None:
    streaming = server.create_endpoint("sdk-stream", worker="stream_worker.py")
    job = runpod.Endpoint(streaming["id"]).run({"count": 3, "delay": 0.3})
    assert list(job.stream()) == [{"chunk": 0}, {"chunk": 1}, {"chunk": 2}]
    assert job.output(timeout=10) == [{"chunk": 0}, {"chunk": 1}, {"chunk": 2}]  # return_aggregate_stream
    drained = server.job(streaming["id"], f"stream/{job.job_id}", method="GET").json()
    assert drained == {"status": "COMPLETED", "stream": []}


def test_worker_logs_stream_as_server_sent_events(server: LocalServer, echo: dict) -> None:
    job = server.job(echo["id"], "runsync", {"input": {"log": True}}).json()
    path = f"/v2/serverless/{echo['id']}/workers/{job['workerId']}/logs"
    found = []
    with server.http.stream("GET", path, params={"tail": 5000}) as events:
        assert events.headers["content-type"].startswith("text/event-stream")
        for line in events.iter_lines():
            if line.startswith("data: "):
                found.append(json.loads(line[6:]))
                if f"handled {job['id']}" in found[-1]["line"]:
                    break
    assert found[0]["source"] == "system" and "starting worker" in found[0]["line"]
    assert any(e["source"] == "container" and e["line"] == f"handled {job['id']}" for e in found)
    assert server.http.get(f"/v2/serverless/{echo['id']}/workers/nosuchworker/logs").status_code == 404


def test_worker_logs_since_must_name_a_zone(server: LocalServer, echo: dict) -> None:
    """Review 9, R9-7: `?since=` without a zone was read in the server machine's zone, hours
    away outside UTC; RFC 3339 requires one, so such a time is a 400 that says so."""
    job = server.job(echo["id"], "runsync", {"input": {"log": True}}).json()
    path = f"/v2/serverless/{echo['id']}/workers/{job['workerId']}/logs"
    naive = server.http.get(path, params={"since": "2026-12-07T15:00:00"})
    assert naive.status_code == 400 and "zone" in naive.text, naive.text
    with server.http.stream("GET", path, params={"since": "2026-12-07T15:00:00Z"}) as zoned:
        assert zoned.status_code == 200


def test_workers_route_lists_the_live_worker(server: LocalServer, echo: dict) -> None:
    server.job(echo["id"], "runsync", {"input": {}})
    listing = server.http.get(f"/v2/serverless/{echo['id']}/workers").json()
    assert listing["summary"]["total"] == 1 == len(listing["workers"])
    worker = listing["workers"][0]
    assert worker["status"] in ("IDLE", "RUNNING") and worker["isStale"] is False
    assert server.worker_pids(echo["id"]), "the OS shows the worker process"


def test_scale_to_zero_and_back(server: LocalServer, sdk: None) -> None:
    ep = server.create_endpoint("sdk-idle", workers={"min": 0, "max": 1, "idleTimeout": 3600})
    first = server.job(ep["id"], "runsync", {"input": {}}).json()
    assert first["status"] == "COMPLETED"
    pid = first["output"]["pid"]
    assert server.worker_pids(ep["id"]) == [pid]  # a short idle timeout could have ended it already on a loaded machine
    assert server.http.patch(f"/v2/serverless/{ep['id']}", json={"workers": {"idleTimeout": 1}}).status_code == 200
    wait_for(lambda: not server.processes(ep["id"]))  # gone, heartbeat child too, per /proc
    assert server.http.get(f"/v2/serverless/{ep['id']}/workers").json()["summary"]["total"] == 0
    assert all(v == 0 for v in health(server, ep["id"])["workers"].values())
    second = server.job(ep["id"], "runsync", {"input": {}}).json()
    assert second["status"] == "COMPLETED" and second["output"]["pid"] != pid


def test_new_release_replaces_idle_workers(server: LocalServer, sdk: None) -> None:
    ep = server.create_endpoint("sdk-release")
    old = server.job(ep["id"], "runsync", {"input": {}}).json()["output"]
    patched = server.http.patch(f"/v2/serverless/{ep['id']}", json={"env": {**ep["env"], "RELEASE": "2"}})
    assert patched.status_code == 200
    releases = server.http.get(f"/v2/serverless/{ep['id']}/releases").json()
    assert releases["endpointVersion"] == 2 and releases["releases"][0]["diff"][0]["field"] == "template.env"
    wait_for(lambda: old["pid"] not in server.worker_pids(ep["id"]))
    new = server.job(ep["id"], "runsync", {"input": {}}).json()["output"]
    assert new["worker"] != old["worker"]
    versions = lambda: [w["version"] for w in server.http.get(f"/v2/serverless/{ep['id']}/workers").json()["workers"]]  # noqa: E731
    wait_for(lambda: versions() == [2])  # the old worker has left the live set; the one that ran the job is release 2


def test_one_worker_takes_a_batch_of_jobs(server: LocalServer, sdk: None, tmp_path: Path) -> None:
    """Four jobs that only end when the test says so are seen running at the same time, by one
    worker: no clock decides whether they overlapped."""
    ep = server.create_endpoint("sdk-batch", env={"ECHO_CONCURRENCY": "4"})
    server.job(ep["id"], "runsync", {"input": {"warm": True}})  # the worker is up and polling
    server.admin("POST", "requests/reset")
    release = tmp_path / "release"
    ids = [server.job(ep["id"], "run", {"input": {"hold": str(release)}}).json()["id"] for _ in range(4)]
    together = wait_for(lambda: (h := health(server, ep["id"]))["jobs"]["inProgress"] == 4 and h)
    assert together["workers"]["running"] == 1 and together["jobs"]["inQueue"] == 0
    release.touch()
    done = [wait_for(lambda j=j: (s := server.job(ep["id"], f"status/{j}", method="GET").json())["status"] == "COMPLETED" and s) for j in ids]
    assert len({d["workerId"] for d in done}) == 1
    paths = [r["path"] for r in server.admin("GET", "requests")["requests"]]
    assert any("/job-take-batch/" in p for p in paths)


def test_deleting_an_endpoint_stops_its_workers(server: LocalServer, sdk: None, tmp_path: Path) -> None:
    ep = server.create_endpoint("sdk-delete")
    running = server.job(ep["id"], "run", {"input": {"hold": str(tmp_path / "never")}}).json()["id"]  # runs until stopped
    wait_for(lambda: server.job(ep["id"], f"status/{running}", method="GET").json()["status"] == "IN_PROGRESS")
    assert server.processes(ep["id"])
    assert server.http.delete(f"/v2/serverless/{ep['id']}").status_code == 204
    wait_for(lambda: not server.processes(ep["id"]))  # per /proc
    assert server.job(ep["id"], f"status/{running}", method="GET").status_code == 404
