"""Worker processes: start them from an endpoint's `GPUCTL_LOCAL_COMMAND`, capture what they
print, stop them, and notice when they die.

Each worker runs in its own session (so one signal reaches the SDK's heartbeat child too) and
carries `GPUCTL_LOCAL_SERVER`/`GPUCTL_LOCAL_WORKER_ID` in its environment. On Linux it runs
under its own `subreaper` process, its container as far as processes go: everything the worker
starts stays in that process's tree whatever it does (its own session, a cleared environment, a
parent that exits), and ends when the worker ends, or at once when the server dies
(PR_SET_PDEATHSIG). The server is a subreaper too (`adopt_orphans`, ADR 55): when a subreaper
is killed outright, what it held (the worker, the orphans it had adopted) comes to the server
instead of init, and the server ends it all. Elsewhere the worker is started directly, and only
its session is stopped with it (docs/local-provider.md, "Process hygiene").
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import logging
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gpuctl.local.datadir import private, reaper
from gpuctl.local.datadir.layout import DataDir
from gpuctl.local.runtime import logs
from gpuctl.local.runtime.signals import Signals
from gpuctl.local.runtime.workerenv import SpawnError, WorkerEnv, command_of, has_command
from gpuctl.local.store import ids


LINUX = sys.platform.startswith("linux")
SUBREAPER = Path(__file__).with_name("subreaper.py")


def _subreaper_hook() -> Any:
    """A preexec function for the subreaper: the kernel sends it SIGUSR1 when the server dies
    (PR_SET_PDEATHSIG), on which it kills its whole tree, and orphans below it become its
    children (PR_SET_CHILD_SUBREAPER). Both survive the exec, so the subreaper needs no ctypes
    of its own; resolved in the parent so the child only makes the calls."""
    if not LINUX:
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    death, subreaper = functools.partial(prctl, 1, int(signal.SIGUSR1)), functools.partial(prctl, 36, 1)

    def hook() -> None:
        death()
        subreaper()
    return hook


@dataclass
class Launched:
    """A started process: `proc` is what the server waits on (the subreaper on Linux, which
    exits as the worker did once its tree is gone), `pid` the worker proper, which leads its
    own session: the group the server signals."""
    proc: asyncio.subprocess.Process
    pid: int
    started: int | None = None  # when `proc` began (`reaper.started`): what comes to the server from its tree began no earlier


@dataclass
class Worker:
    id: str
    endpoint_id: str
    version: int
    pid: int
    started_at: float
    log: logs.LogFile
    placement: dict[str, Any]
    env: dict[str, str]
    ready: bool = False
    jobs: set[str] = field(default_factory=set)
    idle_since: float = field(default_factory=time.time)
    stopping: str | None = None
    stop_jobs: list[str] = field(default_factory=list)  # stops not yet fetched on the job-stop channel
    stop_asked: dict[str, float] = field(default_factory=dict)  # job id -> when the worker was first told to stop it
    exit_code: int | None = None

    @property
    def status(self) -> str:
        if not self.ready:
            return "INITIALIZING"
        return "RUNNING" if self.jobs else "IDLE"


class Supervisor:
    """The live workers of every endpoint, and the pods' processes. `on_exit(worker)` lets the
    scheduler settle the jobs a dead worker held and count crashes."""

    def __init__(self, data_dir: DataDir, signals: Signals, env: WorkerEnv, stop_grace_s: float, on_exit: Callable[[Worker], None],
                 log_file_bytes: int = logs.MAX_FILE_BYTES):
        self.data_dir = data_dir
        self.log_file_bytes = log_file_bytes  # a log file past it drops its oldest part (logs.LogFile)
        self.signals = signals
        self.env = env
        self.stop_grace_s = stop_grace_s
        self.on_exit = on_exit
        self.workers: dict[str, Worker] = {}
        self.procs: dict[str, asyncio.subprocess.Process] = {}
        self.pods: dict[str, Launched] = {}
        self.tasks: set[asyncio.Task] = set()
        self.preexec = _subreaper_hook()
        self.adopting = False  # this process is a subreaper (`adopt_orphans`)
        self.inherited: set[tuple[int, int | None]] = set()  # (pid, start) of the children it had before it adopted: never a subreaper's
        self.launching = 0  # launches between their fork and their registration in `procs` or `pods`

    def adopt_orphans(self) -> bool:
        """Make this process (the server's, never a test's: it kills the children it did not
        start) a child subreaper: the processes a worker's or pod's subreaper held when it was
        killed outright (SIGKILL: it could not end them) come to the server instead of init,
        where nothing found the unmarked ones again (a cleared environment, in another session).
        Each subreaper's end is followed by `_end_adopted`. The children this process already has
        (one started before an exec into the server, as `bash -c 'sleep 1000 & exec python -m
        gpuctl.local ...'` leaves) are recorded: they are not a subreaper's. Linux only; False
        elsewhere."""
        if LINUX and ctypes.CDLL(None, use_errno=True).prctl(36, 1) == 0:
            self.inherited = {(pid, reaper.started(pid)) for pid in reaper.children_of(os.getpid())}
            self.adopting = True
        return self.adopting

    def _adopted(self, pid: int, since: int | None) -> bool:
        """Whether the child `pid`, which this process did not start, may have come from the tree
        of a subreaper that began at `since`: it began no earlier (every process of that tree was
        forked after the subreaper), and is not one the server had before it adopted."""
        began = reaper.started(pid)
        return began is not None and since is not None and began >= since and (pid, began) not in self.inherited

    async def _end_adopted(self, since: int | None) -> None:
        """Kill every child of this process that came to it from the tree of a subreaper that
        began at `since` and has ended (`_adopted`), with its descendants, and reap them
        (asyncio waits only for the processes it started). They are what a killed subreaper held;
        one that ended normally had killed its tree and left none. A child the server had before
        it adopted, or one older than that subreaper, is left alone. Scanned again until none is
        new: a process killed meanwhile hands its children to us as it exits. Never while a launch
        is between its fork and its registration: that child is ours."""
        if not self.adopting:
            return
        killed: set[int] = set()
        pending: set[int] = set()
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            if self.launching:
                await asyncio.sleep(0.05)
                continue
            own = {p.pid for p in self.procs.values()} | {launched.proc.pid for launched in self.pods.values()}
            mine = reaper.children_of(os.getpid())
            new = [pid for pid in mine if pid not in own and pid not in killed and self._adopted(pid, since)]
            if new:
                found = reaper.kill_trees(new)
                killed.update(found)
                pending.update(found)
                logging.getLogger("gpuctl.local").warning("killed %d processes that came to the server from a subreaper killed outright", len(found))
            for pid in list(pending):  # each becomes our zombie once it and its parent are dead
                if pid in mine:
                    with contextlib.suppress(ChildProcessError):
                        if os.waitpid(pid, os.WNOHANG)[0] != pid:
                            continue
                    pending.discard(pid)
                elif not os.path.exists(f"/proc/{pid}"):
                    pending.discard(pid)  # gone: reaped by its own parent, dead before it
            if not new and not pending:
                return
            await asyncio.sleep(0.02)

    @contextlib.contextmanager
    def _registering(self) -> Iterator[None]:
        self.launching += 1
        try:
            yield
        finally:
            self.launching -= 1

    def of(self, endpoint_id: str) -> list[Worker]:
        return [w for w in self.workers.values() if w.endpoint_id == endpoint_id]

    def live(self, endpoint_id: str) -> list[Worker]:
        return [w for w in self.of(endpoint_id) if not w.stopping]

    @contextlib.contextmanager
    def own_dirs(self) -> Iterator[None]:
        """SpawnError, with the path in the way and the fix, when a directory the server keeps
        under the data dir (`logs/`, `homes/` or one below them) cannot be made because a
        file is where it belongs: a traceback in server.log left jobs queued for ever (review
        4, R4-7). Nothing there is moved or deleted: it may be someone's."""
        try:
            yield
        except (NotADirectoryError, FileExistsError) as exc:
            blocked = _in_the_way(Path(exc.filename or self.data_dir.root), self.data_dir.root)
            raise SpawnError(f"{blocked} is not a directory, and the local provider keeps its own directory there, so no worker was started: "
                             f"move it away (the server makes the directory again), or start afresh with `gpu local reset`") from None

    async def spawn(self, doc: dict, version: int, placement: dict[str, Any]) -> Worker:
        """Start one worker for the endpoint `doc`; SpawnError when its command cannot run."""
        argv, cwd = command_of(doc.get("env", {}))
        wid = ids.worker_id()
        path = logs.worker_log_path(self.data_dir.logs, doc["id"], wid)
        with self.own_dirs():
            logs.prune(path.parent, logs.KEEP - 1)
            log = logs.LogFile(path, lambda: self.signals.notify(("logs", wid)), self.log_file_bytes)
        try:
            env = self.env.worker(doc, wid, placement)
        except SpawnError as exc:  # a secret it refers to is missing: said where `gpu serverless logs` looks too
            log.write("system", f"worker {wid} not started: {exc}")
            log.close()
            raise
        log.write("system", f"starting worker {wid} (release {version}): {' '.join(argv)} in {cwd or 'its home'}")
        with self._registering():
            launched = await self.launch(argv, cwd, env, log)
            worker = Worker(wid, doc["id"], version, launched.pid, time.time(), log, placement, env)
            self.workers[wid] = worker
            self.procs[wid] = launched.proc
        self._task(self._watch(worker, launched))
        return worker

    async def launch(self, argv: list[str], cwd: Path | None, env: dict[str, str], log: logs.LogFile) -> Launched:
        """Start a process in its own session (under its subreaper on Linux), dying with the
        server, output piped to us. Its private HOME (`env["HOME"]`, under `homes/`) is made here
        and removed by `_forget_home` when it exits; it is also the directory the process runs in
        unless `cwd` says otherwise."""
        try:
            with self.own_dirs():
                home = private.make_dir(Path(env["HOME"]))
        except SpawnError as exc:
            log.write("system", f"could not start: {exc}")
            log.close()
            raise
        try:
            return await self._exec(argv, cwd or home, env)
        except OSError as exc:
            _forget_home(env)
            log.write("system", f"could not start: {exc}")
            log.close()
            raise SpawnError(f"GPUCTL_LOCAL_COMMAND {argv!r} could not start in {cwd or 'its home'}: {exc.strerror or exc}") from None

    async def _exec(self, argv: list[str], cwd: Path, env: dict[str, str]) -> Launched:
        """OSError, as `exec` would raise it, when `argv` cannot run."""
        pipes: dict[str, Any] = {"stdin": asyncio.subprocess.DEVNULL, "stdout": asyncio.subprocess.PIPE, "stderr": asyncio.subprocess.PIPE}
        if not LINUX:
            proc = await asyncio.create_subprocess_exec(*argv, cwd=cwd, env=env, start_new_session=True, limit=1 << 20, **pipes)
            return Launched(proc, proc.pid)
        status_r, status_w = os.pipe()
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-I", "-S", str(SUBREAPER), str(status_w), *argv, cwd=cwd, env=env, preexec_fn=self.preexec,
                pass_fds=(status_w,), limit=1 << 20, **pipes)
        except OSError:
            os.close(status_r)
            raise
        finally:
            os.close(status_w)
        started = reaper.started(proc.pid)  # before it can end: the subreaper waits for the worker it starts
        status = await asyncio.get_running_loop().run_in_executor(None, _read_all, status_r)
        word, _, value = status.partition(" ")
        if word == "ok" and value.isdigit():
            return Launched(proc, int(value), started)
        code = await proc.wait()
        if word == "err" and value.isdigit() and int(value):
            raise OSError(int(value), os.strerror(int(value)), argv[0])
        raise OSError(f"its subreaper ({SUBREAPER}) exited with code {code} before starting it")

    async def start_pod(self, doc: dict, volume_id: str | None, mount: str, on_exit: Callable[[int], None]) -> bool:
        """Run the pod's `GPUCTL_LOCAL_COMMAND` with the pod's environment, if it has one;
        `on_exit(code)` when it ends. SpawnError when the command cannot start."""
        if not has_command(doc["env"]):
            return False
        argv, cwd = command_of(doc["env"])
        await self.run_pod(doc["id"], argv, cwd, self.env.pod(doc, volume_id, mount), on_exit)
        return True

    def pod_log(self, pod_id: str) -> Path:
        return self.data_dir.logs / "pods" / f"{pod_id}.jsonl"

    async def run_pod(self, pod_id: str, argv: list[str], cwd: Path | None, env: dict[str, str], on_exit: Callable[[int], None]) -> int:
        """Run a pod's command; `on_exit(code)` when it ends. Returns the pid."""
        with self.own_dirs():
            log = logs.LogFile(self.pod_log(pod_id), lambda: self.signals.notify(("logs", pod_id)), self.log_file_bytes)
        log.write("system", f"starting pod {pod_id}: {' '.join(argv)} in {cwd or 'its home'}")
        with self._registering():
            launched = await self.launch(argv, cwd, env, log)
            proc = launched.proc
            self.pods[pod_id] = launched

        async def watch() -> None:
            pumps = [asyncio.ensure_future(self._pump(log, s)) for s in (proc.stdout, proc.stderr)]
            code = await proc.wait()
            _signal_group(launched.pid, signal.SIGKILL)
            self._task(self._end_adopted(launched.started))  # `proc` is reaped: no longer a child to tell apart
            await asyncio.wait(pumps, timeout=2.0)
            log.write("system", f"pod {pod_id} exited with code {code}")
            log.close()
            _forget_home(env)
            self.pods.pop(pod_id, None)
            on_exit(code)

        self._task(watch())
        return launched.pid

    def stop_pod(self, pod_id: str) -> None:
        launched = self.pods.get(pod_id)
        if launched is not None:
            _signal_group(launched.pid, signal.SIGTERM)
            self._task(self._kill_after(launched.proc, launched.pid))

    async def _kill_after(self, proc: asyncio.subprocess.Process, pgid: int) -> None:
        """SIGKILL the session `pgid` leads unless `proc` has ended within the grace (the
        subreaper then ends the rest of the tree)."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(proc.wait()), self.stop_grace_s)
            return
        _signal_group(pgid, signal.SIGKILL)

    def _task(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _pump(self, log: logs.LogFile, stream: asyncio.StreamReader | None) -> None:
        if stream is None:
            return
        while True:
            try:
                line = await stream.readline()
            except (ValueError, asyncio.LimitOverrunError):
                line = await stream.read(1 << 16)
            if not line:
                return
            log.write("container", line.decode("utf-8", "replace"))

    async def _watch(self, worker: Worker, launched: Launched) -> None:
        proc = launched.proc
        pumps = [asyncio.ensure_future(self._pump(worker.log, s)) for s in (proc.stdout, proc.stderr)]
        code = await proc.wait()
        worker.exit_code = code
        _signal_group(worker.pid, signal.SIGKILL)  # the SDK's heartbeat child, if it outlived its parent (no subreaper)
        self._task(self._end_adopted(launched.started))  # `proc` is reaped: no longer a child to tell apart
        await asyncio.wait(pumps, timeout=2.0)
        for pump in pumps:
            pump.cancel()
        reason = worker.stopping or "exited on its own"
        worker.log.write("system", f"worker {worker.id} stopped ({reason}), exit code {code}")
        worker.log.close()
        _forget_home(worker.env)
        self.workers.pop(worker.id, None)
        self.procs.pop(worker.id, None)
        self.signals.notify(("logs", worker.id))
        try:
            self.on_exit(worker)
        except Exception:
            logging.getLogger("gpuctl.local").exception("settling the jobs of worker %s failed", worker.id)

    def stop(self, worker: Worker, reason: str) -> None:
        """SIGTERM the worker's session (the SDK drains and exits), SIGKILL after the grace."""
        if worker.stopping:
            return
        worker.stopping = reason
        worker.log.write("system", f"stopping worker {worker.id}: {reason}")
        for key in (("take", worker.id), ("stop", worker.id)):
            self.signals.notify(key)
        _signal_group(worker.pid, signal.SIGTERM)
        self._task(self._kill_later(worker))

    async def _kill_later(self, worker: Worker) -> None:
        proc = self.procs.get(worker.id)
        if proc is not None:
            await self._kill_after(proc, worker.pid)

    def stop_job(self, worker_id: str | None, job_id: str) -> None:
        """Tell the worker holding `job_id` to stop it (the SDK's job-stop channel). The time
        it was first told is kept until it lets go: the scheduler stops a worker that holds on
        past `stop_deadline_s`."""
        worker = self.workers.get(worker_id or "")
        if worker is None:
            return
        worker.stop_asked.setdefault(job_id, time.time())
        if job_id not in worker.stop_jobs:
            worker.stop_jobs.append(job_id)
            self.signals.notify(("stop", worker.id))

    def stop_endpoint(self, endpoint_id: str, reason: str) -> None:
        for worker in self.of(endpoint_id):
            self.stop(worker, reason)

    async def stop_all(self, reason: str) -> None:
        """Stop every worker and wait until the OS has reaped them all."""
        for worker in list(self.workers.values()):
            self.stop(worker, reason)
        for pod_id in list(self.pods):
            self.stop_pod(pod_id)
        deadline = time.time() + self.stop_grace_s + 2
        while (self.workers or self.pods) and time.time() < deadline:
            await asyncio.sleep(0.05)
        for pid in [w.pid for w in self.workers.values()] + [p.pid for p in self.pods.values()]:
            _signal_group(pid, signal.SIGKILL)
        while (self.workers or self.pods) and time.time() < deadline + 2:
            await asyncio.sleep(0.05)


def _read_all(fd: int) -> str:
    with os.fdopen(fd, "rb") as status:
        return status.read().decode("ascii", "replace")


def _forget_home(env: dict[str, str]) -> None:
    """Remove a process's scratch home once it has exited (its logs stay, its home does not,
    as a RunPod worker's container disk goes with it)."""
    shutil.rmtree(env["HOME"], ignore_errors=True)


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _in_the_way(path: Path, root: Path) -> Path:
    """The first path from `root` down to `path` that is there and is no directory."""
    for step in [*reversed(path.parents), path]:
        if step != root and root in step.parents and step.exists() and not step.is_dir():
            return step
    return path
