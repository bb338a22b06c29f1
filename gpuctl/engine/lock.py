"""One apply per project at a time: an OS lock (flock) on `.gpu/deploy.lock`.

The kernel drops the lock when its process dies, so a deploy killed with -9 never blocks the
next one. The file also names the holder: a refusal says who holds it, and a file left behind
by a run that did not finish is reported (the engine then checks that run's journal) rather
than silently overwritten.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from gpuctl.engine.statedir import open_own
from gpuctl.errors import ExitCode, GpuctlError
from gpuctl.moments import iso_utc
from gpuctl.files import json_in
from gpuctl.polling import Backoff, time_left




class LockHeld(GpuctlError):
    exit_code = ExitCode.LOCKED


@dataclass
class ProjectLock:
    path: Path
    command: str
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    interrupted: dict | None = None  # the holder record left by a run that did not finish
    _file: IO[str] | None = field(default=None, repr=False)

    def acquire(self, timeout: float, on_wait: Callable[[str], None] | None = None) -> None:
        handle = os.fdopen(open_own(self.path, os.O_RDWR | os.O_CREAT), "r+")  # held until release()
        waits, told = Backoff(remaining=time_left(self.clock() + timeout, self.clock), sleep=self.sleep, first=0.2), False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _read(handle)
                if waits.over:
                    handle.close()
                    raise LockHeld(f"another deploy holds the lock: {describe(holder)}", hint="wait for it to finish, or pass --lock-timeout 5m to wait") from None
                if on_wait and not told:
                    on_wait(f"waiting for the lock held by {describe(holder)}")
                    told = True
                waits.pause()
        self.interrupted = _read(handle) or None
        handle.seek(0)
        handle.truncate()
        json.dump({"pid": os.getpid(), "host": socket.gethostname(), "command": self.command, "started_at": iso_utc()}, handle)
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is None:
            return
        self._file.seek(0)
        self._file.truncate()
        self._file.flush()
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()
        self._file = None


def _read(handle: IO[str]) -> dict:
    handle.seek(0)
    try:
        _, holder = json_in(handle.read(64 * 1024) or "{}")  # a holder record is one short line; the lock file may be anything
    except ValueError:  # bytes that are not UTF-8: a damaged holder record names nobody
        return {}
    return holder if isinstance(holder, dict) else {}


def describe(holder: dict) -> str:
    if not holder:
        return "another process (it has not written its name yet)"
    command, since = (_field(holder.get(k)) for k in ("command", "started_at"))
    from gpuctl.author import holder_name

    return f"{holder_name(holder.get('pid'), holder.get('host'))} (`{command}`, since {since})"  # `pid ? on HOST` when the pid is not a number


def _field(value: object) -> str:
    """One field of a holder record, which anyone may have edited: a string shortened, with its
    control characters escaped; another value as JSON spells it; a list or object by its kind
    (a record of 900 nested lists was printed whole)."""
    from gpuctl.safetext import one_line

    if isinstance(value, (list, dict)):
        return "a list" if isinstance(value, list) else "an object"
    return one_line(value if isinstance(value, str) else json.dumps(value), 60)
