"""The serverless runtime loop: it ties jobs to workers. Every tick it times out and expires
jobs, recycles workers of old releases, stops workers idle past `idleTimeout` (down to
workers.min), and starts workers as the scaler asks.

A queue that cannot be served never waits forever: an endpoint without a local command fails
its jobs at once, a command that cannot start fails the queue with the reason, and workers
that die before becoming ready `crash_limit` times in a row fail the queue with their exit
code and last output.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sqlite3
import time
from typing import Any

from gpuctl.local.endpoints import idle_timeout
from gpuctl.local.jobs import Job, Jobs
from gpuctl.local.runtime import Local
from gpuctl.local.scaler import Load, desired_workers
from gpuctl.local.supervisor import Worker
from gpuctl.local.webhooks import Webhooks
from gpuctl.local.workerenv import SpawnError, has_command, no_command_message, placement

MAX_ATTEMPTS = 3


class Engine:
    def __init__(self, local: Local):
        self.local = local
        self.jobs = Jobs(local.store, self._changed)
        self.webhooks = Webhooks(local.settings.webhook_retry_s)
        self.crashes: dict[str, int] = {}
        self.spawning: set[str] = set()
        self.wake = asyncio.Event()
        local.workers.on_exit = self._worker_exited

    # ----- reactions to job transitions ---------------------------------------------------

    def _changed(self, job: Job, event: str) -> None:
        signals = self.local.signals
        signals.notify(("job", job.id))
        worker = self.local.workers.workers.get(job.worker_id or "")
        if event == "queued":
            signals.notify(("queue", job.endpoint_id))
            self.wake.set()
        elif event == "started" and worker is not None:
            worker.jobs.add(job.id)
        elif event == "ended":
            if worker is not None and job.id in worker.jobs:
                if job.status in ("CANCELLED", "TIMED_OUT"):
                    self.local.workers.stop_job(worker.id, job.id)  # still busy until it lets go
                else:
                    self.release(worker, job.id)
            if job.webhook:
                self.webhooks.send(job.webhook, job.render())
            self.wake.set()

    def release(self, worker: Worker, job_id: str) -> None:
        worker.jobs.discard(job_id)
        if not worker.jobs:
            worker.idle_since = time.time()

    def worker_holds(self, worker: Worker, held: set[str]) -> None:
        """Reconcile with the job ids a worker's heartbeat says it still runs: it let go of
        stopped jobs it no longer lists, and a stop it missed (it came before the job's task
        existed) is sent again for a listed job that should no longer run."""
        for job_id in list(worker.jobs - held):
            job = self.jobs.get(job_id)
            if job is None or job.status != "IN_PROGRESS" or job.worker_id != worker.id:
                self.release(worker, job_id)
        for job_id in held:
            job = self.jobs.get(job_id)
            if (job is None or job.status != "IN_PROGRESS" or job.worker_id != worker.id) and job_id not in worker.stop_jobs:
                self.local.workers.stop_job(worker.id, job_id)

    def worker_ready(self, worker: Worker) -> None:
        if not worker.ready:
            worker.ready = True
            worker.idle_since = time.time()
            worker.log.write("system", f"worker {worker.id} is ready")
            self.crashes.pop(worker.endpoint_id, None)

    def _worker_exited(self, worker: Worker) -> None:
        for job in self.jobs.running(worker.endpoint_id):
            if job.worker_id != worker.id:
                continue
            if self.jobs.attempts(job.id) < MAX_ATTEMPTS and worker.stopping != "endpoint deleted":
                self.jobs.requeue(job)
            else:
                self.jobs.fail(job, f"worker {worker.id} exited with code {worker.exit_code} while running the job")
        if not worker.stopping and not worker.ready:
            self._count_crash(worker)
        self.wake.set()

    def _count_crash(self, worker: Worker) -> None:
        eid = worker.endpoint_id
        self.crashes[eid] = self.crashes.get(eid, 0) + 1
        if self.crashes[eid] >= self.local.settings.crash_limit:
            self.crashes.pop(eid, None)
            tail = " | ".join(_last_lines(worker))
            self.fail_queue(eid, f"worker exited with code {worker.exit_code} before taking a job, "
                                 f"{self.local.settings.crash_limit} times in a row; last output: {tail or '(none)'}")

    def fail_queue(self, endpoint_id: str, message: str) -> None:
        for job in self.jobs.queued(endpoint_id):
            self.jobs.fail(job, message)

    # ----- the loop ------------------------------------------------------------------------

    async def run(self) -> None:
        while not self.local.signals.shutdown.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.local.settings.tick_s)
            self.wake.clear()
            try:
                await self.tick(time.time())
            except sqlite3.DatabaseError as exc:  # every later tick would fail the same way
                logging.getLogger("gpuctl.local").error("state.db went bad while running (%s); the local provider stops. "
                                                        "Run `gpu local reset`: it moves the damaged file aside (nothing is deleted)", exc)
                os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's graceful shutdown: workers stopped, server.json removed
                return
            except Exception:  # one bad document must not stop every endpoint's scaling
                logging.getLogger("gpuctl.local").exception("runtime loop tick failed")

    async def tick(self, now: float) -> None:
        self.sweep(now)
        for eid in self.active_endpoints():
            await self.scale(eid, now)

    def sweep(self, now: float) -> None:
        for job in self.jobs.overdue(now):
            self.jobs.time_out(job)
        for job in self.jobs.expired(now):
            worker = self.local.workers.workers.get(job.worker_id or "")
            if job.status == "IN_PROGRESS" and worker is not None:
                self.local.workers.stop_job(worker.id, job.id)
            self.jobs.delete(job.id)
            self.local.signals.notify(("job", job.id))

    def active_endpoints(self) -> set[str]:
        with_workers = {w.endpoint_id for w in self.local.workers.workers.values()}
        return with_workers | self.jobs.endpoints_with_queue() | self.always_on()

    def always_on(self) -> set[str]:
        rows = self.local.store.db.execute(
            "SELECT id FROM objects WHERE kind='endpoint' AND json_extract(doc, '$.workers.min') > 0")
        return {r["id"] for r in rows}

    async def scale(self, eid: str, now: float) -> None:
        found = self.local.store.get_with_extra("endpoint", eid, hidden=True)
        if found is None:
            self.local.workers.stop_endpoint(eid, "endpoint deleted")
            return
        doc, extra = found
        version = int(extra.get("version", 1))
        self._scale_down(doc, version, now)
        queued, low, oldest = self.jobs.queue_view(eid)
        if not has_command(doc.get("env", {})):
            if queued or low:
                self.fail_queue(eid, no_command_message(eid))
            return
        live = self.local.workers.live(eid)
        load = Load(queued, len(self.jobs.running(eid)), None if oldest is None else now - oldest, len(live),
                    sum(1 for w in live if not w.ready))
        wanted = desired_workers(doc["workers"], doc["scaling"], load) - len(live)
        if wanted > 0 and eid not in self.spawning:
            await self._spawn(doc, version, wanted)

    def _scale_down(self, doc: dict, version: int, now: float) -> None:
        live = self.local.workers.live(doc["id"])
        for worker in [w for w in live if w.version != version and not w.jobs]:
            self.local.workers.stop(worker, f"replaced by release {version}")
            live.remove(worker)
        limit = idle_timeout(doc)
        floor = int(doc["workers"]["min"])
        idle = sorted((w for w in live if w.ready and not w.jobs), key=lambda w: w.idle_since)
        for worker in idle:
            if len(live) <= floor or now - worker.idle_since < limit:
                break
            self.local.workers.stop(worker, f"idle for {limit} s")
            live.remove(worker)
        for worker in live[int(doc["workers"]["max"]):]:
            if not worker.jobs:
                self.local.workers.stop(worker, "above workers.max")

    async def _spawn(self, doc: dict, version: int, count: int) -> None:
        self.spawning.add(doc["id"])
        try:
            where = placement(self.local, doc)
            for _ in range(count):
                await self.local.workers.spawn(doc, version, where)
        except SpawnError as exc:
            self.fail_queue(doc["id"], str(exc))
        finally:
            self.spawning.discard(doc["id"])

    async def close(self) -> None:
        await self.webhooks.close()


def _last_lines(worker: Worker, count: int = 5) -> list[str]:
    from gpuctl.local.logs import read_records

    with contextlib.suppress(OSError, ValueError):
        records, _ = read_records(worker.log.path)
        return [r["line"] for r in records if r["source"] == "container"][-count:]
    return []


def health(engine: Engine, endpoint_id: str) -> dict[str, Any]:
    workers = engine.local.workers.of(endpoint_id)
    states = [w.status for w in workers if not w.stopping]
    idle, running = states.count("IDLE"), states.count("RUNNING")
    return {"jobs": engine.jobs.counts(endpoint_id),
            "workers": {"idle": idle, "initializing": states.count("INITIALIZING"), "ready": idle + running,
                        "running": running, "throttled": 0, "unhealthy": 0}}
