"""A generator RunPod worker: yields `count` chunks `{"n": i}`, `delay` seconds apart, so
`gpu serverless invoke --stream` has something to stream."""

import time

import runpod


def handler(job):
    for n in range(int(job["input"].get("count", 3))):
        time.sleep(float(job["input"].get("delay", 0.1)))
        yield {"n": n}


if __name__ == "__main__":
    runpod.serverless.start({"handler": handler, "return_aggregate_stream": True})
