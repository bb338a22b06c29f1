"""The job API's rules (api-notes §5), over the scheduler's jobs: which endpoints have a queue,
what a run request may carry, the waits of runsync, stream and the OpenAI route, retry and
purge. A job for an endpoint with no local command fails at once, with the fix in its error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from gpuctl.local.errors import NotFound, Rejected
from gpuctl.local.runtime.scheduler import Scheduler
from gpuctl.local.runtime.signals import Signals
from gpuctl.local.runtime.workerenv import has_command, no_command_message
from gpuctl.local.store.db import Store
from gpuctl.local.store.jobs import Job, Jobs

DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS
POLICY_BOUNDS = {"executionTimeout": (5_000, WEEK_MS), "ttl": (10_000, WEEK_MS)}


def policy_of(body: dict) -> dict:
    """The request's `policy`, checked: timeouts in milliseconds within RunPod's bounds."""
    policy = body.get("policy") or {}
    if not isinstance(policy, dict):
        raise Rejected("policy must be an object")
    for key, (low, high) in POLICY_BOUNDS.items():
        value = policy.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high):
            raise Rejected(f"policy.{key} must be an integer number of milliseconds from {low} to {high}")
    if "lowPriority" in policy and not isinstance(policy["lowPriority"], bool):
        raise Rejected("policy.lowPriority must be a boolean")
    return policy


@dataclass
class JobQueue:
    store: Store
    scheduler: Scheduler
    signals: Signals

    @property
    def jobs(self) -> Jobs:
        return self.scheduler.jobs

    def endpoint(self, endpoint_id: str) -> dict:
        """An endpoint that has a job queue: it exists and is not load-balancing."""
        doc = self.store.get("endpoint", endpoint_id)
        if doc is None:
            raise NotFound(f"endpoint {endpoint_id} not found")
        if doc.get("type") == "LOAD_BALANCER":
            raise Rejected(f"endpoint {endpoint_id} is a load-balancing endpoint; it has no job queue")
        return doc

    def job(self, endpoint_id: str, job_id: str) -> Job:
        self.endpoint(endpoint_id)
        job = self.jobs.get(job_id, endpoint_id)
        if job is None:
            raise NotFound(f"job {job_id} not found")
        return job

    def submit(self, doc: dict, body: Any, *, sync: bool, retention: float) -> Job:
        """Queue a job for `doc`; on an endpoint with no local command it fails at once."""
        if not isinstance(body, dict) or "input" not in body:
            raise Rejected('the request body must be a JSON object with an "input" field')
        if body.get("webhook") is not None and not isinstance(body["webhook"], str):
            raise Rejected("webhook must be a URL string")
        policy = policy_of(body)
        request = {k: body[k] for k in ("input", "webhook", "policy", "s3Config") if k in body}
        job = self.jobs.submit(doc["id"], request, sync=sync, retention=retention,
                               timeout_ms=int(policy.get("executionTimeout") or doc.get("timeout") or 0),
                               ttl_ms=int(policy.get("ttl") or DAY_MS))
        return self._runnable(doc, job)

    def _runnable(self, doc: dict, job: Job) -> Job:
        return job if has_command(doc.get("env", {})) else self.jobs.fail(job, no_command_message(doc["id"]))

    async def until_terminal(self, job: Job, wait_s: float) -> Job | None:
        """The job once it has ended, or as it is when `wait_s` passes (None: it was deleted)."""
        deadline = time.monotonic() + wait_s
        current: Job | None = job
        while current is not None and not current.terminal and not self.signals.shutdown.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await self.signals.wait(("job", job.id), timeout=remaining)
            current = self.jobs.get(job.id)
        return current

    async def drain(self, job: Job, wait_s: float) -> tuple[str, list[Any]]:
        """(status, chunks produced since the previous call): the stream drains, and an empty
        poll of a running job is held up to `wait_s`."""
        chunks = self.jobs.drain(job.id)
        if not chunks and not job.terminal:
            await self.signals.wait(("job", job.id), timeout=wait_s)
            chunks = self.jobs.drain(job.id)
        current = self.jobs.get(job.id)
        return (current.status if current is not None else job.status), chunks

    def retry(self, job: Job) -> Job:
        """FAILED and TIMED_OUT jobs go back to the queue with the same id and a fresh ttl."""
        if job.status not in ("FAILED", "TIMED_OUT"):
            raise Rejected(f"only FAILED or TIMED_OUT jobs can be retried; job {job.id} is {job.status}")
        ttl = int((job.request.get("policy") or {}).get("ttl") or DAY_MS)
        job = self.jobs.requeue(job, ttl_ms=ttl)
        return self._runnable(self.endpoint(job.endpoint_id), job)

    def purge(self, endpoint_id: str) -> int:
        """Delete the queued jobs; their waiters are told."""
        queued = self.jobs.queued(endpoint_id)
        removed = self.jobs.purge(endpoint_id)
        for job in queued:
            self.signals.notify(("job", job.id))
        return removed
