"""A RunPod worker that puts its TOKEN in what it answers, as careless handlers do: in the
error of a job, and in an OpenAI answer (with no `choices`) after `PAD` characters of text."""

import os

import runpod


def handler(job):
    token = os.environ["TOKEN"]
    if "openai_route" in job["input"]:
        return {"answer": "x" * int(os.environ.get("PAD", "0")) + token}
    raise ValueError(f"the token {token} was refused")


if __name__ == "__main__":
    runpod.serverless.start({"handler": handler})
