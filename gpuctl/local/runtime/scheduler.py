"""The scheduler: it ties jobs to workers. It reacts to every job transition (wake-ups,
webhooks, stop signals) and to every worker that exits, and every tick it times out and expires
jobs, stops workers that still hold a job `stop_deadline_s` after being told to stop it (a
handler that ignores the stop, or an SDK that loses it, would keep the worker busy for ever
and the jobs queued behind it waiting), recycles workers of old releases, stops workers idle
past `idleTimeout` (down to workers.min), and starts workers as the scaler asks.

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
import time
from dataclasses import dataclass
from typing import Any

from gpuctl.local.datadir.layout import DataDir
from gpuctl.local.runtime.logs import read_backfill
from gpuctl.local.runtime.scaler import Load, desired_workers, idle_timeout
from gpuctl.local.runtime.settings import Settings
from gpuctl.local.runtime.signals import Signals
from gpuctl.local.runtime.supervisor import Supervisor, Worker
from gpuctl.local.runtime.webhooks import Webhooks
from gpuctl.local.runtime.workerenv import SpawnError, WorkerEnv, has_command, missing_module_hint, no_command_message, placement
from gpuctl.local.store.db import DatabaseError, Store
from gpuctl.local.store.jobs import Job, Jobs
from gpuctl.local.store.reference import Catalog

MAX_ATTEMPTS = 3


@dataclass
class Handed:
    """The take that handed a job out: its worker, the take's number (`Scheduler.take_begins`),
    whether a later take from that worker has begun, and how many heartbeats since then did not
    list the job."""
    worker_id: str
    take: int
    followed: bool = False
    unlisted: int = 0


class Scheduler:
    """Owns the jobs, the workers' supervisor and the webhooks; the control plane tells it
    about endpoints through `endpoint_changed` and `endpoint_removed`."""

    def __init__(self, store: Store, catalog: Catalog, signals: Signals, settings: Settings, env: WorkerEnv, data_dir: DataDir):
        self.store = store
        self.catalog = catalog
        self.signals = signals
        self.settings = settings
        self.jobs = Jobs(store, self._changed)
        self.workers = Supervisor(data_dir, signals, env, settings.stop_grace_s, self._worker_exited, settings.log_file_bytes)
        self.webhooks = Webhooks(settings.webhook_retry_s)
        self.crashes: dict[str, int] = {}
        self.spawning: set[str] = set()
        self.takes: dict[str, int] = {}  # worker id -> job-take requests heard from it (numbers each take)
        self.handed: dict[str, Handed] = {}  # job id -> the take that handed it out, until its worker's heartbeat lists it
        self.wake = asyncio.Event()

    # ----- what the control plane tells it ----------------------------------------------

    def endpoint_changed(self) -> None:
        self.wake.set()

    def endpoint_removed(self, endpoint_id: str, job_ids: list[str]) -> None:
        """Its workers stop; job-take long polls and the deleted jobs' waiters are released."""
        self.workers.stop_endpoint(endpoint_id, "endpoint deleted")
        self.signals.notify(("queue", endpoint_id))
        for job_id in job_ids:
            self.signals.notify(("job", job_id))

    # ----- reactions to job transitions ---------------------------------------------------

    def _changed(self, job: Job, event: str) -> None:
        signals = self.signals
        signals.notify(("job", job.id))
        worker = self.workers.workers.get(job.worker_id or "")
        if event in ("queued", "ended"):
            self.handed.pop(job.id, None)
        if event == "queued":
            signals.notify(("queue", job.endpoint_id))
            self.wake.set()
        elif event == "started" and worker is not None:
            worker.jobs.add(job.id)
        elif event == "ended":
            if worker is not None and job.id in worker.jobs:
                if job.status in ("CANCELLED", "TIMED_OUT"):
                    self.workers.stop_job(worker.id, job.id)  # still busy until it lets go
                else:
                    self.release(worker, job.id)
            if job.webhook:
                self.webhooks.send(job.webhook, job.render())
            self.wake.set()

    def release(self, worker: Worker, job_id: str) -> None:
        worker.jobs.discard(job_id)
        worker.stop_asked.pop(job_id, None)
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
                self.workers.stop_job(worker.id, job_id)
        for job_id in [j for j in worker.stop_asked if j not in held and j not in worker.jobs]:
            del worker.stop_asked[job_id]  # its heartbeat no longer lists it: it let go

    def take_begins(self, worker_id: str) -> int:
        """A job-take from `worker_id` arrived; its number, for `handed_out`. The runpod SDK
        (1.12.0) has one take loop per worker, whatever its concurrency: it awaits each take's
        answer (or gives up on it) and adds the jobs it received to the job list its heartbeat
        reports before it sends the next take. So a later take from the same worker proves it
        is done with every earlier one: what an earlier take handed out has either been listed
        or never reached it."""
        number = self.takes[worker_id] = self.takes.get(worker_id, 0) + 1
        for handed in self.handed.values():
            if handed.worker_id == worker_id and handed.take < number:
                handed.followed = True
        return number

    def handed_out(self, worker_id: str, take: int, jobs: list[Job]) -> None:
        """Take number `take` from `worker_id` handed out `jobs`."""
        for job in jobs:
            self.handed[job.id] = Handed(worker_id, take, followed=self.takes.get(worker_id, 0) > take)

    def heartbeat(self, worker_id: str, held: set[str]) -> None:
        """A job the server handed to `worker_id` never reached it (the take's answer was lost:
        a dropped connection, the SDK giving up on the long poll) when the same worker has sent a
        later take (`take_begins`) and two heartbeats that arrived after that take began do not
        list it. The SDK lists a job from the moment it receives it until it has posted the
        result, and adds it before its next take; a heartbeat's job list is read just before it
        is sent, so the first one after the later take may predate it, but the second is read
        after the first was answered, later than that take. Heartbeats alone prove nothing: a
        worker whose event loop is blocked (a running job's sync call) has not read an answer
        that is waiting in its socket, and runs the job when it does; a worker that sends no
        later take is never judged here (one the server started is seen to exit). A job once
        listed reached its worker and is never judged again. The job goes back to the queue (a
        retry, as for a worker that died holding it), or fails after `MAX_ATTEMPTS`; an answer
        from this worker for it later is an earlier attempt's and changes nothing. Any worker id
        is heard, supervised or not."""
        for job in self.jobs.held_by(worker_id):
            handed = self.handed.get(job.id)
            if handed is None or handed.worker_id != worker_id:
                continue
            if job.id in held:
                del self.handed[job.id]  # it reached the worker
            elif handed.followed:
                handed.unlisted += 1
                if handed.unlisted >= 2:
                    self._lost(job, worker_id)

    def _lost(self, job: Job, worker_id: str) -> None:
        worker = self.workers.workers.get(worker_id)
        if worker is not None:
            self.release(worker, job.id)
        why = (f"worker {worker_id} was handed job {job.id} but its heartbeat never listed it, also after its next take "
               "(the take's answer was lost)")
        if self.jobs.attempts(job.id) < MAX_ATTEMPTS:
            self.jobs.requeue(job)
            why += "; the job is back in the queue"
        else:
            self.jobs.fail(job, f"{why}, {MAX_ATTEMPTS} times")
        if worker is not None:
            worker.log.write("system", why)

    def worker_ready(self, worker: Worker) -> None:
        if not worker.ready:
            worker.ready = True
            worker.idle_since = time.time()
            worker.log.write("system", f"worker {worker.id} is ready")
            self.crashes.pop(worker.endpoint_id, None)

    def _worker_exited(self, worker: Worker) -> None:
        self.takes.pop(worker.id, None)
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
        if self.crashes[eid] >= self.settings.crash_limit:
            self.crashes.pop(eid, None)
            lines = _last_lines(worker)
            tail = " | ".join(lines)
            self.fail_queue(eid, f"worker exited with code {worker.exit_code} before taking a job, "
                                 f"{self.settings.crash_limit} times in a row; last output: {tail or '(none)'}"
                                 + missing_module_hint(worker.env, lines))

    def fail_queue(self, endpoint_id: str, message: str) -> None:
        for job in self.jobs.queued(endpoint_id):
            self.jobs.fail(job, message)

    # ----- the loop ------------------------------------------------------------------------

    async def run(self) -> None:
        while not self.signals.shutdown.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.settings.tick_s)
            self.wake.clear()
            try:
                await self.tick(time.time())
            except DatabaseError as exc:  # every later tick would fail the same way
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
        self.reclaim(now)
        for job in self.jobs.overdue(now):
            self.jobs.time_out(job)
        for job in self.jobs.expired(now):
            worker = self.workers.workers.get(job.worker_id or "")
            if job.status == "IN_PROGRESS" and worker is not None:
                self.workers.stop_job(worker.id, job.id)
            self.jobs.delete(job.id)
            self.handed.pop(job.id, None)
            self.signals.notify(("job", job.id))

    def reclaim(self, now: float) -> None:
        """Stop (SIGTERM, SIGKILL after the grace) every worker still holding a job
        `stop_deadline_s` after it was told to stop it; the scaler starts its replacement as
        for any stopped worker, and a running job it also held goes back to the queue when it
        exits. RunPod likewise reclaims the worker of a cancelled job in the end. Without this,
        a handler that ignores the stop, or an SDK that loses it (one that lands between the
        job's task being made and its first step cancels the task before its `finally` can
        forget the job), keeps the worker busy for ever: it takes no other job."""
        limit = self.settings.stop_deadline_s
        for worker in list(self.workers.workers.values()):
            late = sorted(j for j, asked in worker.stop_asked.items() if now - asked >= limit)
            if late and not worker.stopping:
                self.workers.stop(worker, f"it still held job {late[0]} {limit:g} s after being told to stop it "
                                          f"(cancelled, timed out or expired); a replacement takes the queue")

    def active_endpoints(self) -> set[str]:
        with_workers = {w.endpoint_id for w in self.workers.workers.values()}
        return with_workers | self.jobs.endpoints_with_queue() | self.store.always_on()

    async def scale(self, eid: str, now: float) -> None:
        found = self.store.get_with_extra("endpoint", eid, hidden=True)
        if found is None:
            self.workers.stop_endpoint(eid, "endpoint deleted")
            return
        doc, extra = found
        version = int(extra.get("version", 1))
        self._scale_down(doc, version, now)
        queued, low, oldest = self.jobs.queue_view(eid)
        if not has_command(doc.get("env", {})):
            if queued or low:
                self.fail_queue(eid, no_command_message(eid))
            return
        live = self.workers.live(eid)
        load = Load(queued, len(self.jobs.running(eid)), None if oldest is None else now - oldest, len(live),
                    sum(1 for w in live if not w.ready))
        wanted = desired_workers(doc["workers"], doc["scaling"], load) - len(live)
        if wanted > 0 and eid not in self.spawning:
            await self._spawn(doc, version, wanted)

    def _scale_down(self, doc: dict, version: int, now: float) -> None:
        live = self.workers.live(doc["id"])
        for worker in [w for w in live if w.version != version and not w.jobs]:
            self.workers.stop(worker, f"replaced by release {version}")
            live.remove(worker)
        limit = idle_timeout(doc)
        floor = int(doc["workers"]["min"])
        idle = sorted((w for w in live if w.ready and not w.jobs), key=lambda w: w.idle_since)
        for worker in idle:
            if len(live) <= floor or now - worker.idle_since < limit:
                break
            self.workers.stop(worker, f"idle for {limit} s")
            live.remove(worker)
        for worker in live[int(doc["workers"]["max"]):]:
            if not worker.jobs:
                self.workers.stop(worker, "above workers.max")

    async def _spawn(self, doc: dict, version: int, count: int) -> None:
        self.spawning.add(doc["id"])
        try:
            where = placement(self.store, self.catalog, doc)
            for _ in range(count):
                await self.workers.spawn(doc, version, where)
        except SpawnError as exc:
            self.fail_queue(doc["id"], str(exc))
        finally:
            self.spawning.discard(doc["id"])

    def health(self, endpoint_id: str) -> dict[str, Any]:
        """The job API's `/health`: job counts, and workers by state (ready = idle + running)."""
        states = [w.status for w in self.workers.of(endpoint_id) if not w.stopping]
        idle, running = states.count("IDLE"), states.count("RUNNING")
        return {"jobs": self.jobs.counts(endpoint_id),
                "workers": {"idle": idle, "initializing": states.count("INITIALIZING"), "ready": idle + running,
                            "running": running, "throttled": 0, "unhealthy": 0}}

    async def close(self) -> None:
        await self.webhooks.close()


def _last_lines(worker: Worker, count: int = 5) -> list[str]:
    with contextlib.suppress(OSError, ValueError):
        records, _ = read_backfill(worker.log.path)
        return [r["line"] for r in records if r["source"] == "container"][-count:]
    return []
