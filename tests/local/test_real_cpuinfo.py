"""The tests' one shortcut in a worker's start (tests/support/cpuinfo_once.py): py-cpuinfo's
answer is asked once per run and kept for every worker. A worker of the shared server gets that
answer, the real one; a worker of a server started without the shortcut asks the real
py-cpuinfo itself, as on RunPod, and says the same."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cpuinfo
import pytest

from gpuctl.local.client import lifecycle
from tests.local.conftest import FAST, LocalServer, own_environ, stop_server
from tests.support import cpuinfo_once


@pytest.fixture(scope="module")
def brand() -> str:
    """The CPU's brand as the real py-cpuinfo finds it, in this process."""
    return cpuinfo.get_cpu_info()["brand_raw"]


def asked(server: LocalServer) -> dict:
    endpoint = server.create_endpoint("cpuinfo", worker="cpuinfo_worker.py")
    done = server.job(endpoint["id"], "runsync?wait=60000", {"input": {}}).json()
    assert done["status"] == "COMPLETED", done
    return done["output"]


def test_a_worker_of_the_tests_gets_the_real_answer_asked_once(server: LocalServer, brand: str) -> None:
    assert cpuinfo_once.installed(os.environ)
    seen = asked(server)
    shortcut = Path(seen["module"]).parent
    assert shortcut.name.startswith(cpuinfo_once.PREFIX) and (shortcut / "answer.json").is_file()  # asked, and kept for the next worker
    assert seen["processor"] == brand


def test_a_worker_without_the_shortcut_asks_py_cpuinfo_itself(tmp_path: Path, brand: str) -> None:
    environ = cpuinfo_once.without(own_environ()) | {"GPUCTL_LOCAL_SETTINGS": json.dumps(FAST)}
    info = lifecycle.start(tmp_path / "data", 0, environ)
    server = LocalServer(tmp_path / "data", info, lifecycle.read_token(tmp_path / "data"))
    try:
        seen = asked(server)
    finally:
        stop_server(server)
    assert Path(seen["module"]).resolve() == Path(cpuinfo.__file__).resolve()
    assert seen["processor"] == brand
