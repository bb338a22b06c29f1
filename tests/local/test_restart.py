"""Durability: a server killed with -9 restarts with its endpoints and jobs; jobs that were
running go back to the queue; the killed server's workers do not survive it."""

from __future__ import annotations

import os
import signal

from gpuctl.local.client import lifecycle
from gpuctl.local.datadir import reaper
from tests.local.conftest import LocalServer, start_server, wait_for


def test_kill_9_keeps_endpoints_and_jobs_and_requeues_the_running_one(fresh_server: LocalServer) -> None:
    server = fresh_server
    parked = server.create_endpoint("restart-parked", workers={"min": 0, "max": 0, "idleTimeout": 5})
    busy = server.create_endpoint("restart-busy")
    queued = [server.job(parked["id"], "run", {"input": {"n": n}}).json()["id"] for n in range(3)]
    running = server.job(busy["id"], "run", {"input": {"sleep": 60}}).json()["id"]
    wait_for(lambda: server.job(busy["id"], f"status/{running}", method="GET").json()["status"] == "IN_PROGRESS")
    old_workers = server.worker_pids(busy["id"])
    assert old_workers

    os.kill(server.info["pid"], signal.SIGKILL)
    wait_for(lambda: not reaper.alive(server.info["pid"]))
    wait_for(lambda: not any(reaper.alive(p) for p in old_workers))  # PR_SET_PDEATHSIG
    assert lifecycle.read_server_info(server.data_dir) is None  # stale server.json detected
    server.close()

    again = start_server(server.data_dir)
    try:
        assert again.info["pid"] != server.info["pid"]
        names = {e["name"] for e in again.http.get("/v2/serverless").json()["endpoints"]}
        assert {"restart-parked", "restart-busy"} <= names
        for job_id in queued:
            assert again.job(parked["id"], f"status/{job_id}", method="GET").json() == {"id": job_id, "status": "IN_QUEUE"}
        health = again.job(busy["id"], "health", method="GET").json()
        assert health["jobs"]["retried"] == 1 and health["jobs"]["inQueue"] + health["jobs"]["inProgress"] == 1
        again.job(busy["id"], f"cancel/{running}")
        again.http.patch(f"/v2/serverless/{parked['id']}", json={"workers": {"max": 1}})
        done = wait_for(lambda: all(again.job(parked["id"], f"status/{j}", method="GET").json()["status"] == "COMPLETED" for j in queued))
        assert done
    finally:
        again.close()
