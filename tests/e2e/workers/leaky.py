"""A RunPod worker that leaks its environment, as careless handlers and chatty libraries do:
it prints the env values its input names (for `gpu serverless logs`) and returns them."""

import os

import runpod


def handler(job):
    names = job["input"].get("show", [])
    for name in names:
        print(f"{name}={os.environ.get(name)}", flush=True)
    return {name: os.environ.get(name) for name in names}


if __name__ == "__main__":
    runpod.serverless.start({"handler": handler})
