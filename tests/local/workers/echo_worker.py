"""A plain RunPod worker: echoes its input. Options in the input exercise the protocol:
`sleep` (seconds), `block` (seconds of a blocking call, as a model load makes), `hold` (run until the file at that path exists, so a test decides when
the job ends), `ignore_stop` (run for ever, swallowing the stop signal of a cancel or an execution
timeout: a handler that never lets go), `fail` (raise with that message), `progress` (send progress updates),
`volume` (write then read a file in RUNPOD_VOLUME_PATH), `exit` (kill the process), `lines` (print that many numbered lines), `runs` (a file the
handler appends `start <job id>` to when it begins and `block <job id>` to before its blocking call:
how many times it ran, and when its event loop stops)."""

import asyncio
import os
import time

import runpod


async def handler(job):
    """Async, so a stop signal (cancel, execution timeout) interrupts a sleeping job at once."""
    job_input = job["input"]
    _note(job_input, f"start {job['id']}")
    for step in range(int(job_input.get("progress", 0))):
        runpod.serverless.progress_update(job, {"step": step + 1})
        await asyncio.sleep(0.4)
    if job_input.get("sleep"):
        await asyncio.sleep(float(job_input["sleep"]))
    if job_input.get("block"):
        _note(job_input, f"block {job['id']}")
        time.sleep(float(job_input["block"]))
    while job_input.get("hold") and not os.path.exists(job_input["hold"]):
        await asyncio.sleep(0.05)
    while job_input.get("ignore_stop"):
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            print(f"ignoring the stop of {job['id']}", flush=True)
    for n in range(int(job_input.get("lines", 0))):
        print(f"line {n:06d} of {job['id']}", flush=True)
    if job_input.get("fail"):
        raise ValueError(job_input["fail"])
    if job_input.get("exit"):
        os._exit(3)
    result = {"echo": job_input, "worker": os.environ.get("RUNPOD_POD_ID"), "pid": os.getpid()}
    if job_input.get("volume"):
        path = os.path.join(os.environ["RUNPOD_VOLUME_PATH"], "probe.txt")
        with open(path, "w") as handle:
            handle.write(job_input["volume"])
        result["volume"] = open(path).read()
    print(f"handled {job['id']}", flush=True)
    return result


def _note(job_input, line):
    if job_input.get("runs"):
        with open(job_input["runs"], "a") as handle:
            handle.write(line + "\n")


# ECHO_CONCURRENCY > 1: one worker holds that many jobs and takes them with job-take-batch.
CONCURRENCY = int(os.environ.get("ECHO_CONCURRENCY", "1"))
runpod.serverless.start({"handler": handler, "concurrency_modifier": lambda _: CONCURRENCY})
