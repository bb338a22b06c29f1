"""A RunPod worker that says what it does: it prints a line per job (for `gpu serverless
logs`), then echoes its input. `sleep` (seconds) keeps the job running, and so does `release`
(a file path) until that file exists; `fail` raises."""

import asyncio
from pathlib import Path

import runpod


async def handler(job):
    """Async, so a cancel interrupts a sleeping job at once."""
    job_input = job["input"]
    print(f"talker got {job_input.get('prompt', '')!r}", flush=True)
    if job_input.get("sleep"):
        await asyncio.sleep(float(job_input["sleep"]))
    while job_input.get("release") and not Path(job_input["release"]).exists():
        await asyncio.sleep(0.05)
    if job_input.get("fail"):
        raise ValueError(job_input["fail"])
    return {"echo": job_input}


if __name__ == "__main__":
    runpod.serverless.start({"handler": handler})
