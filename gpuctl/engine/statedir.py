"""`.gpu/` beside gpu.jsonc: the lock, the journal, saved records. Everything in it speeds
things up or explains a crash; none of it is the truth (the account is), so deleting `.gpu/`
is always safe and every error about it says so."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from gpuctl.errors import GpuctlError

SAFE = "deleting .gpu/ is always safe: gpuctl keeps nothing there that the account does not also say"


class StateDirError(GpuctlError):
    """A file of ours in `.gpu/` is damaged or in the way."""


def damaged(path: Path, problem: str) -> StateDirError:
    return StateDirError(f"{path} is damaged: {problem}", hint=f"delete {path} (or the whole .gpu/ directory) and run again; {SAFE}")


def prepare(path: Path) -> Path:
    """Make sure the directory holding `path` exists and is a directory, with the
    `.gitignore` that keeps `.gpu/` out of git; return `path`."""
    directory = path.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise StateDirError(f"{directory} is not a directory", hint=f"move or delete the file {directory}; gpuctl keeps its lock and journal there. {SAFE}") from None
    except PermissionError:
        raise StateDirError(f"permission denied creating {directory}", hint="run gpu as a user who can write to the project directory") from None
    _ignored_by_git(directory)
    if path.is_dir():
        raise StateDirError(f"{path} is a directory, where gpuctl keeps a file", hint=f"delete {path}; {SAFE}")
    return path


_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def open_own(path: Path, flags: int) -> int:
    """A descriptor of `path`, a file of gpuctl's in `.gpu/` (the lock, the journal), opened
    with `flags` (os.O_RDWR | os.O_CREAT, ...): never through a symbolic link, and only when it
    is a regular file. A checkout holds what its repository holds, and a `.gpu/deploy.lock`
    committed as a link to another file of the user's had that file truncated by the next
    deploy; a named pipe there made gpuctl wait for a writer for ever (the journal) or fail
    with an internal error (the lock)."""
    prepare(path)
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise StateDirError(f"{path} is a symbolic link, where gpuctl keeps a file of its own",
                                hint=f"delete the link {path} (gpuctl never reads or writes its files through one: it could point at any file of yours); {SAFE}") from None
        if exc.errno == errno.ENXIO:  # a FIFO opened to write, with no reader
            raise StateDirError(f"{path} is a named pipe (FIFO), where gpuctl keeps a regular file", hint=f"delete {path}; {SAFE}") from None
        raise
    kind = next((k for test, k in _KINDS if test(os.fstat(fd).st_mode)), None)
    if kind is not None:
        os.close(fd)
        raise StateDirError(f"{path} is {kind}, where gpuctl keeps a regular file", hint=f"delete {path}; {SAFE}")
    os.set_blocking(fd, True)
    return fd


IGNORE = "# gpuctl's local state (lock, journal): never commit it; deleting .gpu/ is always safe\n*\n"


def _ignored_by_git(directory: Path) -> None:
    """`.gpu/.gitignore` ignoring everything in `.gpu/`, as pytest and ruff do for their caches:
    `git add -A` after a deploy would otherwise commit this checkout's lock and journal, and
    another checkout (a CI runner) would read them as its own."""
    marker = directory / ".gitignore"
    if directory.name != ".gpu" or marker.exists() or marker.is_symlink():
        return
    try:  # created here or not at all: never through a link someone left in its place
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o644)
        with os.fdopen(fd, "w") as handle:
            handle.write(IGNORE)
    except OSError:
        pass  # a read-only or odd directory: the lock and journal matter more than this
