"""A worker whose handler starts processes that try to outlive it, as a container's would not:
`sleep` in its own session, `sleep` in the worker's own process group, `sleep` in its own
session with a cleared environment (`env -i`: no GPUCTL_LOCAL_SERVER marker), and a `sleep`
left behind by a shell that exits at once (an orphan). Returns their pids."""

import os
import subprocess

import runpod

SECONDS = "3600"  # far longer than any test: the test's teardown kills whatever is left by pid


def handler(job):
    own_session = subprocess.Popen(["sleep", SECONDS], start_new_session=True)
    same_group = subprocess.Popen(["sleep", SECONDS])
    no_marker = subprocess.Popen(["env", "-i", "/bin/sleep", SECONDS], start_new_session=True)  # env execs sleep: same pid
    orphan = subprocess.run(["sh", "-c", f"/bin/sleep {SECONDS} </dev/null >/dev/null 2>&1 & echo $!"],
                            capture_output=True, text=True, check=True).stdout.strip()
    return {"pids": [own_session.pid, same_group.pid, no_marker.pid, int(orphan)], "worker_pid": os.getpid()}


runpod.serverless.start({"handler": handler})
