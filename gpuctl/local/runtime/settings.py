"""Timings of the runtime and the job API, which tests and benchmarks shorten."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """Defaults follow RunPod where it documents them (§5.3, §6)."""

    take_poll_s: float = 20.0  # job-take / job-stop long-poll (the SDK gives up after 90 s)
    stream_wait_s: float = 5.0  # /stream hold when nothing is new (the SDK reads with a 10 s timeout)
    runsync_wait_ms: int = 90_000
    retention_run_s: float = 1800.0
    retention_sync_s: float = 60.0
    ping_interval_ms: int = 10_000
    tick_s: float = 0.2  # scaler and sweeper period
    stop_grace_s: float = 5.0  # SIGTERM to SIGKILL
    stop_deadline_s: float = 30.0  # a worker still holding a job this long after being told to stop it is stopped and replaced
    crash_limit: int = 3  # consecutive workers dying before ready -> fail the queue
    webhook_retry_s: float = 10.0  # RunPod retries a failed webhook twice, 10 s apart
    read_timeout_s: float = 30.0  # a request (head and body) must arrive within this (server/connections.py); generous for a loaded machine
    log_file_bytes: int = 32 * 1024 * 1024  # a worker's (or pod's) log past this drops its oldest part (runtime/logs.py LogFile)
    max_connections: int = 0  # open connections before idle ones are closed; 0: half the file descriptor limit

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Test and benchmark runs shorten timings with GPUCTL_LOCAL_SETTINGS='{"tick_s": 0.1}'."""
        raw = environ.get("GPUCTL_LOCAL_SETTINGS", "")
        return cls(**json.loads(raw)) if raw.strip() else cls()
