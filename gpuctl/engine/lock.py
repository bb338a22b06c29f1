"""One apply per project at a time: an exclusive lock file in `.gpu/`.

The holder is named in every refusal. A lock whose process is gone is reported as stale and
left in place: breaking it silently could let two applies race.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gpuctl.errors import GpuctlError

EXIT_LOCKED = 3


class LockHeld(GpuctlError):
    exit_code = EXIT_LOCKED


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class ProjectLock:
    path: Path
    command: str
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def acquire(self, timeout: float, on_wait: Callable[[str], None] | None = None) -> None:
        deadline = self.clock() + timeout
        told = False
        while True:
            if self._try():
                return
            holder = self.holder()
            if self._stale(holder):
                raise LockHeld(
                    f"stale lock: {self.path} was taken by pid {holder.get('pid')} on {holder.get('host')} at {holder.get('started_at')}, which is no longer running",
                    hint=f"if no other deploy is running, remove {self.path} and try again",
                )
            if self.clock() >= deadline:
                raise LockHeld(f"another deploy holds the lock: {_describe(holder)}", hint="wait for it to finish, or pass --lock-timeout 5m to wait")
            if on_wait and not told:
                on_wait(f"waiting for the lock held by {_describe(holder)}")
                told = True
            self.sleep(min(0.2, max(0.0, deadline - self.clock())))

    def _try(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return False
        info = {"pid": os.getpid(), "host": socket.gethostname(), "command": self.command, "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        with os.fdopen(fd, "w") as f:
            json.dump(info, f)
        return True

    def holder(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    @staticmethod
    def _stale(holder: dict) -> bool:
        return holder.get("host") == socket.gethostname() and isinstance(holder.get("pid"), int) and not _alive(holder["pid"])

    def release(self) -> None:
        if self.holder().get("pid") == os.getpid():
            self.path.unlink(missing_ok=True)


def _describe(holder: dict) -> str:
    if not holder:
        return "an unknown process (the lock file is empty)"
    return f"pid {holder.get('pid')} on {holder.get('host')} (`{holder.get('command')}`, since {holder.get('started_at')})"
