"""py-cpuinfo's answer asked once per test run instead of once per RunPod worker started.

`import runpod` asks py-cpuinfo for the CPU's brand (runpod/serverless/utils/rp_debugger.py),
and py-cpuinfo answers by starting a second interpreter that probes the CPU: about 1.2 s of CPU
per worker start on the CI machine, more than the rest of the worker's start put together. The
tests start hundreds of workers and the answer is the same for all of them. So a test run asks
the real py-cpuinfo once and puts a module `cpuinfo` that returns that answer ahead of it on
PYTHONPATH, which the local provider passes on to the workers it starts (`workerenv.MACHINE_VARS`)
and `gpu` to the provider it starts. The worker code and the runpod package stay the real ones;
only the probe is not repeated. tests/local/test_real_cpuinfo.py starts a worker without it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path

MODULE = '''"""py-cpuinfo's answer as the real py-cpuinfo gave it at the start of this test run
(tests/support/cpuinfo_once.py)."""

import json as _json

_INFO = _json.loads({info!r})


def get_cpu_info():
    return dict(_INFO)


def get_cpu_info_json():
    return _json.dumps(_INFO)
'''


PREFIX = "gpuctl-tests-cpuinfo-"  # the start of the directory's name (tempfile.mkdtemp's prefix)


def install(directory: Path, environ: MutableMapping[str, str]) -> None:
    """Write the module into `directory` (named PREFIX...) and put `directory` first on
    `environ`'s PYTHONPATH."""
    import cpuinfo

    (directory / "cpuinfo.py").write_text(MODULE.format(info=json.dumps(cpuinfo.get_cpu_info())))
    environ["PYTHONPATH"] = os.pathsep.join([str(directory), *_entries(environ)])


def installed(environ: Mapping[str, str]) -> bool:
    return any(_ours(entry) for entry in _entries(environ))


def without(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` with the module's directory taken off PYTHONPATH: a worker started with it
    asks the real py-cpuinfo."""
    entries = [entry for entry in _entries(environ) if not _ours(entry)]
    rest = {k: v for k, v in environ.items() if k != "PYTHONPATH"}
    return rest | ({"PYTHONPATH": os.pathsep.join(entries)} if entries else {})


def _entries(environ: Mapping[str, str]) -> list[str]:
    return [entry for entry in environ.get("PYTHONPATH", "").split(os.pathsep) if entry]


def _ours(entry: str) -> bool:
    return Path(entry).name.startswith(PREFIX) and (Path(entry) / "cpuinfo.py").is_file()
