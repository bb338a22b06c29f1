"""An unmodified RunPod serverless worker: the same file runs on RunPod and, through
`local.command`, on the embedded local provider."""

import runpod


def handler(job):
    prompt = job["input"].get("prompt", "")
    return {"echo": prompt, "words": len(prompt.split())}


if __name__ == "__main__":
    runpod.serverless.start({"handler": handler})
