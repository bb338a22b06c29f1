"""The one object a running server hangs everything on. Route handlers reach it as
`request.app.state.local`; nothing in the package keeps state at module level."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gpuctl.local.catalog import Catalog
from gpuctl.local.faults import FaultBook
from gpuctl.local.store import Store
from gpuctl.local.web import RateWindows

if TYPE_CHECKING:
    from gpuctl.local.engine import Engine
    from gpuctl.local.supervisor import Supervisor


@dataclass(frozen=True)
class Settings:
    """Timings that tests shorten. Defaults follow RunPod where it documents them (§5.3, §6)."""

    take_poll_s: float = 20.0  # job-take / job-stop long-poll (the SDK gives up after 90 s)
    stream_wait_s: float = 5.0  # /stream hold when nothing is new (the SDK reads with a 10 s timeout)
    runsync_wait_ms: int = 90_000
    retention_run_s: float = 1800.0
    retention_sync_s: float = 60.0
    ping_interval_ms: int = 10_000
    tick_s: float = 0.2  # scaler and sweeper period
    stop_grace_s: float = 5.0  # SIGTERM to SIGKILL
    crash_limit: int = 3  # consecutive workers dying before ready -> fail the queue
    webhook_retry_s: float = 10.0  # RunPod retries a failed webhook twice, 10 s apart


class Signals:
    """Wake-ups for long polls: a waiter sleeps on keys until someone notifies one of them,
    the timeout passes, or the server begins shutting down.

    `wait` registers its keys before it first yields, so a notify that happens while the
    waiter is getting ready is never lost; await it directly, never through a task.
    """

    def __init__(self) -> None:
        self._events: dict[Any, asyncio.Event] = {}
        self.shutdown = asyncio.Event()

    def notify(self, key: Any) -> None:
        event = self._events.pop(key, None)
        if event is not None:
            event.set()

    async def wait(self, *keys: Any, timeout: float) -> None:
        if timeout <= 0 or self.shutdown.is_set():
            return
        events = [self._events.setdefault(key, asyncio.Event()) for key in keys] + [self.shutdown]
        waiters = [asyncio.ensure_future(e.wait()) for e in events]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()


class RequestLog:
    """What the admin route `/_admin/requests` reports: recent requests and a write counter."""

    def __init__(self, limit: int = 10_000) -> None:
        self.entries: deque[dict[str, Any]] = deque(maxlen=limit)
        self.writes = 0

    def record(self, method: str, path: str, status: int, at: float, write: bool) -> None:
        self.entries.append({"method": method, "path": path, "status": status, "at": at})
        self.writes += int(write)

    def reset(self) -> None:
        self.entries.clear()
        self.writes = 0


@dataclass
class Local:
    data_dir: Path
    store: Store
    token: str
    worker_secret: bytes
    base_url: str
    settings: Settings = field(default_factory=Settings)
    faults: FaultBook = field(default_factory=FaultBook)
    requests: RequestLog = field(default_factory=RequestLog)
    rates: RateWindows = field(default_factory=RateWindows)
    signals: Signals = field(default_factory=Signals)
    supervisor: Supervisor | None = None
    engine_: Engine | None = None
    started_at: float = field(default_factory=time.time)
    catalog_: Catalog | None = None

    @property
    def catalog(self) -> Catalog:
        """Loaded on first use: reading it (and importing gpuctl.catalog) is start-up time
        that a server answering its first status call does not need."""
        if self.catalog_ is None:
            from gpuctl.catalog import state_dir

            self.catalog_ = Catalog.load(state_dir())
        return self.catalog_

    def worker_key(self, endpoint_id: str) -> str:
        """The `RUNPOD_AI_API_KEY` of one endpoint's workers, the only key its worker routes
        accept. Derived (HMAC) from a secret drawn at each start, so no key is stored and no
        worker of one endpoint can compute another's."""
        digest = hmac.new(self.worker_secret, endpoint_id.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
        return "gpuctl-worker-" + base64.urlsafe_b64encode(digest[:24]).decode()

    @property
    def endpoint_base_url(self) -> str:
        return f"{self.base_url}/ai/v2"

    @property
    def volumes_dir(self) -> Path:
        return self.data_dir / "volumes"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def homes_dir(self) -> Path:
        """Each worker's and pod's own HOME and default directory, removed when it exits."""
        return self.data_dir / "homes"

    @property
    def workers(self) -> Supervisor:
        assert self.supervisor is not None, "the supervisor starts with the server"
        return self.supervisor

    @property
    def engine(self) -> Engine:
        assert self.engine_ is not None, "the engine starts with the server"
        return self.engine_
