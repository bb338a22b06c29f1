"""The platform side of RunPod's worker protocol (api-notes §6.3), which the real `runpod`
SDK's `serverless.start` speaks.

- `GET job-take/{worker}` (and `job-take-batch/...&batch_size=N`): long-poll for jobs; 204
  when there is none. A worker of an old release, or one being stopped, gets 204 at once.
- `POST job-done/{worker}/{job}`: JSON text labelled `application/x-www-form-urlencoded`.
  `{"status": "IN_PROGRESS", "output": p}` is a progress update; anything else is the result,
  FAILED when it carries `error`. `stopPod` recycles the worker after the job.
- `POST job-stream/{worker}/{job}`: one `{"output": chunk}` of a generator handler.
- `GET job-stop/{worker}`: long-poll for `{"jobsToStop": [...]}` (cancel, execution timeout).
- `GET ping/{worker}`: the heartbeat; a job handed to the worker that it does not list, twice
  after that worker's next take began (the take's answer was lost), goes back to the queue
  (`Scheduler.take_begins`, `Scheduler.heartbeat`).

A job is ended, advanced or streamed only by the worker it is with now: a retry keeps the id,
so the worker of an earlier attempt answering late changes nothing (it just lets go).

A result or chunk holding NaN or Infinity (a handler returning float("nan"): the SDK json.dumps
it into the bare token) is JSON no reader but Python's takes, RunPod's Go parser included; kept,
it made every answer about the job non-JSON and its webhook undeliverable (review 9, R9-1). The
job ends FAILED saying so, and the worker is answered 400 (its log says "Failed to return job
results"). A progress update holding one is refused alone: the job runs on.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gpuctl.jsontext import NonFinite
from gpuctl.local.api.control import FAULT, FaultPoint, held
from gpuctl.local.api.http import ApiError, json_body, json_response, no_content, route
from gpuctl.local.controlplane.endpoints import version
from gpuctl.local.runtime.scheduler import Scheduler
from gpuctl.local.runtime.settings import Settings
from gpuctl.local.runtime.signals import Signals
from gpuctl.local.runtime.supervisor import Supervisor, Worker
from gpuctl.local.store.db import Store
from gpuctl.local.store.jobs import Job, Jobs

AI = "/ai/v2/{endpoint_id}"


NON_FINITE_FIX = "return finite numbers from the handler (null, or the number as a string, for a NaN or an infinite metric)"


async def _posted(request: Request) -> tuple[Any, NonFinite | None]:
    """The SDK posts JSON text under a form-urlencoded label; read it as JSON regardless,
    with the one reader every route uses (an empty body is an empty result). A body refused
    only for a non-finite number comes with that refusal, read as Python reads it, so the
    route can tell a result from a progress update."""
    try:
        body = await json_body(request, required=False)
    except ApiError as exc:
        if not isinstance(exc.__cause__, NonFinite):
            raise
        import json

        try:  # only to read `status` and `stopPod`: nothing of it is kept
            return json.loads(request.state.body), exc.__cause__
        except (ValueError, RecursionError):
            raise exc from None
    return {} if body is None else body, None


def _not_json(what: str, refused: NonFinite) -> str:
    return f"the worker's {what} is not JSON: {refused}; {NON_FINITE_FIX}"


@dataclass
class WorkerRoutes:
    store: Store
    scheduler: Scheduler
    settings: Settings
    faults: FaultPoint

    @property
    def jobs(self) -> Jobs:
        return self.scheduler.jobs

    @property
    def workers(self) -> Supervisor:
        return self.scheduler.workers

    @property
    def signals(self) -> Signals:
        return self.scheduler.signals

    def routes(self) -> list[Route]:
        return [
            route(f"{AI}/job-take/{{worker_id}}", get=self.job_take), route(f"{AI}/job-take-batch/{{worker_id}}", get=self.job_take),
            route(f"{AI}/job-done/{{worker_id}}/{{job_id}}", post=self.job_done),
            route(f"{AI}/job-stream/{{worker_id}}/{{job_id}}", post=self.job_stream),
            route(f"{AI}/job-stop/{{worker_id}}", get=self.job_stop), route(f"{AI}/ping/{{worker_id}}", get=self.ping),
        ]

    def _worker(self, request: Request) -> Worker | None:
        """The supervised worker calling, marked ready; None for a worker we did not start (an
        outside process pointed at this server is served, just not supervised)."""
        worker = self.workers.workers.get(request.path_params["worker_id"])
        if worker is not None:
            self.scheduler.worker_ready(worker)
        return worker

    def _current(self, worker: Worker | None) -> bool:
        if worker is None:
            return True
        if worker.stopping:
            return False
        extra = (self.store.get_with_extra("endpoint", worker.endpoint_id, hidden=True) or ({}, {}))[1]
        if version(extra) != worker.version and not worker.jobs:
            self.workers.stop(worker, f"replaced by release {extra.get('version')}")
            return False
        return True

    async def job_take(self, request: Request) -> Response:
        endpoint_id = request.path_params["endpoint_id"]
        worker = self._worker(request)
        batch = request.url.path.split("/")[4] == "job-take-batch"
        try:
            size = int(request.query_params.get("batch_size", "1")) if batch else 1
        except ValueError:
            raise ApiError(400, "batch_size must be an integer") from None
        taker = request.path_params["worker_id"]
        take = self.scheduler.take_begins(taker)
        deadline = time.monotonic() + self.settings.take_poll_s
        while self._current(worker) and not self.signals.shutdown.is_set():
            if self.store.get("endpoint", endpoint_id, hidden=True) is None:
                return no_content()
            jobs = self.jobs.claim(endpoint_id, taker, max(size, 1))
            if jobs:
                self.scheduler.handed_out(taker, take, jobs)
                payloads = [j.payload() for j in jobs]
                await self._take_fault(request)
                return json_response(payloads if batch else payloads[0])
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            keys = [("queue", endpoint_id)] + ([("take", worker.id)] if worker is not None else [])
            await self.signals.wait(*keys, timeout=remaining)
        return no_content()

    async def _take_fault(self, request: Request) -> None:
        """A fault rule of kind `worker` on a take that handed out jobs: its answer held
        (`commit_then_hang`) or lost (`commit_then_fail`); the jobs stay with the worker."""
        fault = request.scope[FAULT] = self.faults.decide("take", "worker")
        if fault is not None and fault.action == "commit_then_hang" and not await held(self.faults, request, fault):
            raise ApiError(503, "the local provider is stopping")
        if fault is not None and fault.action == "commit_then_fail":
            raise self.faults.error(fault)

    def _job(self, request: Request) -> Job:
        job = self.jobs.get(request.path_params["job_id"], request.path_params["endpoint_id"])
        if job is None:
            raise ApiError(404, f"job {request.path_params['job_id']} not found (expired, purged or deleted)")
        return job

    @staticmethod
    def _holds(request: Request, job: Job) -> bool:
        """Whether the calling worker is the one the job is with now. A retry keeps the job's id,
        so a worker that ran an earlier attempt (timed out, its handler ignoring the stop) posts
        to the same URLs: its late answer, progress or chunk is not the current attempt's."""
        return job.worker_id == request.path_params["worker_id"]

    async def job_done(self, request: Request) -> Response:
        worker = self._worker(request)
        job = self._job(request)
        body, refused = await _posted(request)
        if not isinstance(body, dict):
            raise ApiError(400, "job result must be a JSON object")
        if body.get("status") == "IN_PROGRESS":
            if refused is not None:
                raise ApiError(400, _not_json("progress update", refused))
            if self._holds(request, job):
                self.jobs.progress(job, body.get("output"))
            return json_response({})
        if self._holds(request, job):  # else an earlier attempt's worker answering late: it let go, the job is unchanged
            if refused is None:
                self.jobs.finish(job, body)
            elif job.status == "IN_PROGRESS":
                self.jobs.fail(job, _not_json("result", refused))
        if worker is not None:
            self.scheduler.release(worker, job.id)  # also when the job was cancelled meanwhile
            if body.get("stopPod"):
                self.workers.stop(worker, "refresh_worker requested after the job")
        if refused is not None:
            raise ApiError(400, _not_json("result", refused))
        return json_response({})

    async def job_stream(self, request: Request) -> Response:
        self._worker(request)
        job = self._job(request)
        body, refused = await _posted(request)
        if isinstance(body, dict) and "output" in body and job.status == "IN_PROGRESS" and self._holds(request, job):
            if refused is None:
                self.jobs.add_chunk(job, body["output"])
            else:
                self.jobs.fail(job, _not_json("streamed chunk", refused))
        if refused is not None:
            raise ApiError(400, _not_json("streamed chunk", refused))
        return json_response({})

    async def job_stop(self, request: Request) -> Response:
        worker = self.workers.workers.get(request.path_params["worker_id"])
        if worker is None:
            return no_content()
        if not worker.stop_jobs and not worker.stopping:
            await self.signals.wait(("stop", worker.id), timeout=self.settings.take_poll_s)
        if worker.stop_jobs:
            stop, worker.stop_jobs = worker.stop_jobs, []
            return json_response({"jobsToStop": stop})
        return no_content()

    async def ping(self, request: Request) -> Response:
        """The heartbeat carries `job_id=<comma-joined ids>` of the jobs the worker still runs."""
        worker = self._worker(request)
        held = {j for j in request.query_params.get("job_id", "").split(",") if j}
        if worker is not None:
            self.scheduler.worker_holds(worker, held)
        if lists_held_jobs(request.query_params.get("runpod_version", "")):
            self.scheduler.heartbeat(request.path_params["worker_id"], held)
        return json_response({})


LISTING_SDK = (1, 12, 0)  # the runpod SDK release whose heartbeat was checked to list every job it holds


def lists_held_jobs(runpod_version: str) -> bool:
    """Whether a heartbeat from this runpod SDK release can be trusted to list every job its
    worker holds. 1.12.0 lists a job from its receipt until its result is posted (its heartbeat
    process reads the job list through a shared mirror). Releases before it, or a worker that
    does not say, may ping from a process that does not see the job list: a job they run would
    look unlisted and be queued again, running its handler twice, so their silence proves
    nothing and a lost take waits for the execution timeout as before."""
    parts = re.match(r"(\d+)\.(\d+)\.(\d+)", runpod_version.strip())
    return parts is not None and tuple(int(p) for p in parts.groups()) >= LISTING_SDK
