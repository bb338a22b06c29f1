"""The job state machine of api-notes §5.2, kept in SQLite so a restart loses nothing.

IN_QUEUE -> IN_PROGRESS (a worker took it) -> COMPLETED | FAILED (job-done) | TIMED_OUT
(execution timeout); IN_QUEUE | IN_PROGRESS -> CANCELLED; FAILED | TIMED_OUT -> IN_QUEUE
(/retry, same id). A job whose ttl passes is deleted even while running (status answers 404),
and a finished job is deleted when its result retention passes (30 min for /run, 1 min for
/runsync, 5 min for /runsync?wait=).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gpuctl.local.store import ids
from gpuctl.local.store.db import Store

TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"})
ABSENT = object()


@dataclass
class Job:
    id: str
    endpoint_id: str
    status: str
    request: dict
    output: Any
    error: str | None
    worker_id: str | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    webhook: str | None
    timeout_ms: int

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    def payload(self) -> dict[str, Any]:
        """What a worker's job-take receives: the id, the input and the request extras."""
        body = {"id": self.id, "input": self.request.get("input")}
        if "s3Config" in self.request:
            body["s3Config"] = self.request["s3Config"]
        return body

    def render(self) -> dict[str, Any]:
        """The /status object: timings in whole milliseconds, output and error when present."""
        doc: dict[str, Any] = {"id": self.id, "status": self.status}
        if self.started_at is not None:
            doc["delayTime"] = int((self.started_at - self.created_at) * 1000)
            if self.finished_at is not None:
                doc["executionTime"] = int((self.finished_at - self.started_at) * 1000)
        if self.worker_id:
            doc["workerId"] = self.worker_id
        if self.output is not ABSENT:
            doc["output"] = self.output
        if self.error is not None:
            doc["error"] = self.error
        return doc


def _job(row: Any) -> Job:
    return Job(
        id=row["id"], endpoint_id=row["endpoint_id"], status=row["status"], request=json.loads(row["request"]),
        output=ABSENT if row["output"] is None else json.loads(row["output"]), error=row["error"],
        worker_id=row["worker_id"], created_at=row["created_at"], started_at=row["started_at"],
        finished_at=row["finished_at"], webhook=row["webhook"], timeout_ms=row["timeout_ms"],
    )


class Jobs:
    """Every job operation. `changed(job)` runs after each transition (wake-ups, webhooks,
    stop signals); it is given by the server so this module stays free of I/O."""

    def __init__(self, store: Store, changed: Callable[[Job, str], None]):
        self.db = store.db
        self.store = store
        self.changed = changed

    def get(self, job_id: str, endpoint_id: str | None = None) -> Job | None:
        row = self.db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        if row is None or (endpoint_id is not None and row["endpoint_id"] != endpoint_id):
            return None
        return _job(row)

    def submit(self, endpoint_id: str, request: dict, *, sync: bool, retention: float, timeout_ms: int, ttl_ms: int) -> Job:
        now = time.time()
        policy = request.get("policy") or {}
        job_id = ids.job_id(sync)
        self.db.execute(
            "INSERT INTO jobs (id, endpoint_id, status, request, created_at, expires_at, ttl_ms, retention, low_priority,"
            " timeout_ms, webhook) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (job_id, endpoint_id, "IN_QUEUE", json.dumps(request), now, now + ttl_ms / 1000, ttl_ms, retention,
             int(bool(policy.get("lowPriority"))), timeout_ms, request.get("webhook")),
        )
        job = self.get(job_id)
        assert job is not None
        self.changed(job, "queued")
        return job

    def claim(self, endpoint_id: str, worker_id: str, count: int) -> list[Job]:
        now = time.time()
        with self.store.transaction() as db:
            rows = db.execute("SELECT id FROM jobs WHERE endpoint_id=? AND status='IN_QUEUE' ORDER BY seq LIMIT ?", (endpoint_id, count)).fetchall()
            taken = [r["id"] for r in rows]
            db.executemany("UPDATE jobs SET status='IN_PROGRESS', worker_id=?, started_at=?, attempts=attempts+1 WHERE id=?",
                           [(worker_id, now, j) for j in taken])
        jobs = [j for j in (self.get(i) for i in taken) if j is not None]
        for job in jobs:
            self.changed(job, "started")
        return jobs

    def progress(self, job: Job, output: Any) -> None:
        if job.status == "IN_PROGRESS":
            self.db.execute("UPDATE jobs SET output=? WHERE id=?", (json.dumps(output), job.id))
            self.changed(job, "progress")

    def finish(self, job: Job, body: dict) -> Job:
        """Record a worker's final result; a result for a job no longer running is ignored."""
        if job.status != "IN_PROGRESS":
            return job
        error = body.get("error")
        status = "FAILED" if error else "COMPLETED"
        if error is not None and not isinstance(error, str):
            error = json.dumps(error)
        output = json.dumps(body["output"]) if "output" in body else None
        return self._end(job, status, output=output, error=error or None)

    def _end(self, job: Job, status: str, *, output: str | None = None, error: str | None = None) -> Job:
        now = time.time()
        self.db.execute(
            "UPDATE jobs SET status=?, output=?, error=?, finished_at=?, expires_at=?+retention WHERE id=?",
            (status, output, error, now, now, job.id),
        )
        ended = self.get(job.id)
        assert ended is not None
        self.changed(ended, "ended")
        return ended

    def fail(self, job: Job, message: str) -> Job:
        return self._end(job, "FAILED", error=message)

    def time_out(self, job: Job) -> Job:
        return self._end(job, "TIMED_OUT", error=f"job exceeded its execution timeout of {job.timeout_ms} ms")

    def cancel(self, job: Job) -> Job:
        return job if job.terminal else self._end(job, "CANCELLED")

    def requeue(self, job: Job, *, ttl_ms: int | None = None) -> Job:
        """Back to the queue with the same id and its old place in line, output cleared.
        Counts as a retry in /health; `ttl_ms` restarts the job's time to live (/retry)."""
        expires = None if ttl_ms is None else time.time() + ttl_ms / 1000
        self.db.execute(
            "UPDATE jobs SET status='IN_QUEUE', output=NULL, error=NULL, worker_id=NULL, started_at=NULL,"
            " finished_at=NULL, retries=retries+1, expires_at=COALESCE(?, created_at + ttl_ms/1000.0) WHERE id=?",
            (expires, job.id),
        )
        self.db.execute("DELETE FROM chunks WHERE job_id=?", (job.id,))
        again = self.get(job.id)
        assert again is not None
        self.changed(again, "queued")
        return again

    def attempts(self, job_id: str) -> int:
        row = self.db.execute("SELECT attempts FROM jobs WHERE id=?", (job_id,)).fetchone()
        return 0 if row is None else int(row["attempts"])

    def purge(self, endpoint_id: str) -> int:
        return self.db.execute("DELETE FROM jobs WHERE endpoint_id=? AND status='IN_QUEUE'", (endpoint_id,)).rowcount

    def queued(self, endpoint_id: str) -> list[Job]:
        rows = self.db.execute("SELECT * FROM jobs WHERE endpoint_id=? AND status='IN_QUEUE' ORDER BY seq", (endpoint_id,))
        return [_job(r) for r in rows]

    def running(self, endpoint_id: str | None = None) -> list[Job]:
        if endpoint_id is None:
            rows = self.db.execute("SELECT * FROM jobs WHERE status='IN_PROGRESS'")
        else:
            rows = self.db.execute("SELECT * FROM jobs WHERE status='IN_PROGRESS' AND endpoint_id=?", (endpoint_id,))
        return [_job(r) for r in rows]

    def held_by(self, worker_id: str) -> list[Job]:
        """The running jobs the server handed to `worker_id` (its current attempt)."""
        return [_job(r) for r in self.db.execute("SELECT * FROM jobs WHERE status='IN_PROGRESS' AND worker_id=?", (worker_id,))]

    def queue_view(self, endpoint_id: str) -> tuple[int, int, float | None]:
        """(queued jobs that may scale up, queued low-priority jobs, enqueue time of the oldest
        that may scale up), the inputs of the autoscaler."""
        rows = self.db.execute(
            "SELECT low_priority, COUNT(*) AS n, MIN(created_at) AS oldest FROM jobs"
            " WHERE endpoint_id=? AND status='IN_QUEUE' GROUP BY low_priority", (endpoint_id,)).fetchall()
        normal = next((r for r in rows if not r["low_priority"]), None)
        low = next((r["n"] for r in rows if r["low_priority"]), 0)
        return (normal["n"] if normal else 0), low, (normal["oldest"] if normal else None)

    def endpoints_with_queue(self) -> set[str]:
        return {r["endpoint_id"] for r in self.db.execute("SELECT DISTINCT endpoint_id FROM jobs WHERE status='IN_QUEUE'")}

    def counts(self, endpoint_id: str) -> dict[str, int]:
        rows = self.db.execute("SELECT status, COUNT(*) AS n FROM jobs WHERE endpoint_id=? GROUP BY status", (endpoint_id,))
        by = {r["status"]: r["n"] for r in rows}
        retried = self.db.execute("SELECT COUNT(*) AS n FROM jobs WHERE endpoint_id=? AND retries>0", (endpoint_id,)).fetchone()["n"]
        return {"completed": by.get("COMPLETED", 0), "failed": by.get("FAILED", 0) + by.get("TIMED_OUT", 0),
                "inProgress": by.get("IN_PROGRESS", 0), "inQueue": by.get("IN_QUEUE", 0), "retried": retried}

    def add_chunk(self, job: Job, output: Any) -> None:
        n = self.db.execute("SELECT COALESCE(MAX(n), 0) + 1 AS n FROM chunks WHERE job_id=?", (job.id,)).fetchone()["n"]
        self.db.execute("INSERT INTO chunks (job_id, n, output) VALUES (?,?,?)", (job.id, n, json.dumps(output)))
        self.changed(job, "chunk")

    def drain(self, job_id: str) -> list[Any]:
        """Stream chunks produced since the previous drain (the /stream semantics)."""
        with self.store.transaction() as db:
            rows = db.execute("SELECT output FROM chunks WHERE job_id=? ORDER BY n", (job_id,)).fetchall()
            db.execute("DELETE FROM chunks WHERE job_id=?", (job_id,))
        return [json.loads(r["output"]) for r in rows]

    def expired(self, now: float) -> list[Job]:
        rows = self.db.execute("SELECT * FROM jobs WHERE expires_at < ?", (now,))
        return [_job(r) for r in rows]

    def delete(self, job_id: str) -> None:
        self.db.execute("DELETE FROM chunks WHERE job_id=?", (job_id,))
        self.db.execute("DELETE FROM jobs WHERE id=?", (job_id,))

    def overdue(self, now: float) -> list[Job]:
        rows = self.db.execute(
            "SELECT * FROM jobs WHERE status='IN_PROGRESS' AND timeout_ms>0 AND started_at + timeout_ms/1000.0 < ?", (now,))
        return [_job(r) for r in rows]
