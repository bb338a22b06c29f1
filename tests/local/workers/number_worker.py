"""A RunPod worker whose output holds the float its input names (`number`: "nan", "inf",
"-inf", "1.5"), as a handler returning numpy metrics does; the runpod SDK json.dumps it, so
a non-finite one reaches job-done as the bare token NaN or Infinity. NUMBER_STREAM=1 makes it
a generator handler that yields it as a chunk instead."""

import os

import runpod


def handler(job):
    return {"loss": float(job["input"].get("number", "nan")), "step": 1}


def streaming(job):
    yield {"loss": float(job["input"].get("number", "nan"))}


runpod.serverless.start({"handler": streaming if os.environ.get("NUMBER_STREAM") else handler})
