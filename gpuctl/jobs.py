"""Jobs on RunPod's job API, as every command sees them: which states are final, what a
failed job's error says, and waiting for a job to end. `invoke`, the GPU warm-up and the
health gate after deploy all use these, so they agree on when a job is over and why it failed.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

from gpuctl.files import json_in
from gpuctl.polling import poll_until
from gpuctl.provider.errors import NotFound

FINAL = ("COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT")
MAX_POLL_S = 2.0
MB = 1024 * 1024
BODY_LIMITS = {"run": 10 * MB, "runsync": 20 * MB}  # RunPod's payload limits (api-notes §5)
BY_REFERENCE = "pass large data by reference (a URL, or a file on the endpoint's network volume) and let the handler fetch it"


def body_size(payload: Any) -> int:
    """The bytes of a job request as the HTTP client sends it (compact UTF-8 JSON)."""
    return len(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def check_body_size(route: str, payload: Any, where: str | None = None) -> None:
    """Refuse a job request RunPod would refuse for its size, before uploading any of it; the
    size is counted as the HTTP client will send it (compact UTF-8 JSON)."""
    from gpuctl.errors import UsageError

    size, limit = body_size(payload), BODY_LIMITS[route]
    if size <= limit:
        return
    hint = BY_REFERENCE + ("; without --async or --stream, /runsync takes up to 20 MB" if route == "run" and size <= BODY_LIMITS["runsync"] else "")
    raise UsageError(f"the job request is {size:,} bytes, and RunPod's /{route} accepts at most {limit // MB} MB ({limit:,} bytes)",
                     detail=f"in {where}" if where else None, hint=hint)


def paused_hint(flags=None) -> str:
    """How to give a paused endpoint workers; `flags` (`gpuctl.commands.Flags`): the run's options."""
    from gpuctl.commands import NONE, suggest

    return f"raise scaling.max_workers in gpu.jsonc and run `{suggest('serverless', 'deploy', flags=flags or NONE)}` (or workers.max in the RunPod console)"


def paused(endpoint: dict) -> bool:
    """max workers 0 (an endpoint paused on purpose): no worker can start, so a job waits in the
    queue until that changes, however long anyone waits for it."""
    from gpuctl.v2 import workers_max

    return workers_max(endpoint) == 0


def refuse_if_paused(endpoint: dict, what: str, hint: str = "", flags=None) -> None:
    """A command that waits for a worker to run `what` stops at once on a paused endpoint, before
    queueing anything, instead of waiting out its timeout to then suggest a longer one."""
    from gpuctl.errors import GpuctlError

    if paused(endpoint):
        raise GpuctlError(f"endpoint {endpoint.get('name')} has max workers 0, so no worker can start to run {what}",
                          hint=paused_hint(flags) + (f"; {hint}" if hint else ""))


def error_parts(job: dict) -> tuple[str | None, str | None, str | None]:
    """(error type, message, traceback) of a job's error. The worker SDK sends JSON text with
    error_type, error_message and error_traceback; any other error is its own message."""
    raw = job.get("error")
    read, error = json_in(raw) if isinstance(raw, str) else (True, raw)
    if not read:
        return None, raw, None
    if isinstance(error, dict) and "error_message" in error:
        kind = str(error.get("error_type") or "").removeprefix("<class '").removesuffix("'>")
        return kind or None, str(error["error_message"]), error.get("error_traceback")
    if not raw:
        return None, None, None
    return None, raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False), None


def job_error(job: dict) -> tuple[str | None, str | None]:
    """("ValueError: bad input", traceback), or (None, None) for a job without an error."""
    kind, message, trace = error_parts(job)
    if message is None:
        return None, None
    return (f"{kind}: " if kind else "") + message, trace


def wait_until_final(get: Callable[[], dict], job: dict, *, remaining: Callable[[], float], sleep: Callable[[float], None],
                     on_status: Callable[[dict], None] = lambda job: None, first_pause: float = 0.25) -> dict:
    """Poll with `get()` (a /status call) from `job` until the job is final, slowing down to one
    poll every MAX_POLL_S; `on_status` sees each answer that is not final. Returns the last
    answer when `remaining()` runs out, final or not: the caller decides what a timeout means."""
    first = [job]  # the answer the caller has already: the first look costs no request
    return poll_until(lambda: first.pop() if first else get(), lambda answer: answer.get("status") in FINAL, remaining=remaining,
                      sleep=sleep, first=first_pause, factor=1.5, cap=MAX_POLL_S, seen=on_status)


class JobGone(NotFound):
    """The job API does not know a job (anymore): `job_missing` says why."""


REMOVED = "a purge of the endpoint's queue (purge-queue) or the job's ttl (policy.ttl, 24 h unless the job sets one) removes a job"
KEPT = "a result is kept 30 min after /run and 1 min after /runsync"
STATE_WORDS = {"IN_QUEUE": "queued", "IN_PROGRESS": "running"}


def job_missing(ref: str, job_id: str, last: dict | None = None, flags=None):
    """What a 404 of the job API on job `job_id` of endpoint `ref` means, for every command that
    asks about a job (/status, /stream, /cancel): the one place that decides it (review 9, R9-3:
    invoke's purged job ended in the provider's generic 404, advising to run the command again,
    which queues the work again). `last`: the job's last answer the command saw, when it queued
    the job itself: the id is then right, so the job was removed before it ended. Without it
    (an id a user typed), the id may also be wrong. A 404 because the endpoint itself was
    deleted is told apart by `gpuctl.cli.resolve.while_it_exists` (JobGone is a NotFound)."""
    from gpuctl.commands import NONE, suggest

    queue = f"`{suggest('serverless', 'status', ref, flags=flags or NONE)}` shows the endpoint's queue"
    if last is None:
        return JobGone(f"no job {job_id} on {ref} (unknown, or removed)", status=404,
                       hint=f"{REMOVED}, and {KEPT}; check the endpoint and the job id")
    state = STATE_WORDS.get(str(last.get("status")))
    seen = f" (it was {state} when gpu last looked)" if state else ""
    why = "its ttl passed" if last.get("status") == "IN_PROGRESS" else "the endpoint's queue was purged, or the job's ttl passed"  # a purge takes only queued jobs
    return JobGone(f"job {job_id} was removed from {ref} before it ended{seen}: {why}",
                   status=404, hint=f"{REMOVED}, and nothing of it is left to fetch; sending it again queues the same work again, "
                                    f"so first find out what removed it; {queue}")


@contextlib.contextmanager
def about_job(ref: str, job_id: str, last: Callable[[], dict | None] = lambda: None, flags=None) -> Iterator[None]:
    """Calls of the job API about one job: a not-found answer becomes `job_missing`'s error.
    `last()`: the job's last answer seen, for a job the command queued itself."""
    try:
        yield
    except JobGone:
        raise
    except NotFound:
        raise job_missing(ref, job_id, last(), flags) from None


SUBMITTING = "interrupt: waiting for the endpoint to answer with the job id, so gpu can say how to cancel the job"


def job_commands(ref: str, job_id: str, flags=None) -> str:
    """How to see and cancel a job gpu stopped waiting for; `flags` (`gpuctl.commands.Flags`):
    the run's options, which name the project `ref` belongs to and the account."""
    from gpuctl.commands import NONE, suggest

    return (f"check it with `{suggest('serverless', 'job', 'status', ref, job_id, flags=flags or NONE)}`, "
            f"cancel it with `{suggest('serverless', 'job', 'cancel', ref, job_id, flags=flags or NONE)}`")


class QueuedJob:
    """One job sent by /run and waited for by /status polls, as `invoke` and the health gate's
    smoke input send theirs: /run answers with the job id at once, and Ctrl-C and SIGTERM are
    held until it has answered, so an interrupt at any moment after can name the job and the
    commands to see and cancel it (/runsync answers only after its hold, and an interrupt
    during it left a job that runs, and bills, with no way to find it). `job` is the last
    answer seen: /run's, then each poll's."""

    def __init__(self, provider, endpoint_id: str, ref: str, say: Callable[[], None] | None = None, flags=None):
        self.provider, self.endpoint_id, self.ref, self.say, self.flags = provider, endpoint_id, ref, say, flags  # flags: the run's, for the commands it suggests
        self.job: dict | None = None

    def queue(self, payload: dict) -> dict:
        """/run, with the signals held until it answers (`say()` told at the first one); the
        signal then takes its course, the job id known."""
        from gpuctl.interrupts import held

        with held(say=self.say):
            self.job = self.provider.run(self.endpoint_id, payload)
        return self.job

    def wait(self, *, remaining: Callable[[], float], sleep: Callable[[float], None], on_status: Callable[[dict], None] = lambda job: None) -> dict:
        """Poll /status from the queued job until it is final or `remaining()` runs out; the
        last answer (final or not)."""
        if self.job.get("status") in FINAL:  # /run answers only id and status: the error is in /status
            self.job = self.status()
        return wait_until_final(self.status, self.job, remaining=remaining, sleep=sleep, on_status=lambda job: self.seen(job, on_status))

    def status(self) -> dict:
        """/status of the queued job; a not-found answer says the job was removed (`job_missing`)."""
        with self.asking():
            return self.provider.status(self.endpoint_id, self.job["id"])

    def stream(self) -> dict:
        """/stream of the queued job (what is new since the last call), as `status` for a not-found answer."""
        with self.asking():
            return self.provider.stream(self.endpoint_id, self.job["id"])

    def asking(self):
        """Calls about the queued job: its own id, so a 404 means it was removed (`about_job`)."""
        return about_job(self.ref, self.job["id"], lambda: self.job, self.flags)

    def seen(self, job: dict, then: Callable[[dict], None] = lambda job: None) -> None:
        """Each answer while it waits is the job's state from then on: an interrupt says what
        the job does next by the last one (running, not the queued state /run answered)."""
        self.job = {**(self.job or {}), **job}
        then(job)

    def left(self, what: str = "job") -> str:
        """What an interrupt of the wait says: the job (`what`: "smoke job"), what it does next
        by its last state, and the commands to see and cancel it; or, before the endpoint
        answered, where to look."""
        if not self.job:
            from gpuctl.commands import NONE, suggest

            return f"interrupted before {self.ref} answered: the {what} may still run\nhint: `{suggest('serverless', 'status', self.ref, flags=self.flags or NONE)}` shows the queue"
        # the state last seen: with --stream that is /run's answer while a /stream call waits,
        # so "queued" may be stale by now; it is said as what gpu last saw, not as a fact
        goes_on = (f"was in the queue of {self.ref} when gpu last looked; it runs once a worker takes it (it may be running now)"
                   if self.job.get("status") == "IN_QUEUE" else f"keeps running on {self.ref}")
        return f"interrupted: {what} {self.job['id']} {goes_on}\nhint: {job_commands(self.ref, self.job['id'], self.flags)}"


def summary(job: dict) -> dict[str, Any]:
    """The fields of a job worth keeping in a result document."""
    return {k: job.get(k) for k in ("id", "status", "workerId", "delayTime", "executionTime")}
