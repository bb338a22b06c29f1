"""Find and kill worker processes a server of this data dir started, using only what the OS
says: every worker carries `GPUCTL_LOCAL_SERVER=<data dir>` in its environment, which
/proc/<pid>/environ shows to the same user. Used after a kill -9 (the kernel already killed
the workers through PR_SET_PDEATHSIG, but not their own children) and by `gpu local down`.
Linux only; elsewhere it finds nothing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
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


def reap(data_dir: Path, timeout: float = 5.0) -> int:
    """SIGKILL every marked process and wait until the OS no longer lists them."""
    pids = marked_processes(data_dir)
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    return len(pids)
