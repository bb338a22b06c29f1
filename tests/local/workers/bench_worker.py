"""The benchmark's worker: returns its input. BENCH_CONCURRENCY > 1 lets one worker hold
that many jobs at once (the SDK's concurrency_modifier, as vLLM's worker uses it)."""

import os

import runpod

CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "1"))


async def handler(job):
    return job["input"]


runpod.serverless.start({"handler": handler, "concurrency_modifier": lambda _: CONCURRENCY})
