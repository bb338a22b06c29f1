"""End-to-end fixtures: a local provider in a temporary data dir and the real `gpu` CLI run as
a subprocess against it over loopback, with no RunPod key and no real $HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.local.conftest import LocalServer, start_server, stop_server

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


@dataclass
class Account:
    """The local provider as the account under test, plus a way to run `gpu` against it."""

    server: LocalServer
    home: Path

    @property
    def env(self) -> dict[str, str]:
        """No RunPod key and no CI variable from the machine running the tests; the provider is
        chosen explicitly (GPU_PROVIDER=local), as a CI job without a key must."""
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("RUNPOD_", "GPUCTL_", "GPU_")) and k != "CI"}
        return keep | {"HOME": str(self.home), "GPUCTL_LOCAL_DIR": str(self.server.data_dir), "GPU_PROVIDER": "local", "NO_COLOR": "1", "COLUMNS": "120"}

    def gpu(self, *args: str, cwd: Path, env: dict | None = None, timeout: float = 120, input: str | None = None, stdin: int | None = None) -> Run:
        """`gpu *args`; stdin is `input` when given, else the descriptor `stdin` (a file or FIFO
        the test opened, as `gpu ... < FILE` gives one), else empty."""
        feed = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL if stdin is None else stdin}
        done = subprocess.run([sys.executable, "-m", "gpuctl", *args], cwd=cwd, env=self.env | (env or {}), capture_output=True,
                              text=True, timeout=timeout, **feed)
        return Run(done.returncode, done.stdout, done.stderr)

    def popen(self, *args: str, cwd: Path, env: dict | None = None) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "gpuctl", *args], cwd=cwd, env=self.env | (env or {}),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)

    def writes(self) -> int:
        return self.server.admin("GET", "requests")["writes"]

    def requests(self) -> list[dict]:
        return self.server.admin("GET", "requests")["requests"]

    def faults(self, *rules: dict, seed: int = 7) -> None:
        self.server.admin("POST", "faults", {"seed": seed, "rules": list(rules)})

    def clear_faults(self) -> None:
        self.server.admin("DELETE", "faults")

    @contextmanager
    def driving(self, process: subprocess.Popen) -> Iterator[None]:
        """While a test drives `process` (from `popen`) under fault rules: a failing test kills
        it, the rules are cleared whatever happens (a held request is let go), and its stdout is
        closed once the test's steps are through."""
        try:
            yield
        except BaseException:
            process.kill()
            raise
        finally:
            self.clear_faults()
        process.stdout.close()

    def endpoints(self) -> list[dict]:
        return self.server.http.get("/v2/serverless").json()["endpoints"]

    def volumes(self) -> list[dict]:
        return self.server.http.get("/v2/network-volumes").json()["networkVolumes"]


@pytest.fixture
def account(tmp_path: Path) -> Iterator[Account]:
    server = start_server(tmp_path / "provider")
    home = tmp_path / "home"
    home.mkdir()
    yield Account(server, home)
    stop_server(server)


def project(directory: Path, config: dict, files: dict[str, str] | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "gpu.jsonc").write_text(json.dumps(config, indent=2))
    for name, text in (files or {}).items():
        (directory / name).write_text(text)
    return directory


@contextmanager
def deployed_project(base: Path, config: dict, files: dict[str, str] | None = None) -> Iterator[tuple[Account, Path]]:
    """A local provider under `base`, an account on it and a project of `config` (and `files`)
    deployed there; the provider stopped at the end. For a module fixture whose tests share
    one deployed endpoint and write nothing."""
    server = start_server(base / "provider")
    (base / "home").mkdir()
    account = Account(server, base / "home")
    proj = project(base / "project", config, files)
    try:
        done = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj)
        assert done.code == 0, done.err
        yield account, proj
    finally:
        stop_server(server)


ECHO_HANDLER = (ROOT / "examples" / "echo" / "handler.py").read_text()
# An idle timeout no test outlives (the most RunPod allows), for a test that reads a worker it
# started: `logs` without --worker lists live workers only, and a short timeout let the worker
# scale away first on a loaded machine. A test about scaling down sets its own short one.
STAYS = 3600


def echo_config(name: str = "echo", project_id: str = "e2e", volume: str | None = None, env: dict[str, str] | None = None, **scaling) -> dict:
    """The example echo worker as one serverless block; `env` adds to its runpod env (a
    `${VAR}` reference included)."""
    block = {
        "name": name, "template": "custom-image", "gpu_type": "NVIDIA GeForce RTX 4090",
        "scaling": {"min_workers": 0, "max_workers": 2, "idle_timeout": 5} | scaling,
        "runpod": {"image_name": "ghcr.io/example/echo-worker:0.1.0", "env": {"GREETING": "hello"} | (env or {})},
        "local": {"command": ["python", "handler.py"]},
    }
    if volume:
        block["volume"] = {"name": volume, "size_gb": 20}
        block["runpod"]["data_center_ids"] = ["EU-RO-1"]
    return {"project_id": project_id, "serverless": block}


def terminated_while_creating(account, *args: str, creating: str, cwd: Path, env: dict | None = None) -> tuple[int, str]:
    """`gpu *args`, its endpoint creates held by the account; SIGTERM once `creating` is on
    stderr, then the creates are let go. Returns the exit code and stderr from the signal on."""
    import signal

    from tests.support.terminal import Output

    account.faults({"op": "create", "kind": "endpoint", "action": "hang", "seconds": 3600})  # until the signal was taken (a short hang could end first)
    process = account.popen(*args, cwd=cwd, env=env)
    err = Output.of_pipe(process.stderr)
    try:
        err.wait_for(creating)
        process.send_signal(signal.SIGTERM)
        err.wait_for("in flight to finish")
    finally:
        account.clear_faults()
    said = err.rest()
    return process.wait(timeout=120), said
