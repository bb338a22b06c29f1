"""A RunPod worker that moves only when the test says so: it starts serving once the file
`start` exists in its directory, and each job ends once the file its input names as
`release` exists. So a test sees a job queued, then running, before it lets it finish."""

import asyncio
import time
from pathlib import Path

import runpod


async def handler(job):
    """Async, so waiting for the release file does not block the worker's heartbeat."""
    release = Path(job["input"]["release"])
    while not release.exists():
        await asyncio.sleep(0.05)
    return {"released": job["input"]["release"]}


if __name__ == "__main__":
    while not Path("start").exists():
        time.sleep(0.05)
    runpod.serverless.start({"handler": handler})
