"""GPU pre-warm: send one warm-up job through the job API (`/run`, then `/status`) and return
once a worker has run it end to end, so the endpoint has a started worker (and, with
FlashBoot, a snapshot) before the first real request.

A FAILED job that a worker took still proves the point: a worker started and ran the
handler, which rejected an input it did not expect. TIMED_OUT and CANCELLED do not, nor does
a job that failed before any worker took it (no `workerId`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from gpuctl.commands import NONE, Flags, suggest
from gpuctl.errors import GpuctlError
from gpuctl.jobs import FINAL, about_job, error_parts, summary, wait_until_final
from gpuctl.warm.errors import JobNotRun, WarmTimeout
from gpuctl.interrupts import held
from gpuctl.v2 import image, worker_counts
from gpuctl.provider.protocol import Provider
from gpuctl.words import in_seconds



def warmup_input(endpoint: dict) -> dict:
    """The cheapest valid request: worker-vllm answers `/v1/models` without generating
    (api-notes §5.6); any other handler gets a marker it may ignore or reject."""
    if "vllm" in (image(endpoint) or "").lower():
        return {"openai_route": "/v1/models"}
    return {"gpuctl_warmup": True}


def ttl_ms(timeout: float) -> int:
    """A job nobody waits for any more should not linger in the queue for RunPod's 24 h."""
    return int(min(max((timeout + 60) * 1000, 10_000), 7 * 86_400_000))


def handler_error(job: dict) -> str:
    """The handler's message (the SDK's `error_message`), without its exception type."""
    return error_parts(job)[1] or str(job.get("output") or "")


def workers_line(health: dict) -> str:
    counts = [f"{n} {state}" for state, n in worker_counts(health).items() if n and state != "ready"]
    return ", ".join(counts) or "none yet"


def wait(provider: Provider, endpoint_id: str, job_id: str, deadline: float, timeout: float, view: Any,
         clock: Callable[[], float], sleep: Callable[[float], None], flags: Flags = NONE) -> dict:
    """Poll `/status` (and `/health`, for the progress line) until the job is final. The line
    carries no clock, so without a terminal it is printed only when something changed."""
    def show(job: dict) -> None:
        view.status(f"job {job_id}: {job.get('status', '?')}; workers: {workers_line(provider.health(endpoint_id))}")

    last: list[dict] = [{"status": "IN_QUEUE"}]  # the job's last answer seen

    def status() -> dict:
        with about_job(endpoint_id, job_id, lambda: last[-1], flags):
            last.append(provider.status(endpoint_id, job_id))
        return last[-1]

    job = wait_until_final(status, status(), remaining=lambda: deadline - clock(), sleep=sleep, on_status=show)
    if job.get("status") not in FINAL:
        raise WarmTimeout(f"no worker ran the warm-up job within {in_seconds(timeout)} (it was {job.get('status')}); it was cancelled",
                          hint=f"raise --timeout (a cold start of a large image can take minutes), or check `{suggest('serverless', 'status', endpoint_id, flags=flags)}`")
    return job


def cancel(provider: Provider, endpoint_id: str, job_id: str, view: Any) -> None:
    """Best effort: the job's TTL removes it anyway if the cancel cannot be sent."""
    try:
        provider.cancel(endpoint_id, job_id)
        view.note(f"cancelled the warm-up job {job_id}")
    except GpuctlError as exc:
        view.note(f"could not cancel the warm-up job {job_id} ({exc.summary}); it expires on its own")


def warm_gpu(provider: Provider, endpoint: dict, timeout: float, view: Any,
             clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep, flags: Flags = NONE) -> dict:
    """A signal held while `/run` is sent is raised inside the `try`, so that job is cancelled too."""
    payload = {"input": warmup_input(endpoint), "policy": {"ttl": ttl_ms(timeout)}}
    start, job_id = clock(), None
    view.status(f"sending a warm-up job to {endpoint.get('name')}")
    try:
        with held():
            job_id = provider.run(endpoint["id"], payload)["id"]
        job = wait(provider, endpoint["id"], job_id, start + timeout, timeout, view, clock, sleep, flags)
    except BaseException:  # timeout, Ctrl-C, SIGTERM, lost connection: no job left queued
        if job_id is not None:
            with held():
                cancel(provider, endpoint["id"], job_id, view)
        raise
    return outcome(job, payload["input"], clock() - start, endpoint["id"], flags)


def outcome(job: dict, sent: dict, seconds: float, endpoint_id: str = "NAME", flags: Flags = NONE) -> dict:
    status = job.get("status")
    if status not in ("COMPLETED", "FAILED") or not job.get("workerId"):
        why = f": {handler_error(job)}" if job.get("error") else ""
        raise JobNotRun(f"the warm-up job ended {status} without a worker running it{why}",
                        hint=f"check the endpoint's workers and logs: `{suggest('serverless', 'status', endpoint_id, flags=flags)}`, "
                             f"`{suggest('serverless', 'logs', endpoint_id, flags=flags)}`")
    return {"job": summary(job), "input": sent,
            "handler_error": handler_error(job) if status == "FAILED" else None, "seconds": round(seconds, 1)}
