"""Find and kill worker processes a server of this data dir started, using only what the OS
says: every worker (and, on Linux, the subreaper it runs under) carries
`GPUCTL_LOCAL_SERVER=<data dir>` in its environment, which /proc/<pid>/environ shows to the
same user, and whatever a worker started that no longer carries it (a cleared environment) is
still a descendant of one, found by ancestry through /proc/<pid>/stat. Used after a kill -9
and by `gpu local down`, which also names the processes it saw descend from the server before
stopping it. Linux only; elsewhere it finds nothing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterable
from pathlib import Path

MARKER = "GPUCTL_LOCAL_SERVER"  # set to the data dir in the environment of every process a server starts


def marked_processes(data_dir: Path) -> list[int]:
    marker = MARKER.encode() + b"=" + os.fsencode(str(data_dir)) + b"\0"
    found = []
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            environ = (entry / "environ").read_bytes()
            if marker in b"\0" + environ or environ.startswith(marker):
                found.append(int(entry.name))
    return found


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name: [0] state, [1] parent, [19] start time."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return children
    for entry in proc.iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def descendants(roots: Iterable[int]) -> list[int]:
    """Every process below `roots` in the process tree, as /proc shows it now."""
    children, found, todo = _children(), [], list(roots)
    while todo:
        for child in children.get(todo.pop(), ()):
            found.append(child)
            todo.append(child)
    return found


def tree(pid: int) -> dict[int, str]:
    """`pid`'s descendants, each with its start time, so that `reap` later kills only those
    still the same processes (a pid can be reused once its process is gone)."""
    return {child: fields[19] for child in descendants([pid]) if (fields := _stat(child)) is not None}


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting for its parent."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


def kill_trees(roots: list[int]) -> list[int]:
    """SIGKILL `roots` and everything descended from them, each stopped first (SIGSTOP),
    rescanning until no new one appears, so nothing forks away meanwhile. Returns them all."""
    pids: list[int] = []
    while new := [pid for pid in dict.fromkeys(roots + descendants(roots)) if pid not in pids and pid != os.getpid()]:
        for pid in new:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGSTOP)
        pids += new
        roots = pids
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return pids


def started(pid: int) -> int | None:
    """When the process began, in clock ticks since boot (field 22 of /proc/<pid>/stat); None
    once it is gone. A child starts no earlier than its parent, and a reused pid differs."""
    fields = _stat(pid)
    return int(fields[19]) if fields is not None else None


def children_of(pid: int) -> list[int]:
    """`pid`'s children as /proc shows them now, zombies too."""
    return _children().get(pid, [])


def reap(data_dir: Path, timeout: float = 5.0, seen: dict[int, str] | None = None) -> int:
    """SIGKILL every marked process, everything descended from one, and each of `seen` (from
    `tree`) that is still the process it was; wait until the OS no longer lists them. Each is
    stopped first, rescanning until no new one appears, so nothing forks away meanwhile."""
    still = [pid for pid, started in (seen or {}).items() if (fields := _stat(pid)) is not None and fields[19] == started]
    pids = kill_trees(marked_processes(data_dir) + still)
    deadline = time.monotonic() + timeout
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    return len(pids)
