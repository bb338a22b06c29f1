"""The local provider keeps secrets private (issue 9, item 6): the data dir is 0700 and every
file in it 0600 whatever the umask (and a looser one is repaired); workers and pods get what
RunPod gives a worker, never the environment of the shell that started the server, and run in
a private home rather than the data dir; one endpoint's worker key opens only that endpoint's
worker protocol."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gpuctl.local.client import lifecycle
from gpuctl.local.runtime.workerenv import MACHINE_VARS
from tests.local.conftest import FAST, WORKERS, LocalServer, own_environ, stop_server, wait_for

CANARY = "canary-7d41c2"
SHELL_SECRETS = {"AWS_SECRET_ACCESS_KEY": f"{CANARY}-aws", "MY_HF_TOKEN": f"{CANARY}-hf", "RUNPOD_API_KEY": f"{CANARY}-runpod"}
# What a worker may see besides its endpoint's env (docs/local-provider.md, "Workers").
RUNPOD_WORKER_VARS = {
    "RUNPOD_WEBHOOK_GET_JOB", "RUNPOD_WEBHOOK_POST_OUTPUT", "RUNPOD_WEBHOOK_POST_STREAM", "RUNPOD_WEBHOOK_PING",
    "RUNPOD_PING_INTERVAL", "RUNPOD_AI_API_KEY", "RUNPOD_POD_ID", "RUNPOD_POD_HOSTNAME", "RUNPOD_ENDPOINT_ID", "RUNPOD_DC_ID",
    "RUNPOD_GPU_COUNT", "RUNPOD_CPU_COUNT", "RUNPOD_SKIP_AUTO_SYSTEM_CHECKS", "RUNPOD_SKIP_GPU_CHECK", "RUNPOD_VOLUME_ID",
    "RUNPOD_VOLUME_PATH", "PYTHONUNBUFFERED", "GPUCTL_LOCAL_SERVER", "GPUCTL_LOCAL_WORKER_ID", "HOME", "PYTHONUSERBASE",
}
ENV_WORKER = {"GPUCTL_LOCAL_COMMAND": json.dumps([sys.executable, "env_worker.py"]), "GPUCTL_LOCAL_CWD": str(WORKERS)}


def attach(data_dir: Path) -> LocalServer:
    info = lifecycle.read_server_info(data_dir)
    assert info is not None, (data_dir / "server.log").read_text()
    return LocalServer(data_dir, info, lifecycle.read_token(data_dir))


def loose_modes(data_dir: Path) -> list[str]:
    """Every entry under the data dir (the dir included) with a group or other permission bit."""
    entries = [data_dir, *data_dir.rglob("*")]
    return [f"{p.relative_to(data_dir.parent)} {stat.filemode(p.lstat().st_mode)}" for p in entries
            if not p.is_symlink() and p.exists() and p.lstat().st_mode & 0o077]


def touch_everything(server: LocalServer) -> None:
    """Make the server create every kind of file it keeps: state with a secret value, a
    volume a worker writes into, a worker's captured log, a pod's log."""
    volume = server.http.post("/v2/network-volumes", json={"name": "private", "size": 10, "dataCenter": "EU-RO-1"}).json()
    endpoint = server.create_endpoint("private-echo", env={"HF_TOKEN": f"{CANARY}-deployed"}, networkVolumes=[volume["id"]])
    done = server.job(endpoint["id"], "runsync", {"input": {"volume": "weights"}}).json()
    assert done["status"] == "COMPLETED", done
    pod_env = {"GPUCTL_LOCAL_COMMAND": json.dumps([sys.executable, "pod_task.py"]), "GPUCTL_LOCAL_CWD": str(WORKERS)}
    pod = server.http.post("/v2/pods", json={"name": "private-pod", "image": "python:3.11-slim", "cpu": {"id": "cpu3c", "vcpuCount": 2},
                                             "env": pod_env, "mounts": {"network": [{"volumeId": volume["id"], "path": "/workspace"}]}}).json()
    wait_for(lambda: server.http.get(f"/v2/pods/{pod['id']}").json()["status"] == "EXITED")


def test_data_dir_is_private_under_umask_000(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = own_environ() | {"GPUCTL_LOCAL_SETTINGS": json.dumps(FAST)}
    up = subprocess.run([sys.executable, "-m", "gpuctl", "local", "up", "--port", "0", "--data-dir", str(data_dir)],
                        env=env, capture_output=True, text=True, timeout=60, preexec_fn=lambda: os.umask(0))
    assert up.returncode == 0, up.stderr
    server = attach(data_dir)
    try:
        touch_everything(server)
        made = {p.name for p in data_dir.iterdir()}
        assert {"state.db", "state.db-wal", "server.json", "server.log", "token", "server.lock", "logs", "volumes"} <= made
        assert any(data_dir.glob("volumes/*/warm.txt")) and any(data_dir.glob("volumes/*/probe.txt"))
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
        assert loose_modes(data_dir) == []
    finally:
        stop_server(server)


def test_a_loose_data_dir_is_repaired_at_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start(data_dir, dict(os.environ))
    touch_everything(server)
    stop_server(server)
    for path in [data_dir, *data_dir.rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o666)
    server = start(data_dir, dict(os.environ))
    try:
        assert loose_modes(data_dir) == []
        assert stat.S_IMODE((data_dir / "state.db").stat().st_mode) == 0o600
    finally:
        stop_server(server)


def start(data_dir: Path, environ: dict[str, str]) -> LocalServer:
    env = environ | {"GPUCTL_LOCAL_SETTINGS": json.dumps(FAST)}
    info = lifecycle.start(data_dir, 0, env)
    return LocalServer(data_dir, info, lifecycle.read_token(data_dir))


@pytest.fixture
def leaky_shell(tmp_path: Path) -> Iterator[LocalServer]:
    """A server started from a shell full of secrets, whose HOME holds a RunPod key file."""
    home = tmp_path / "home"
    (home / ".runpod").mkdir(parents=True)
    (home / ".runpod" / "config.toml").write_text(f'[default]\napi_key = "{CANARY}-config"\n')
    server = start(tmp_path / "data", dict(os.environ) | SHELL_SECRETS | {"HOME": str(home)})
    yield server
    stop_server(server)


def report(server: LocalServer, endpoint: dict[str, Any]) -> dict[str, Any]:
    done = server.job(endpoint["id"], "runsync", {"input": {}}).json()
    assert done["status"] == "COMPLETED", done
    return done["output"]


def assert_clean(seen: dict[str, Any], server: LocalServer, own_env: dict[str, str]) -> None:
    env = seen["env"]
    assert CANARY not in json.dumps(seen), {k: v for k, v in env.items() if CANARY in v}
    unexpected = set(env) - RUNPOD_WORKER_VARS - set(MACHINE_VARS) - set(own_env) - {"GPUCTL_LOCAL_MOUNT_PATH"}
    assert not {k for k in unexpected if not k.startswith("LC_")}, f"not RunPod's and not the machine's: {sorted(unexpected)}"
    home = Path(env["HOME"])
    assert home.parent == server.data_dir.resolve() / "homes" and seen["home"] == str(home)
    assert seen["sdk_api_key"] is None  # ~/.runpod/config.toml of the real HOME is out of reach
    assert all(env.get(k) == v for k, v in own_env.items())


def test_a_worker_gets_what_runpod_gives_a_worker_and_nothing_of_the_shell(leaky_shell: LocalServer) -> None:
    server = leaky_shell
    own = {"GREETING": "hello"}
    endpoint = server.create_endpoint("env-probe", worker=None, env=ENV_WORKER | own, workers={"min": 0, "max": 1, "idleTimeout": 1})
    seen = report(server, endpoint)
    assert_clean(seen, server, ENV_WORKER | own)
    assert seen["cwd"] == str(WORKERS)  # GPUCTL_LOCAL_CWD still decides where it runs
    home = Path(seen["env"]["HOME"])
    wait_for(lambda: not server.worker_pids(endpoint["id"]))
    # The process is gone before the server has settled it (its output pumps drain first), so
    # the event to wait on is the home's removal; never seeing it is the failure.
    wait_for(lambda: not home.exists())  # never seen: a worker's scratch home outlives it


def test_a_worker_without_a_directory_runs_in_its_home_not_the_data_dir(leaky_shell: LocalServer) -> None:
    server = leaky_shell
    script = (WORKERS / "env_worker.py").read_text()
    endpoint = server.create_endpoint("env-home", worker=None, env={"GPUCTL_LOCAL_COMMAND": json.dumps([sys.executable, "-c", script])})
    seen = report(server, endpoint)
    assert seen["cwd"] == seen["env"]["HOME"] != str(server.data_dir.resolve())
    assert not (Path(seen["cwd"]) / "token").exists()


def test_a_pod_gets_its_own_env_and_nothing_of_the_shell(leaky_shell: LocalServer) -> None:
    server = leaky_shell
    volume = server.http.post("/v2/network-volumes", json={"name": "pod-env", "size": 10, "dataCenter": "EU-RO-1"}).json()
    own = ENV_WORKER | {"HF_ENDPOINT": "http://127.0.0.1:9/hub"}  # what `gpu serverless warm --cpu` passes explicitly
    pod = server.http.post("/v2/pods", json={"name": "env-pod", "image": "python:3.11-slim", "cpu": {"id": "cpu3c", "vcpuCount": 2},
                                             "env": own, "mounts": {"network": [{"volumeId": volume["id"], "path": "/workspace"}]}}).json()
    wait_for(lambda: server.http.get(f"/v2/pods/{pod['id']}").json()["status"] == "EXITED")
    seen = json.loads((server.data_dir / "volumes" / volume["id"] / "report.json").read_text())
    assert_clean(seen, server, own)
    assert seen["env"]["RUNPOD_POD_ID"] == pod["id"] and seen["env"]["GPUCTL_LOCAL_MOUNT_PATH"] == "/workspace"


def test_one_endpoints_worker_key_cannot_take_another_endpoints_jobs(leaky_shell: LocalServer) -> None:
    server = leaky_shell
    mine = server.create_endpoint("key-mine", worker=None, env=ENV_WORKER)
    my_key = report(server, mine)["env"]["RUNPOD_AI_API_KEY"]
    theirs = server.create_endpoint("key-theirs", workers={"min": 0, "max": 0, "idleTimeout": 5})  # no worker of its own
    job = server.job(theirs["id"], "run", {"input": {"secret": "theirs"}}).json()
    root = f"/ai/v2/{theirs['id']}"

    def take(key: str) -> Any:
        return server.http.get(f"{root}/job-take/outsider00001?gpu=CPU&job_in_progress=0", headers={"Authorization": key})

    assert take(my_key).status_code == 401
    assert take(server.token).status_code == 401  # the account token is not a worker key either
    done = server.http.post(f"{root}/job-done/outsider00001/{job['id']}?isStream=false", headers={"Authorization": my_key},
                            content=json.dumps({"output": "forged"}))
    assert done.status_code == 401
    assert server.job(theirs["id"], f"status/{job['id']}", method="GET").json()["status"] == "IN_QUEUE"
    their_key = server.admin("GET", f"worker-key/{theirs['id']}")["key"]
    assert their_key != my_key
    taken = take(their_key)
    assert taken.status_code == 200 and taken.json()["id"] == job["id"]
