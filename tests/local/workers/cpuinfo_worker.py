"""A RunPod worker that answers which `cpuinfo` module the runpod package asked for the CPU's
brand at import, and what it said (tests/local/test_real_cpuinfo.py)."""

import cpuinfo
import runpod
from runpod.serverless.utils import rp_debugger


def handler(job):
    return {"module": cpuinfo.__file__, "processor": rp_debugger.PROCESSOR}


runpod.serverless.start({"handler": handler})
