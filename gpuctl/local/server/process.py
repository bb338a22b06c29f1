"""The server process (`python -m gpuctl.local`): lock the data dir, bind 127.0.0.1, recover
state left by a previous run, then serve until SIGTERM.

Files in the data dir: `server.lock` (held for the server's lifetime: the liveness test no
pid can fake), `server.json` (pid, port, URLs, start time), `token`, `state.db` (SQLite,
WAL), `volumes/<id>/`, `logs/<endpoint>/<worker>.jsonl`, `homes/<worker>/`, `server.log`.
All of it is private to the user (dir 0700, files 0600, see `datadir.private`); the layout and
the exit codes are `datadir.layout`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import secrets
import signal
import shutil
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import uvicorn

from gpuctl.local.datadir import private, reaper
from gpuctl.local.datadir.layout import DamagedFile, DataDir, ServerExit
from gpuctl.local.runtime.scheduler import MAX_ATTEMPTS
from gpuctl.local.runtime.settings import Settings
from gpuctl.local.server.app import LocalProvider
from gpuctl.local.server.connections import default_max_connections, guarded_protocol
from gpuctl.local.store import ids
from gpuctl.local.store.db import DamagedState, Store

DAMAGED_HINT = "run `gpu local reset`: it moves the damaged file aside (nothing is deleted) and starts with an empty account"


def read_token(data_dir: DataDir) -> str:
    """The access token, created once with mode 0600 and kept across restarts and resets."""
    token = data_dir.saved_token()
    if token is None:
        token = "gpuctl-local-" + secrets.token_urlsafe(24)
        private.write_new(data_dir.token, token + "\n")
    return token


def write_json(path: Path, doc: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)  # a fresh file: never written through a link or into a FIFO left there
    private.write_new(tmp, json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, path)


def server_info(local: LocalProvider, port: int, started_at: float) -> dict[str, Any]:
    return {"pid": os.getpid(), "port": port, "url": local.base_url, "api_base_url": local.base_url,
            "endpoint_base_url": local.endpoint_base_url, "started_at": ids.timestamp(started_at)}


def recover(local: LocalProvider) -> None:
    """After a crash: no leftover worker survives, and no accepted job is silently lost.
    Jobs that were running go back to the queue (FAILED with the reason after MAX_ATTEMPTS)."""
    reaper.reap(local.data_dir.root)
    shutil.rmtree(local.data_dir.homes, ignore_errors=True)  # scratch homes of workers that died with it
    jobs = local.scheduler.jobs
    for job in jobs.running():
        if jobs.attempts(job.id) < MAX_ATTEMPTS:
            jobs.requeue(job)
        else:
            jobs.fail(job, f"the local provider stopped while this job was running, {MAX_ATTEMPTS} times")
    for pod in local.store.list("pod", hidden=True):
        if pod["status"] == "RUNNING":
            local.store.put("pod", {**pod, "status": "EXITED"})


# The worker SDK sends a job's result on the pooled connection it took the job on, after the
# handler ran; a server that closed the idle connection meanwhile (uvicorn's default: 5 s) loses
# the result ("Server disconnected") and the job never ends. Keep idle connections a day.
KEEP_ALIVE_S = 24 * 3600


class LocalServer(uvicorn.Server):
    """uvicorn waits for open requests before shutting the app down; long polls would hold
    it for their whole timeout, so release them and stop the workers first."""

    def __init__(self, config: uvicorn.Config, local: LocalProvider):
        super().__init__(config)
        self.local = local

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.local.signals.shutdown.set()
        workers = self.local.scheduler.workers
        for worker in list(workers.workers.values()):
            workers.stop(worker, "local provider stopping")
        await super().shutdown(sockets)


SERVER_JSON_CHECK_S = 0.5


async def keep_server_json(local: LocalProvider, info: dict[str, Any]) -> None:
    """Put server.json back whenever it no longer says what this server wrote (deleted,
    damaged, overwritten): it is the only way a client finds the running server, and without
    it `gpu local down` said "not running" and left this server running, unreachable, for
    ever. Clients that find the lock held but no server.json wait for this."""
    while not local.signals.shutdown.is_set():
        await asyncio.sleep(SERVER_JSON_CHECK_S)
        if local.data_dir.recorded_server() != info:
            with contextlib.suppress(OSError):
                write_json(local.data_dir.server_json, info)


def make_lifespan(local: LocalProvider, port: int) -> Any:
    started_at = time.time()

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        recover(local)
        loop_task = asyncio.ensure_future(local.scheduler.run())
        server_json = local.data_dir.server_json
        info = server_info(local, port, started_at)
        write_json(server_json, info)
        keeper = asyncio.ensure_future(keep_server_json(local, info))
        try:
            yield
        finally:
            keeper.cancel()
            local.signals.shutdown.set()
            await local.scheduler.workers.stop_all("local provider stopping")
            loop_task.cancel()
            await local.scheduler.close()
            if (local.data_dir.recorded_server() or {}).get("pid") == os.getpid():
                with contextlib.suppress(FileNotFoundError):
                    server_json.unlink()
            local.store.close()

    return lifespan


LOCK_WAIT_S = 2.0


class _LockWaitOver(Exception):
    pass


def take_lock(lock: Any, wait_s: float = LOCK_WAIT_S) -> bool:
    """Take the data dir's lock, waiting up to `wait_s` for whoever holds it. A client asking
    whether a server runs (`lifecycle.lock_held`) holds it for an instant, and `gpu local up`
    asks every few milliseconds while its server starts: a server that gave up at the first
    refusal took such a probe for another server and exited "already running". A server holds
    the lock for its lifetime, so the wait ends in a refusal only when one runs. The wait is
    one blocking flock that SIGALRM ends (Python retries an interrupted call unless the handler
    raises), so nothing polls and no probe can slip between two tries."""
    def over(signum: int, frame: Any) -> None:
        raise _LockWaitOver

    previous = signal.signal(signal.SIGALRM, over)
    try:
        signal.setitimer(signal.ITIMER_REAL, wait_s)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _LockWaitOver:  # also when the alarm came just after flock returned: asking again on the same file is harmless
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
    finally:
        signal.signal(signal.SIGALRM, previous)
    return True


def serve(root: Path, port: int) -> int:
    data_dir = DataDir(root)
    try:
        private.secure_data_dir(root)
    except OSError as exc:
        print(f"cannot make the data dir {root} private (mode 0700, files 0600): {exc.strerror or exc}; "
              "it must be a directory you own", file=sys.stderr)
        return ServerExit.DATA_DIR
    lock = open(data_dir.lock, "a+")  # noqa: SIM115 - held for the process lifetime
    if not take_lock(lock):
        print(f"a local provider is already running for {root}", file=sys.stderr)
        return ServerExit.ALREADY_RUNNING
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        print(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}", file=sys.stderr)
        return ServerExit.PORT_IN_USE
    sock.listen(2048)
    port = sock.getsockname()[1]
    try:
        store = Store(data_dir.state_db)
    except DamagedState as exc:
        print(f"{exc}; {DAMAGED_HINT}", file=sys.stderr)
        return ServerExit.DAMAGED_STATE
    try:
        token = read_token(data_dir)
    except DamagedFile as exc:
        print(f"the token file {exc.path} cannot be used: {exc.problem}; delete it and start again: a new token is written", file=sys.stderr)
        store.close()
        return ServerExit.DATA_DIR
    settings = Settings.from_env(os.environ)
    local = LocalProvider(DataDir(root.resolve()), store, token, f"http://127.0.0.1:{port}", settings)
    local.scheduler.workers.adopt_orphans()  # what a killed subreaper held comes to us, not to init (ADR 55)
    http = guarded_protocol(settings.read_timeout_s, settings.max_connections or default_max_connections())
    # No websockets and no logging dictConfig: neither is used, and importing them costs start-up time.
    config = uvicorn.Config(local.app(make_lifespan(local, port)), log_config=None, log_level="warning", access_log=False, lifespan="on",
                            http=http, ws="none", timeout_graceful_shutdown=3, timeout_keep_alive=KEEP_ALIVE_S, server_header=False, date_header=False)
    LocalServer(config, local).run(sockets=[sock])
    return ServerExit.OK
