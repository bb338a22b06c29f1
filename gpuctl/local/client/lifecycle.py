"""Start, find, stop and reset the local provider from the client side (`gpu local ...` and
`deploy`'s on-demand start). Standard library only, so the CLI stays fast: it loads nothing of
the server but the data dir's layout and, to inspect a `state.db` no server has open,
`store.offline`.

A server is running for a data dir exactly when some process holds `server.lock`; a
server.json whose pid is gone or whose lock is free is stale and gets replaced.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gpuctl.errors import ExitCode, GpuctlError
from gpuctl.local.datadir import private, reaper
from gpuctl.local.datadir.layout import DamagedFile, DataDir, ServerExit, read_own
from gpuctl.local.store import offline

START_TIMEOUT_S = 15.0
DEFAULT_PORT = 8787  # the port a start asks for when none is given; it moves off it when taken (ensure_running)
STOP_TIMEOUT_S = 15.0


class LocalProviderError(GpuctlError):
    """The local provider could not be started, reached or stopped."""


class PortInUse(LocalProviderError):
    """The requested port is taken by another process."""


class StartInterrupted(LocalProviderError):
    """Ctrl-C or SIGTERM while a start waited for the server it spawned: what became of it."""

    exit_code = ExitCode.INTERRUPTED


def default_data_dir(environ: Mapping[str, str]) -> Path:
    """$GPUCTL_LOCAL_DIR, else $XDG_DATA_HOME/gpuctl/local, else ~/.local/share/gpuctl/local."""
    if environ.get("GPUCTL_LOCAL_DIR"):
        return usable_data_dir(Path(environ["GPUCTL_LOCAL_DIR"]).expanduser(), "GPUCTL_LOCAL_DIR")
    if environ.get("XDG_DATA_HOME"):
        return usable_data_dir(Path(environ["XDG_DATA_HOME"]).expanduser() / "gpuctl" / "local", "XDG_DATA_HOME")
    home = environ.get("HOME") or str(Path.home())
    return usable_data_dir(Path(home) / ".local" / "share" / "gpuctl" / "local", "the default")


def usable_data_dir(path: Path, given_by: str) -> Path:
    """`path`, unless it (or a parent) is something other than a directory: then an error that
    names the path and what chose it (`GPUCTL_LOCAL_DIR`, `--data-dir`), not a crash later."""
    for part in (path, *path.parents):
        if part.exists() or part.is_symlink():
            if not part.is_dir():
                raise LocalProviderError(f"the local provider's data directory {path} (from {given_by}) cannot be used: {part} is not a directory",
                                         hint="point GPUCTL_LOCAL_DIR (or --data-dir) at a directory, or move the file out of the way")
            break
    return path


def lock_held(data_dir: Path) -> bool:
    path = DataDir(data_dir).lock
    if not path.exists():
        return False
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def read_server_info(data_dir: Path) -> dict[str, Any] | None:
    """The running server's server.json, or None when no server runs. While a server holds the
    lock but server.json does not name it (it is starting, or the file was deleted or damaged,
    which the server repairs within a second), wait for it, up to START_TIMEOUT_S: answering
    "not running" then made `gpu local down` leave that server running, unreachable."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        info = DataDir(data_dir).recorded_server()
        held = lock_held(data_dir)
        if not held:
            return None
        if info is not None and reaper.alive(info["pid"]):
            return info
        if time.monotonic() >= deadline:
            files = DataDir(data_dir)
            raise LocalProviderError(f"a local provider holds {files.lock}, but {files.server_json} has not said where it listens for {START_TIMEOUT_S:.0f} s",
                                     hint=f"run the command again; if this repeats, that server is stuck: stop it (`fuser -k -TERM {files.lock}`) "
                                          "and start it again with `gpu local up`")
        time.sleep(0.02)


def saved_token(data_dir: Path) -> str | None:
    """The data dir's token, None when there is none yet; a token file that is there but holds
    no token is an error naming it, with the way out."""
    try:
        return DataDir(data_dir).saved_token()
    except DamagedFile as exc:
        raise LocalProviderError(f"the local provider's token file {exc.path} cannot be used: {exc.problem}",
                                 hint="stop the provider (`gpu local down`), delete that file and start it again (`gpu local up`): "
                                      "it writes a new token; then re-run `eval \"$(gpu local env)\"` wherever the old one was exported") from None


def read_token(data_dir: Path) -> str:
    token = saved_token(data_dir)
    if token is None:
        raise LocalProviderError(f"no access token in {data_dir}", hint="start the provider with `gpu local up`")
    return token


def request(info: dict[str, Any], token: str, method: str, path: str, timeout: float = 10.0) -> dict[str, Any]:
    """One call to the server's admin API, with the token in the Authorization header only."""
    import urllib.error
    import urllib.request

    req = urllib.request.Request(info["url"] + path, method=method, headers={"Authorization": f"Bearer {token}"},
                                 data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310 - loopback URL we wrote
            return json.loads(response.read() or b"{}")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise LocalProviderError(f"the local provider at {info['url']} did not answer: {exc}") from None


TAIL_BYTES = 16 * 1024


def _log_tail(data_dir: Path, lines: int = 5) -> str:
    """The last lines of server.log, from at most its last TAIL_BYTES (the log only grows)."""
    with contextlib.suppress(OSError), open(os.open(DataDir(data_dir).log, os.O_RDONLY | os.O_NONBLOCK), "rb") as log:
        if not stat.S_ISREG(os.fstat(log.fileno()).st_mode):  # a FIFO or a device: nothing the server wrote
            return ""
        log.seek(max(0, os.fstat(log.fileno()).st_size - TAIL_BYTES))
        return "\n".join(log.read(TAIL_BYTES).decode("utf-8", "replace").strip().splitlines()[-lines:])
    return ""


def start(data_dir: Path, port: int, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Spawn the server detached and return its server.json once it answers. When another
    start wins the race for the data dir's lock, return that server instead; when that server
    stops before it answers (it crashed while starting), start once more, so its reason (a
    damaged state file, say) is what the error says, not a wait that ran out."""
    data_dir = private.make_dir(data_dir.expanduser().resolve())
    saved_token(data_dir)  # a damaged token file is the user's to remove: say so before starting anything
    for _ in range(2):
        if not lock_held(data_dir):  # whatever is left belongs to a dead server
            with contextlib.suppress(FileNotFoundError):
                DataDir(data_dir).server_json.unlink()
            reaper.reap(data_dir)
        log = private.open_append(DataDir(data_dir).log)  # handed to the child
        with log:
            child = subprocess.Popen(
                [sys.executable, "-m", "gpuctl.local", "--data-dir", str(data_dir), "--port", str(port)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True,
                env=dict(environ if environ is not None else os.environ), cwd=str(data_dir))
        try:
            info = _started(child, data_dir, port)
        except KeyboardInterrupt:
            raise _interrupted_start(child, data_dir) from None
        if info is not None:
            return info
    raise LocalProviderError("the local provider did not start: twice another one held its data dir and stopped before it answered",
                             hint=f"run the command again; {DataDir(data_dir).log} says why each one stopped", detail=_log_tail(data_dir) or None)


def _started(child: subprocess.Popen, data_dir: Path, port: int) -> dict[str, Any] | None:
    """The server.json of the server `child` (or of the one that won the race), once it answers;
    None when `child` lost the race to a server that has stopped since without answering (the
    lock is free again and no server.json names one)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        code = child.poll()
        info = read_server_info(data_dir)
        if info is not None and (info["pid"] == child.pid or code == ServerExit.ALREADY_RUNNING):
            request(info, read_token(data_dir), "GET", "/_admin/status")
            return info
        if code == ServerExit.ALREADY_RUNNING and info is None and not lock_held(data_dir):
            return None
        if code is not None and code != ServerExit.ALREADY_RUNNING:
            _start_failed(port, code, data_dir)
        time.sleep(0.01)
    if child.poll() is None:
        child.kill()
    raise LocalProviderError(f"the local provider did not start within {START_TIMEOUT_S:.0f} s", detail=_log_tail(data_dir) or None)


def _interrupted_start(child: subprocess.Popen, data_dir: Path) -> StartInterrupted:
    """An interrupt while the start waited for `child` (review 5, R5-11: `error: interrupted`,
    and the server went on starting in the background, unstopped). Once it has written
    server.json it is up: it keeps running, and the error says where and how to stop it.
    Before that it is stopped (with whatever it started), so "interrupted" means "not started"."""
    info = read_server_info(data_dir) if child.poll() is None else None
    if info is not None and info.get("pid") == child.pid:
        return StartInterrupted(f"interrupted: the local provider had started, and is running at {info['url']} (pid {child.pid})",
                                hint=f"`gpu local down --data-dir {shlex.quote(str(data_dir))}` stops it")
    _stop_child(child)
    reaper.reap(data_dir)
    if not lock_held(data_dir):
        with contextlib.suppress(FileNotFoundError):
            DataDir(data_dir).server_json.unlink()
    return StartInterrupted(f"interrupted: the local provider was not started (the server being started, pid {child.pid}, was stopped)",
                            hint="run `gpu local up` again to start it")


def _stop_child(child: subprocess.Popen) -> None:
    """Stop the spawned server: SIGTERM, SIGKILL after STOP_TIMEOUT_S. Further interrupts wait for it."""
    for send in (child.terminate, child.kill):
        try:
            send()
            child.wait(STOP_TIMEOUT_S)
            return
        except ProcessLookupError:
            return
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            continue


def _start_failed(port: int, code: int, data_dir: Path) -> None:
    if code == ServerExit.PORT_IN_USE:
        raise PortInUse(f"port {port} on 127.0.0.1 is in use", hint="choose another with --port, or --port 0 for any free port")
    if code == ServerExit.DAMAGED_STATE:
        raise LocalProviderError(f"the local provider's state file {DataDir(data_dir).state_db} is damaged, so it cannot start",
                                 hint="run `gpu local reset`: it moves the damaged file aside (nothing is deleted) and starts with an empty account")
    raise LocalProviderError(f"the local provider exited with code {code} while starting", detail=_log_tail(data_dir) or None)


def ensure_running(data_dir: Path, port: int | None = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The running server's info, starting one when none runs (on `port`, else DEFAULT_PORT).
    An on-demand start whose port is taken (another data dir's server, say) takes any free port
    instead: clients read the URL from server.json, never assume the port."""
    port = DEFAULT_PORT if port is None else port
    running = read_server_info(data_dir)
    if running is not None:
        return running
    try:
        return start(data_dir, port, environ)
    except PortInUse:
        pass
    # the port the last such start got first: the URLs and curls printed then, and the base URLs
    # `gpu local env` exported, keep working across `gpu local down` and a restart
    last = _last_port(data_dir)
    if last not in (None, port):
        try:
            return start(data_dir, last, environ)
        except PortInUse:
            pass
    info = start(data_dir, 0, environ)
    with contextlib.suppress(OSError):
        private.write_new(DataDir(data_dir).last_port, f"{info['port']}\n")
    return info


def _last_port(data_dir: Path) -> int | None:
    """The port in `last-port`, or None when there is none usable (read through the bounded
    reader: a FIFO there hung the start, a link to /dev/zero filled its memory)."""
    try:
        text = read_own(DataDir(data_dir).last_port).strip()
    except (OSError, DamagedFile):
        return None
    return int(text) if text.isdigit() and 0 < int(text) < 65536 else None


def stop(data_dir: Path) -> bool:
    """Stop the server (SIGTERM, SIGKILL after STOP_TIMEOUT_S) and every process it started.
    Returns whether a server was running."""
    info = read_server_info(data_dir)
    seen: dict[int, str] = {}
    if info is not None:
        seen = reaper.tree(info["pid"])  # what it started, found by ancestry while it still leads them
        with contextlib.suppress(ProcessLookupError):
            os.kill(info["pid"], signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while reaper.alive(info["pid"]) and time.monotonic() < deadline:
            time.sleep(0.02)
        if reaper.alive(info["pid"]):
            with contextlib.suppress(ProcessLookupError):
                os.kill(info["pid"], signal.SIGKILL)
    reaper.reap(data_dir.resolve(), seen=seen)
    with contextlib.suppress(FileNotFoundError):
        DataDir(data_dir).server_json.unlink()
    return info is not None


def status(data_dir: Path) -> dict[str, Any]:
    info = read_server_info(data_dir)
    if info is None:
        return {"running": False, "url": None, "pid": None, "endpoints": offline.endpoint_count(DataDir(data_dir).state_db), "workers": 0,
                "data_dir": str(data_dir)}
    live = request(info, read_token(data_dir), "GET", "/_admin/status")
    return {"running": True, "url": info["url"], "pid": info["pid"], "endpoints": live["endpoints"], "workers": live["workers"], "data_dir": str(data_dir)}


def reset(data_dir: Path) -> Path | None:
    """Empty the state; through the server when it runs, else by removing the files. A damaged
    state.db is moved aside first (`state.db.damaged-<time>`, returned), so nothing is lost."""
    info = read_server_info(data_dir)
    if info is not None:
        request(info, read_token(data_dir), "POST", "/_admin/reset", timeout=30)
        return None
    files = DataDir(data_dir)
    kept = offline.set_aside_if_damaged(files.state_db)
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            files.state_db.with_name(files.state_db.name + suffix).unlink()
    for directory in (files.volumes, files.logs, files.homes):
        shutil.rmtree(directory, ignore_errors=True)
    return kept


EXPORTED = ("RUNPOD_API_KEY", "RUNPOD_API_BASE_URL", "RUNPOD_ENDPOINT_BASE_URL", "GPUCTL_LOCAL_DIR")  # what env_exports sets, in order


def env_exports(data_dir: Path, info: dict[str, Any], token: str) -> dict[str, str]:
    """What points RunPod's own clients here: the SDK builds `{RUNPOD_API_BASE_URL}/graphql`
    and `{RUNPOD_ENDPOINT_BASE_URL}/{endpoint_id}/run`. GPUCTL_LOCAL_DIR names the data dir, so
    `gpu` itself finds this same server and recognises the key and URLs as its own."""
    return dict(zip(EXPORTED, (token, info["api_base_url"], info["endpoint_base_url"], str(data_dir.expanduser().resolve())), strict=True))


def owns_key(data_dir: Path, key: str) -> bool:
    """Whether `key` is this data dir's token. Read-only: no server is started or asked; the
    token outlives the server, so a key exported before `gpu local down` still counts."""
    import hmac

    try:
        token = DataDir(data_dir).saved_token()
    except DamagedFile:  # holds no token, so no key is it
        return False
    return token is not None and hmac.compare_digest(key.encode(), token.encode())


def owns_url(data_dir: Path, url: str) -> bool:
    """Whether `url` is one of the base URLs this data dir's server.json records, running or
    not (a stale server.json still says where the exported URLs pointed). Read-only."""
    info = DataDir(data_dir).recorded_server()
    if info is None:
        return False
    recorded = {str(info.get(k, "")).rstrip("/") for k in ("url", "api_base_url", "endpoint_base_url")} - {""}
    return url.rstrip("/") in recorded
