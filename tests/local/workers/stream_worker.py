"""A generator (streaming) RunPod worker: yields `count` chunks, `delay` seconds apart.
With `return_aggregate_stream` the job's output is the list of chunks."""

import time

import runpod


def handler(job):
    count = int(job["input"].get("count", 3))
    for i in range(count):
        time.sleep(float(job["input"].get("delay", 0.2)))
        yield {"chunk": i}


runpod.serverless.start({"handler": handler, "return_aggregate_stream": True})
