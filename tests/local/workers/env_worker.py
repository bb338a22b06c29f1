"""Reports what the process was started with: its environment (read before anything is
imported), its directory, its HOME, and the key the runpod SDK found on its own (the SDK
reads ~/.runpod/config.toml at import). As a pod (no worker protocol in the environment) it
writes the report to RUNPOD_VOLUME_PATH/report.json and exits; as a worker it returns it."""

import json
import os

REPORT = {"env": dict(os.environ), "cwd": os.getcwd(), "home": os.path.expanduser("~")}

import runpod  # noqa: E402 - after the environment is captured

REPORT["sdk_api_key"] = runpod.api_key


def handler(job):
    return REPORT


if "RUNPOD_WEBHOOK_GET_JOB" in os.environ:
    runpod.serverless.start({"handler": handler})
else:
    with open(os.path.join(os.environ["RUNPOD_VOLUME_PATH"], "report.json"), "w") as out:
        json.dump(REPORT, out)
