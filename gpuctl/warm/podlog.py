"""Follow a pod's output (REST v2 `GET /v2/pods/{id}/logs`, Server-Sent Events) from a thread,
so the waiting loop stays free to check the pod, the clock and Ctrl-C.

The stream may not exist yet while the pod is being placed, may drop, and ends after a quiet
second; the reader (`gpuctl.logfollow`, as `gpu serverless logs -f` reads a worker) reconnects
until told to stop. A reconnect backfills recent lines; each is handed over once, and what is
remembered to tell them apart is bounded however long the pod logs.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

from gpuctl.logfollow import Cursor, follow
from gpuctl.provider.errors import ProviderError
from gpuctl.provider.protocol import Provider

RECONNECT_S = 0.5


class PodLog:
    def __init__(self, provider: Provider, pod_id: str):
        self.provider, self.pod_id = provider, pod_id
        self.lines: queue.Queue[str] = queue.Queue()
        self.stopped = threading.Event()
        self.cursor = Cursor()  # the stream cannot be resumed `since` a time: a reconnect's backfill is recognised by it
        self.thread = threading.Thread(target=self._run, name=f"pod-log-{pod_id}", daemon=True)

    def __enter__(self) -> PodLog:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stopped.set()

    def take(self, timeout: float) -> list[str]:
        """Lines that arrived: waits up to `timeout` for the first, then takes what is there."""
        try:
            got = [self.lines.get(timeout=timeout)]
        except queue.Empty:
            return []
        while not self.lines.empty():
            got.append(self.lines.get_nowait())
        return got

    def _run(self) -> None:
        follow(lambda cursor: self.provider.pod_logs(self.pod_id), self._keep, again=lambda: True, errors=(ProviderError,),
               cursor=self.cursor, pause=RECONNECT_S, wait=self.stopped.wait, stopped=self.stopped.is_set)

    def _keep(self, record: dict) -> None:
        """Container output only: the platform's own lines are not the downloader's."""
        if record.get("source") != "system":
            self.lines.put(str(record.get("line", "")))
