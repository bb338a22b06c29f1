"""The data dir is private to the user running the local provider, whatever the umask: the
directory is 0700 and nothing in it keeps a group or other permission bit (files 0600,
directories and executables 0700). It has to be: `state.db` holds deployed secret values,
`token` the access key, and worker logs whatever a handler prints.

One rule, applied in two places:

- the server process sets umask 077 first thing (`secure_data_dir`), so every file it, SQLite
  (`state.db`, `-wal`, `-shm`) or a worker it starts creates is born private; no call site
  has to remember a mode. The same call repairs a data dir left looser by an older version or
  created by hand;
- the client side (`client.lifecycle.start`, which makes the dir and opens `server.log` before the
  server exists) uses `make_dir` and `open_append`, which set modes explicitly and leave the
  CLI's own umask alone.

Standard library only: the client side imports this in the CLI process.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path
from typing import BinaryIO

UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600
LOOSE = 0o077  # the group and other bits


def make_dir(path: Path) -> Path:
    """Create `path` (and missing parents) and make the directory itself 0700; mkdir's mode
    alone is filtered by the umask and leaves an existing directory as it was."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.chmod(path, DIR_MODE)
    return path


def open_append(path: Path) -> BinaryIO:
    """Open a file for appending, created 0600 or tightened to 0600 if it already exists.
    Anything there that is not a regular file is replaced by one: opening a FIFO to write
    waits for a reader for ever, and a device is nowhere to keep a log."""
    with contextlib.suppress(FileNotFoundError):
        if not stat.S_ISREG(os.stat(path).st_mode):
            os.unlink(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NONBLOCK, FILE_MODE)
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced again between the unlink and the open
        os.close(fd)
        raise OSError(f"{path} is not a regular file")
    os.set_blocking(fd, True)
    os.fchmod(fd, FILE_MODE)
    return os.fdopen(fd, "ab")


def write_new(path: Path, text: str | bytes) -> None:
    """Write `text` to a fresh 0600 file that then takes the place of whatever is at `path`,
    whatever the umask. Opening `path` itself to write waited for ever on a FIFO planted there
    and wrote through a link into the file it names (`last-port` linked to a file of yours
    emptied it); the fresh file is created exclusively beside it and renamed over it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb" if isinstance(text, bytes) else "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def repair(data_dir: Path) -> int:
    """Clear the group and other bits of everything under `data_dir` (symlinks are neither
    followed nor changed). Returns how many entries were changed; a no-op on a private dir."""
    changed = 0
    for root, dirs, files in os.walk(data_dir):
        for name in dirs + files:
            path = os.path.join(root, name)
            with contextlib.suppress(FileNotFoundError):  # removed meanwhile (a log pruned, a worker's file)
                mode = os.lstat(path).st_mode
                if not stat.S_ISLNK(mode) and mode & LOOSE:
                    os.chmod(path, stat.S_IMODE(mode) & ~LOOSE)
                    changed += 1
    return changed


def secure_data_dir(data_dir: Path) -> None:
    """For the server process, before it creates anything: umask 077 for itself and the
    workers it starts, the data dir 0700, and whatever is already in it repaired."""
    os.umask(UMASK)
    make_dir(data_dir)
    repair(data_dir)
