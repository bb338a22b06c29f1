"""The server process (`python -m gpuctl.local`): lock the data dir, bind 127.0.0.1, recover
state left by a previous run, then serve until SIGTERM.

Files in the data dir: `server.lock` (held for the server's lifetime: the liveness test no
pid can fake), `server.json` (pid, port, URLs, start time), `token`, `state.db` (SQLite,
WAL), `volumes/<id>/`, `logs/<endpoint>/<worker>.jsonl`, `homes/<worker>/`, `server.log`.
All of it is private to the user (dir 0700, files 0600, see `private`).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import secrets
import shutil
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import uvicorn

from gpuctl.local import ids, private, reaper
from gpuctl.local.app import build_app
from gpuctl.local.engine import MAX_ATTEMPTS, Engine
from gpuctl.local.runtime import Local, Settings
from gpuctl.local.store import DamagedState, Store
from gpuctl.local.supervisor import Supervisor

EXIT_ALREADY_RUNNING = 3
EXIT_PORT_IN_USE = 4
EXIT_DATA_DIR = 5
EXIT_DAMAGED_STATE = 6
DAMAGED_HINT = "run `gpu local reset`: it moves the damaged file aside (nothing is deleted) and starts with an empty account"


def read_token(data_dir: Path) -> str:
    """The access token, created once with mode 0600 and kept across restarts and resets."""
    path = data_dir / "token"
    with contextlib.suppress(FileNotFoundError):
        token = path.read_text().strip()
        if token:
            return token
    token = "gpuctl-local-" + secrets.token_urlsafe(24)
    private.write_new(path, token + "\n")
    return token


def write_json(path: Path, doc: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    private.write_new(tmp, json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, path)


def server_info(local: Local, port: int) -> dict[str, Any]:
    return {"pid": os.getpid(), "port": port, "url": local.base_url, "api_base_url": local.base_url,
            "endpoint_base_url": local.endpoint_base_url, "started_at": ids.timestamp(local.started_at)}


def recover(local: Local) -> None:
    """After a crash: no leftover worker survives, and no accepted job is silently lost.
    Jobs that were running go back to the queue (FAILED with the reason after MAX_ATTEMPTS)."""
    reaper.reap(local.data_dir)
    shutil.rmtree(local.homes_dir, ignore_errors=True)  # scratch homes of workers that died with it
    engine = local.engine
    for job in engine.jobs.running():
        if engine.jobs.attempts(job.id) < MAX_ATTEMPTS:
            engine.jobs.requeue(job)
        else:
            engine.jobs.fail(job, f"the local provider stopped while this job was running, {MAX_ATTEMPTS} times")
    for pod in local.store.list("pod", hidden=True):
        if pod["status"] == "RUNNING":
            local.store.put("pod", {**pod, "status": "EXITED"})


class LocalServer(uvicorn.Server):
    """uvicorn waits for open requests before shutting the app down; long polls would hold
    it for their whole timeout, so release them and stop the workers first."""

    def __init__(self, config: uvicorn.Config, local: Local):
        super().__init__(config)
        self.local = local

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.local.signals.shutdown.set()
        for worker in list(self.local.workers.workers.values()):
            self.local.workers.stop(worker, "local provider stopping")
        await super().shutdown(sockets)


def make_lifespan(local: Local, port: int) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        local.supervisor = Supervisor(local)
        local.engine_ = Engine(local)
        recover(local)
        loop_task = asyncio.ensure_future(local.engine.run())
        write_json(local.data_dir / "server.json", server_info(local, port))
        try:
            yield
        finally:
            local.signals.shutdown.set()
            await local.workers.stop_all("local provider stopping")
            loop_task.cancel()
            await local.engine.close()
            with contextlib.suppress(FileNotFoundError):
                info = json.loads((local.data_dir / "server.json").read_text())
                if info.get("pid") == os.getpid():
                    (local.data_dir / "server.json").unlink()
            local.store.close()

    return lifespan


def settings_from_env() -> Settings:
    """Test and benchmark runs shorten timings with GPUCTL_LOCAL_SETTINGS='{"tick_s": 0.1}'."""
    raw = os.environ.get("GPUCTL_LOCAL_SETTINGS", "")
    return Settings(**json.loads(raw)) if raw.strip() else Settings()


def serve(data_dir: Path, port: int) -> int:
    try:
        private.secure_data_dir(data_dir)
    except OSError as exc:
        print(f"cannot make the data dir {data_dir} private (mode 0700, files 0600): {exc.strerror or exc}; "
              "it must be a directory you own", file=sys.stderr)
        return EXIT_DATA_DIR
    lock = open(data_dir / "server.lock", "a+")  # noqa: SIM115 - held for the process lifetime
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"a local provider is already running for {data_dir}", file=sys.stderr)
        return EXIT_ALREADY_RUNNING
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        print(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}", file=sys.stderr)
        return EXIT_PORT_IN_USE
    sock.listen(2048)
    port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    try:
        store = Store(data_dir / "state.db")
    except DamagedState as exc:
        print(f"{exc}; {DAMAGED_HINT}", file=sys.stderr)
        return EXIT_DAMAGED_STATE
    local = Local(data_dir=data_dir.resolve(), store=store,
                  token=read_token(data_dir), worker_secret=secrets.token_bytes(32), base_url=base,
                  settings=settings_from_env())
    app = build_app(local, make_lifespan(local, port))
    # No websockets and no logging dictConfig: neither is used, and importing them costs start-up time.
    config = uvicorn.Config(app, log_config=None, log_level="warning", access_log=False, lifespan="on", ws="none",
                            timeout_graceful_shutdown=3, server_header=False, date_header=False)
    LocalServer(config, local).run(sockets=[sock])
    return 0
