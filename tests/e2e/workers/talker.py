"""A RunPod worker that says what it does: it prints a line per job (for `gpu serverless
logs`), then echoes its input. `sleep` (seconds) keeps the job running; `fail` raises."""

import asyncio

import runpod


async def handler(job):
    """Async, so a cancel interrupts a sleeping job at once."""
    job_input = job["input"]
    print(f"talker got {job_input.get('prompt', '')!r}", flush=True)
    if job_input.get("sleep"):
        await asyncio.sleep(float(job_input["sleep"]))
    if job_input.get("fail"):
        raise ValueError(job_input["fail"])
    return {"echo": job_input}


if __name__ == "__main__":
    runpod.serverless.start({"handler": handler})
