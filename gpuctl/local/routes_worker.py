"""The platform side of RunPod's worker protocol (api-notes §6.3), which the real `runpod`
SDK's `serverless.start` speaks.

- `GET job-take/{worker}` (and `job-take-batch/...&batch_size=N`): long-poll for jobs; 204
  when there is none. A worker of an old release, or one being stopped, gets 204 at once.
- `POST job-done/{worker}/{job}`: JSON text labelled `application/x-www-form-urlencoded`.
  `{"status": "IN_PROGRESS", "output": p}` is a progress update; anything else is the result,
  FAILED when it carries `error`. `stopPod` recycles the worker after the job.
- `POST job-stream/{worker}/{job}`: one `{"output": chunk}` of a generator handler.
- `GET job-stop/{worker}`: long-poll for `{"jobsToStop": [...]}` (cancel, execution timeout).
- `GET ping/{worker}`: the heartbeat.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gpuctl.local.control import local_of
from gpuctl.local.jobs import Job
from gpuctl.local.runtime import Local
from gpuctl.local.supervisor import Worker
from gpuctl.local.web import ApiError, json_body, json_response


def no_content() -> Response:
    return Response(status_code=204)


def _worker(local: Local, request: Request) -> Worker | None:
    """The supervised worker calling, marked ready; None for a worker we did not start (an
    outside process pointed at this server is served, just not supervised)."""
    worker = local.workers.workers.get(request.path_params["worker_id"])
    if worker is not None:
        local.engine.worker_ready(worker)
    return worker


def _current(local: Local, worker: Worker | None) -> bool:
    if worker is None:
        return True
    if worker.stopping:
        return False
    extra = (local.store.get_with_extra("endpoint", worker.endpoint_id, hidden=True) or ({}, {}))[1]
    if int(extra.get("version", 1)) != worker.version and not worker.jobs:
        local.workers.stop(worker, f"replaced by release {extra.get('version')}")
        return False
    return True


async def job_take(request: Request) -> Response:
    local = local_of(request)
    endpoint_id = request.path_params["endpoint_id"]
    worker = _worker(local, request)
    batch = request.url.path.split("/")[4] == "job-take-batch"
    try:
        size = int(request.query_params.get("batch_size", "1")) if batch else 1
    except ValueError:
        raise ApiError(400, "batch_size must be an integer") from None
    deadline = time.monotonic() + local.settings.take_poll_s
    while _current(local, worker) and not local.signals.shutdown.is_set():
        if local.store.get("endpoint", endpoint_id, hidden=True) is None:
            return no_content()
        jobs = local.engine.jobs.claim(endpoint_id, request.path_params["worker_id"], max(size, 1))
        if jobs:
            payloads = [j.payload() for j in jobs]
            return json_response(payloads if batch else payloads[0])
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        keys = [("queue", endpoint_id)] + ([("take", worker.id)] if worker is not None else [])
        await local.signals.wait(*keys, timeout=remaining)
    return no_content()


def _job(local: Local, request: Request) -> Job:
    job = local.engine.jobs.get(request.path_params["job_id"], request.path_params["endpoint_id"])
    if job is None:
        raise ApiError(404, f"job {request.path_params['job_id']} not found (expired, purged or deleted)")
    return job


async def _posted(request: Request) -> Any:
    """The SDK posts JSON text under a form-urlencoded label; read it as JSON regardless,
    with the one reader every route uses (an empty body is an empty result)."""
    body = await json_body(request, required=False)
    return {} if body is None else body


async def job_done(request: Request) -> Response:
    local = local_of(request)
    worker = _worker(local, request)
    job = _job(local, request)
    body = await _posted(request)
    if not isinstance(body, dict):
        raise ApiError(400, "job result must be a JSON object")
    if body.get("status") == "IN_PROGRESS":
        local.engine.jobs.progress(job, body.get("output"))
        return json_response({})
    local.engine.jobs.finish(job, body)
    if worker is not None:
        local.engine.release(worker, job.id)  # also when the job was cancelled meanwhile
        if body.get("stopPod"):
            local.workers.stop(worker, "refresh_worker requested after the job")
    return json_response({})


async def job_stream(request: Request) -> Response:
    local = local_of(request)
    _worker(local, request)
    job = _job(local, request)
    body = await _posted(request)
    if isinstance(body, dict) and "output" in body and job.status == "IN_PROGRESS":
        local.engine.jobs.add_chunk(job, body["output"])
    return json_response({})


async def job_stop(request: Request) -> Response:
    local = local_of(request)
    worker = local.workers.workers.get(request.path_params["worker_id"])
    if worker is None:
        return no_content()
    if not worker.stop_jobs and not worker.stopping:
        await local.signals.wait(("stop", worker.id), timeout=local.settings.take_poll_s)
    if worker.stop_jobs:
        stop, worker.stop_jobs = worker.stop_jobs, []
        return json_response({"jobsToStop": stop})
    return no_content()


async def ping(request: Request) -> Response:
    """The heartbeat carries `job_id=<comma-joined ids>` of the jobs the worker still runs."""
    local = local_of(request)
    worker = _worker(local, request)
    if worker is not None:
        held = {j for j in request.query_params.get("job_id", "").split(",") if j}
        local.engine.worker_holds(worker, held)
    return json_response({})
