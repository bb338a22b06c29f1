"""Fixtures for the local provider: servers on 127.0.0.1:0 in temporary data dirs, always
stopped at teardown with a check (by the OS, not the server's word) that no process they
started is left. Every REST v2 response a test receives through `LocalServer.http` is
validated against RunPod's OpenAPI document and must carry the RateLimit headers."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from gpuctl.local.client import lifecycle
from gpuctl.local.datadir import reaper
from tests.local.openapi import validate_response
from tests.support.wait import DEADLINE_S

WORKERS = Path(__file__).parent / "workers"
FAST = {"tick_s": 0.05, "take_poll_s": 5.0, "stream_wait_s": 1.0, "ping_interval_ms": 2000, "stop_grace_s": 3.0, "stop_deadline_s": 8.0,
        "webhook_retry_s": 0.2}


def own_environ() -> dict[str, str]:
    """This process's environment without a RunPod key or a gpuctl setting of the machine
    running the tests: for a `gpu` or server started by a test with settings of its own."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("RUNPOD_", "GPUCTL_"))}


def check_v2(response: httpx.Response) -> None:
    path = response.request.url.path
    if not path.startswith("/v2/"):
        return
    assert "RateLimit" in response.headers and "RateLimit-Policy" in response.headers, f"{path}: no RateLimit headers"
    if response.status_code == 429:
        assert "Retry-After" in response.headers
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        validate_response(response.request.method, path, response.status_code, response.headers["content-type"], b"")
        return
    response.read()
    validate_response(response.request.method, path, response.status_code, response.headers.get("content-type", ""), response.content)


@dataclass
class LocalServer:
    data_dir: Path
    info: dict[str, Any]
    token: str
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.info["url"], headers={"Authorization": f"Bearer {self.token}"},
                                 timeout=60, event_hooks={"response": [check_v2]})

    @property
    def url(self) -> str:
        return self.info["url"]

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"/_admin/{path}", json=body)
        assert response.status_code < 300, response.text
        return response.json()

    def create_endpoint(self, name: str, worker: str | None = "echo_worker.py", **fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name, "type": "QUEUE", "image": "local/worker:dev", "gpu": {"pools": ["ADA_24"]},
                                "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}, "workers": {"min": 0, "max": 1, "idleTimeout": 30}}
        env = dict(fields.pop("env", {}))
        if worker:
            env |= {"GPUCTL_LOCAL_COMMAND": json.dumps([sys.executable, worker]), "GPUCTL_LOCAL_CWD": str(WORKERS)}
        body |= {"env": env} | fields
        response = self.http.post("/v2/serverless", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def unchecked(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A request whose answer is not held to RunPod's document: a fault rule may make it
        break the document on purpose."""
        return httpx.request(method, self.url + path, headers={"Authorization": f"Bearer {self.token}"}, timeout=60, **kwargs)

    def job(self, endpoint_id: str, verb: str, body: Any = None, method: str = "POST") -> httpx.Response:
        return self.http.request(method, f"/ai/v2/{endpoint_id}/{verb}", json=body)

    def processes(self, endpoint_id: str) -> list[int]:
        """Every live process of an endpoint's workers (the SDK's heartbeat child included),
        found through /proc, not the server's bookkeeping."""
        found = []
        for pid in reaper.marked_processes(self.data_dir.resolve()):
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if f"RUNPOD_ENDPOINT_ID={endpoint_id}".encode() in environ and reaper.alive(pid):
                found.append(pid)
        return found

    def worker_pids(self, endpoint_id: str) -> list[int]:
        """The worker processes proper: each leads its own session."""
        return [pid for pid in self.processes(endpoint_id) if _session_leader(pid)]

    def close(self) -> None:
        self.http.close()


def _session_leader(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return int(fields[3]) == pid  # the session id


def start_server(data_dir: Path, settings: dict[str, Any] | None = None) -> LocalServer:
    env = dict(os.environ) | {"GPUCTL_LOCAL_SETTINGS": json.dumps(FAST | (settings or {}))}
    env.pop("RUNPOD_API_KEY", None)
    info = lifecycle.start(data_dir, 0, env)
    return LocalServer(data_dir, info, lifecycle.read_token(data_dir))


def stop_server(server: LocalServer) -> None:
    server.close()
    lifecycle.stop(server.data_dir)
    leftovers = [p for p in reaper.marked_processes(server.data_dir.resolve()) if reaper.alive(p)]
    assert not leftovers, f"processes left behind: {leftovers}"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """One server shared by the tests that do not need a fresh one."""
    started = start_server(tmp_path_factory.mktemp("local-provider"))
    yield started
    stop_server(started)


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[LocalServer]:
    started = start_server(tmp_path / "data")
    yield started
    stop_server(started)


@pytest.fixture
def faults(server: LocalServer) -> Iterator[LocalServer]:
    """The shared server with no fault rules before and after the test."""
    server.admin("DELETE", "faults")
    yield server
    server.admin("DELETE", "faults")


def wait_for(predicate: Any, timeout: float = DEADLINE_S, interval: float = 0.05) -> Any:
    """The first truthy value of `predicate`. `timeout` only ends a hung run: a shorter one made
    tests fail on a loaded machine (a test about how long something takes measures it itself)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[dict[str, str], Path]]:
    """An environment whose local provider lives in a temporary data dir and HOME, for driving
    `gpu local ...` in-process; whatever the test started is stopped, and no process is left."""
    from tests.conftest import run_cli

    data = tmp_path / "local"
    environ = {"GPUCTL_LOCAL_DIR": str(data), "HOME": str(tmp_path)}
    yield environ, data
    run_cli(["local", "down"], tmp_path, environ)
    assert not [p for p in reaper.marked_processes(data.resolve()) if reaper.alive(p)]
