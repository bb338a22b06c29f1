"""How many workers an endpoint should have, as RunPod's autoscaler decides (api-notes §8.5).

- REQUEST_COUNT: ceil((queued + running) / requestCount).
- QUEUE_DELAY: a first worker as soon as a job waits with none running (a cold start), then
  one more whenever the oldest queued job has waited longer than `queueDelay` seconds and
  no worker is still starting.

Low-priority jobs never cause a scale-up. The answer stays within workers.min..max; scaling
down is not decided here but by each worker's idle timeout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Load:
    queued: int  # jobs waiting that may scale up (not lowPriority)
    running: int  # jobs being executed
    oldest_wait_s: float | None  # how long the oldest such queued job has waited
    live: int  # workers started and not being stopped
    initializing: int  # of which not yet polling for jobs


def desired_workers(workers: dict, scaling: dict, load: Load) -> int:
    low, high = int(workers["min"]), int(workers["max"])
    if scaling["type"] == "REQUEST_COUNT":
        target = math.ceil((load.queued + load.running) / max(int(scaling["requestCount"]), 1))
    elif load.queued and load.live == 0:
        target = 1
    elif load.queued and load.oldest_wait_s is not None and load.oldest_wait_s > float(scaling["queueDelay"]) and load.initializing == 0:
        target = load.live + 1
    else:
        target = load.live
    return max(low, min(high, target))


def idle_timeout(doc: dict) -> int:
    """Seconds an idle worker lives. Queue endpoints that scale on requestCount have no
    idleTimeout setting (the v2 API rejects one), so they get RunPod's documented default, 5."""
    if doc.get("type", "QUEUE") == "QUEUE" and doc["scaling"]["type"] == "REQUEST_COUNT":
        return 5
    return int(doc["workers"].get("idleTimeout", 5))
