"""py-cpuinfo's answer asked once per test run instead of once per RunPod worker started.

`import runpod` asks py-cpuinfo for the CPU's brand (runpod/serverless/utils/rp_debugger.py),
and py-cpuinfo answers by starting a second interpreter that probes the CPU: about 1.2 s of CPU
per worker start on the CI machine, more than the rest of the worker's start put together. The
tests start hundreds of workers and the answer is the same for all of them. So a test run puts
a module `cpuinfo` ahead of the real one on PYTHONPATH, which the local provider passes on to
the workers it starts (`workerenv.MACHINE_VARS`) and `gpu` to the provider it starts: the first
worker that asks gets the real py-cpuinfo's answer, kept for the others. The worker code and the
runpod package stay the real ones; only the probe is not repeated.
tests/local/test_real_cpuinfo.py starts a worker without it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path

MODULE = '''"""py-cpuinfo, asked once per test run (tests/support/cpuinfo_once.py): the first
process that wants the CPU's description asks the real py-cpuinfo and keeps its answer beside
this file, and every other one reads it. Anything else is the real module's."""

import functools
import importlib
import json
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_ANSWER = os.path.join(_HERE, "answer.json")


@functools.cache
def _real():
    """The real py-cpuinfo: the package `cpuinfo` imported from sys.path without this
    directory, while this module steps out of sys.modules for the time of that import."""
    me, path = sys.modules.pop("cpuinfo"), sys.path[:]
    try:
        sys.path[:] = [p for p in path if os.path.abspath(p or ".") != _HERE]
        return importlib.import_module("cpuinfo")
    finally:
        sys.path[:] = path
        sys.modules["cpuinfo"] = me


def get_cpu_info():
    try:
        with open(_ANSWER, encoding="utf-8") as answer:
            return json.load(answer)
    except FileNotFoundError:
        pass
    info = _real().get_cpu_info()
    part = f"{_ANSWER}.{os.getpid()}"
    with open(part, "w", encoding="utf-8") as answer:
        json.dump(info, answer)
    os.replace(part, _ANSWER)  # whole or not at all, whoever else is writing it
    return info


def get_cpu_info_json():
    return json.dumps(get_cpu_info())


def __getattr__(name):
    if name.startswith("__"):  # what the import machinery asks of any module
        raise AttributeError(name)
    return getattr(_real(), name)
'''

PREFIX = "gpuctl-tests-cpuinfo-"  # the start of the directory's name (tempfile.mkdtemp's prefix)


def install(directory: Path, environ: MutableMapping[str, str]) -> None:
    """Write the module into `directory` (named PREFIX...) and put `directory` first on
    `environ`'s PYTHONPATH. Nothing is asked yet: a run that starts no worker never asks."""
    (directory / "cpuinfo.py").write_text(MODULE)
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
