"""Follow a pod's output (REST v2 `GET /v2/pods/{id}/logs`, Server-Sent Events) from a thread,
so the waiting loop stays free to check the pod, the clock and Ctrl-C.

The stream may not exist yet while the pod is being placed, may drop, and ends after a quiet
second; the reader reconnects until told to stop. A reconnect backfills recent lines, so lines
are recognised by their event id and each is handed over once.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

from gpuctl.provider.errors import ProviderError
from gpuctl.provider.protocol import Provider

RECONNECT_S = 0.5


class PodLog:
    def __init__(self, provider: Provider, pod_id: str):
        self.provider, self.pod_id = provider, pod_id
        self.lines: queue.Queue[str] = queue.Queue()
        self.stopped = threading.Event()
        self.seen: set = set()
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
        while not self.stopped.is_set():
            try:
                for record in self.provider.pod_logs(self.pod_id):
                    self._keep(record)
                    if self.stopped.is_set():
                        return
            except ProviderError:  # not there yet, gone, or dropped: the waiting loop decides, we retry
                pass
            self.stopped.wait(RECONNECT_S)

    def _keep(self, record: dict) -> None:
        """Container output only: the platform's own lines are not the downloader's."""
        key = record.get("_id") or (record.get("ts"), record.get("line"))
        if key in self.seen or record.get("source") == "system":
            return
        self.seen.add(key)
        self.lines.put(str(record.get("line", "")))
