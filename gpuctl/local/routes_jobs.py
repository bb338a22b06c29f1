"""The job API (RunPod's api.runpod.ai role, served under `/ai/v2/{endpoint_id}`): run,
runsync, status, stream, cancel, retry, purge-queue and health (api-notes §5)."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gpuctl.local.control import local_of
from gpuctl.local.engine import Engine, health
from gpuctl.local.jobs import Job
from gpuctl.local.runtime import Local
from gpuctl.local.web import ApiError, json_body, json_response
from gpuctl.local.workerenv import has_command, no_command_message

MB = 1024 * 1024
DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS


def queue_endpoint(local: Local, endpoint_id: str) -> dict:
    doc = local.store.get("endpoint", endpoint_id)
    if doc is None:
        raise ApiError(404, f"endpoint {endpoint_id} not found")
    if doc.get("type") == "LOAD_BALANCER":
        raise ApiError(400, f"endpoint {endpoint_id} is a load-balancing endpoint; it has no job queue")
    return doc


def _policy(request_body: dict) -> dict:
    policy = request_body.get("policy") or {}
    if not isinstance(policy, dict):
        raise ApiError(400, "policy must be an object")
    bounds = {"executionTimeout": (5_000, WEEK_MS), "ttl": (10_000, WEEK_MS)}
    for key, (low, high) in bounds.items():
        value = policy.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high):
            raise ApiError(400, f"policy.{key} must be an integer number of milliseconds from {low} to {high}")
    if "lowPriority" in policy and not isinstance(policy["lowPriority"], bool):
        raise ApiError(400, "policy.lowPriority must be a boolean")
    return policy


def submit(local: Local, doc: dict, body: Any, *, sync: bool, retention: float) -> Job:
    """Queue a job for `doc`; on an endpoint with no local command it fails at once."""
    if not isinstance(body, dict) or "input" not in body:
        raise ApiError(400, 'the request body must be a JSON object with an "input" field')
    if body.get("webhook") is not None and not isinstance(body["webhook"], str):
        raise ApiError(400, "webhook must be a URL string")
    policy = _policy(body)
    request = {k: body[k] for k in ("input", "webhook", "policy", "s3Config") if k in body}
    engine: Engine = local.engine
    job = engine.jobs.submit(doc["id"], request, sync=sync, retention=retention,
                             timeout_ms=int(policy.get("executionTimeout") or doc.get("timeout") or 0),
                             ttl_ms=int(policy.get("ttl") or DAY_MS))
    if not has_command(doc.get("env", {})):
        job = engine.jobs.fail(job, no_command_message(doc["id"]))
    return job


def _wait_ms(request: Request, default_ms: float) -> float:
    raw = request.query_params.get("wait")
    if raw is None:
        return default_ms
    try:
        return min(max(int(raw), 1000), 300_000)
    except ValueError:
        raise ApiError(400, "wait must be a number of milliseconds from 1000 to 300000") from None


async def until_terminal(local: Local, job: Job, wait_s: float) -> Job | None:
    deadline = time.monotonic() + wait_s
    current: Job | None = job
    while current is not None and not current.terminal and not local.signals.shutdown.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        await local.signals.wait(("job", job.id), timeout=remaining)
        current = local.engine.jobs.get(job.id)
    return current


async def run(request: Request) -> Response:
    local = local_of(request)
    doc = queue_endpoint(local, request.path_params["endpoint_id"])
    body = await json_body(request, limit=10 * MB)
    job = submit(local, doc, body, sync=False, retention=local.settings.retention_run_s)
    return json_response({"id": job.id, "status": job.status})


async def runsync(request: Request) -> Response:
    local = local_of(request)
    doc = queue_endpoint(local, request.path_params["endpoint_id"])
    wait_ms = _wait_ms(request, local.settings.runsync_wait_ms)
    body = await json_body(request, limit=20 * MB)
    retention = 300.0 if "wait" in request.query_params else local.settings.retention_sync_s
    job = submit(local, doc, body, sync=True, retention=retention)
    final = await until_terminal(local, job, wait_ms / 1000)
    if final is None:
        raise ApiError(404, f"job {job.id} no longer exists")
    return json_response(final.render() if final.terminal else {"id": final.id, "status": final.status})


def job_or_404(local: Local, request: Request) -> Job:
    queue_endpoint(local, request.path_params["endpoint_id"])
    job = local.engine.jobs.get(request.path_params["job_id"], request.path_params["endpoint_id"])
    if job is None:
        raise ApiError(404, f"job {request.path_params['job_id']} not found")
    return job


async def status(request: Request) -> Response:
    return json_response(job_or_404(local_of(request), request).render())


async def stream(request: Request) -> Response:
    """Chunks produced since the previous call (the stream drains); holds an empty poll."""
    local = local_of(request)
    job = job_or_404(local, request)
    wait_s = _wait_ms(request, local.settings.stream_wait_s * 1000) / 1000
    chunks = local.engine.jobs.drain(job.id)
    if not chunks and not job.terminal:
        await local.signals.wait(("job", job.id), timeout=wait_s)
        chunks = local.engine.jobs.drain(job.id)
    current = local.engine.jobs.get(job.id)
    state = current.status if current is not None else job.status
    return json_response({"status": state, "stream": [{"output": c} for c in chunks]})


async def cancel(request: Request) -> Response:
    local = local_of(request)
    job = local.engine.jobs.cancel(job_or_404(local, request))
    return json_response({"id": job.id, "status": job.status})


async def retry(request: Request) -> Response:
    local = local_of(request)
    job = job_or_404(local, request)
    if job.status not in ("FAILED", "TIMED_OUT"):
        raise ApiError(400, f"only FAILED or TIMED_OUT jobs can be retried; job {job.id} is {job.status}")
    ttl = int((job.request.get("policy") or {}).get("ttl") or DAY_MS)
    job = local.engine.jobs.requeue(job, ttl_ms=ttl)
    doc = queue_endpoint(local, job.endpoint_id)
    if not has_command(doc.get("env", {})):
        job = local.engine.jobs.fail(job, no_command_message(doc["id"]))
    return json_response({"id": job.id, "status": job.status})


async def purge_queue(request: Request) -> Response:
    local = local_of(request)
    doc = queue_endpoint(local, request.path_params["endpoint_id"])
    queued = local.engine.jobs.queued(doc["id"])
    removed = local.engine.jobs.purge(doc["id"])
    for job in queued:
        local.signals.notify(("job", job.id))
    return json_response({"removed": removed, "status": "completed"})


async def endpoint_health(request: Request) -> Response:
    local = local_of(request)
    doc = queue_endpoint(local, request.path_params["endpoint_id"])
    return json_response(health(local.engine, doc["id"]))
