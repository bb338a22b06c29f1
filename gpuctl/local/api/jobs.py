"""The job API (RunPod's api.runpod.ai role, served under `/ai/v2/{endpoint_id}`): run,
runsync, status, stream, cancel, retry, purge-queue and health (api-notes §5)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gpuctl.local.api.control import FaultPoint, control
from gpuctl.local.api.http import MB, ApiError, json_body, json_response, route
from gpuctl.local.runtime.queue import JobQueue
from gpuctl.local.runtime.settings import Settings
from gpuctl.local.store.jobs import Job

AI = "/ai/v2/{endpoint_id}"


WAIT_RANGE_MS = (1000, 300_000)  # what RunPod holds a /runsync or /stream call for (api-notes §5)


def wait_ms(request: Request, default_ms: float) -> float:
    """`?wait=` held to RunPod's range: any number is clamped into it, as whole milliseconds
    always were (`1e9`, `2.5e4`, `inf` or `-5` included: a client that computes its wait as a
    float must not get a 400 RunPod would not give); only what is no number at all is refused."""
    raw = request.query_params.get("wait")
    if raw is None:
        return default_ms
    low, high = WAIT_RANGE_MS
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if math.isnan(value):
        raise ApiError(400, f"wait must be a number of milliseconds ({low} to {high}; others are held to that range), not {raw!r}")
    return min(max(value, low), high)


def accepted(job: Job) -> Response:
    return json_response({"id": job.id, "status": job.status})


@dataclass
class JobRoutes:
    """The routes; a cancel or retry is the job API's fault point (kind `job`, op `update`)."""

    queue: JobQueue
    settings: Settings
    faults: FaultPoint

    def routes(self) -> list[Route]:
        return [
            route(f"{AI}/run", post=self.run), route(f"{AI}/runsync", post=self.runsync),
            route(f"{AI}/status/{{job_id}}", get=self.status, post=self.status),
            route(f"{AI}/stream/{{job_id}}", get=self.stream, post=self.stream),
            route(f"{AI}/cancel/{{job_id}}", post=self.cancel), route(f"{AI}/retry/{{job_id}}", post=self.retry),
            route(f"{AI}/purge-queue", post=self.purge_queue), route(f"{AI}/health", get=self.health),
        ]

    def _job(self, request: Request) -> Job:
        return self.queue.job(request.path_params["endpoint_id"], request.path_params["job_id"])

    async def run(self, request: Request) -> Response:
        doc = self.queue.endpoint(request.path_params["endpoint_id"])
        body = await json_body(request, limit=10 * MB)
        return accepted(self.queue.submit(doc, body, sync=False, retention=self.settings.retention_run_s))

    async def runsync(self, request: Request) -> Response:
        doc = self.queue.endpoint(request.path_params["endpoint_id"])
        wait = wait_ms(request, self.settings.runsync_wait_ms)
        body = await json_body(request, limit=20 * MB)
        retention = 300.0 if "wait" in request.query_params else self.settings.retention_sync_s
        job = self.queue.submit(doc, body, sync=True, retention=retention)
        final = await self.queue.until_terminal(job, wait / 1000)
        if final is None:
            raise ApiError(404, f"job {job.id} no longer exists")
        return json_response(final.render()) if final.terminal else accepted(final)

    async def status(self, request: Request) -> Response:
        return json_response(self._job(request).render())

    async def stream(self, request: Request) -> Response:
        """Chunks produced since the previous call (the stream drains); holds an empty poll."""
        job = self._job(request)
        state, chunks = await self.queue.drain(job, wait_ms(request, self.settings.stream_wait_s * 1000) / 1000)
        return json_response({"status": state, "stream": [{"output": c} for c in chunks]})

    @control("update", "job")
    async def cancel(self, request: Request) -> Response:
        return accepted(self.queue.jobs.cancel(self._job(request)))

    @control("update", "job")
    async def retry(self, request: Request) -> Response:
        return accepted(self.queue.retry(self._job(request)))

    async def purge_queue(self, request: Request) -> Response:
        doc = self.queue.endpoint(request.path_params["endpoint_id"])
        return json_response({"removed": self.queue.purge(doc["id"]), "status": "completed"})

    async def health(self, request: Request) -> Response:
        doc = self.queue.endpoint(request.path_params["endpoint_id"])
        return json_response(self.queue.scheduler.health(doc["id"]))
