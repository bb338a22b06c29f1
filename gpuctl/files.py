"""Reading a file the user names: gpu.jsonc, a policy file, a saved plan (--from-plan, the
GitHub apply's reviewed plans), a snapshot (--observed), a job input (--input @file, --smoke),
the GitHub event payload, the pull request number and the configs' files of the fork flow, the
key file, the journal, and the local provider's own `token`, `server.json` and worker logs
(`read_piece`, which reads a growing file a piece at a time).

Every one goes through `read_bytes` here, which reads a regular file or a pipe (process
substitution, `/dev/stdin`) and at most `limit` bytes of it, and refuses a device or socket
before reading a byte: `--from-plan /dev/zero` read for ever and filled memory.

MAX_BYTES, 256 MiB: the largest files gpuctl reads are saved plans and snapshots, about 5 kB
per endpoint, so a 10,000-endpoint plan is ~50 MB; five times that leaves room for
verbose env blocks while a refused file still fits in a CI runner's memory.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_BYTES = 256 * 1024 * 1024
CHUNK = 1024 * 1024
_KINDS = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


class FileRefused(OSError):
    """A file gpuctl will not read: not a regular file or pipe, or larger than its limit. An
    OSError, so every reader's `except OSError` reports it with the path and its own fix;
    `strerror` is the problem in words (`it is a character device ...`)."""

    def __init__(self, path: Path | str, problem: str, too_large: bool = False) -> None:
        super().__init__(None, problem, str(path))
        self.problem, self.too_large = problem, too_large

    def __str__(self) -> str:
        return self.problem


def _refuse_kind(path: Path | str, mode: int, pipes: bool = True) -> None:
    for test, kind in _KINDS if pipes else (*_KINDS, (stat.S_ISFIFO, "a named pipe (FIFO)")):
        if test(mode):
            raise FileRefused(path, f"it is {kind}, not a regular file")


def size_words(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit:,} bytes"


def _open(path: Path | str, pipes: bool) -> tuple[int, os.stat_result]:
    """A descriptor of `path` and its fstat, refused (FileRefused, IsADirectoryError) unless it
    is a regular file or, with `pipes`, a pipe. Without `pipes` it is opened without blocking,
    since opening a FIFO with no writer waits for ever. The caller closes it."""
    _refuse_kind(path, os.stat(path).st_mode, pipes)  # before open: opening a device can itself do something
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | (0 if pipes else os.O_NONBLOCK))
    try:
        info = os.fstat(fd)
        _refuse_kind(path, info.st_mode, pipes)  # it changed since the stat
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(21, os.strerror(21), str(path))
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def read_bytes(path: Path | str, limit: int = MAX_BYTES, pipes: bool = True) -> bytes:
    """The bytes of the file at `path`, a regular file or a pipe, at most `limit` of them.
    FileRefused for a device or socket, or for more than `limit` bytes; IsADirectoryError for a
    directory; any other OSError (FileNotFoundError, PermissionError) as the system raises it.

    `pipes=False` is for files gpuctl itself writes (the local provider's `token` and
    `server.json`): only a regular file will do, so a named pipe is refused too, and the file is
    opened without blocking, since opening a FIFO with no writer waits for ever."""
    fd, info = _open(path, pipes)
    try:
        too_large = FileRefused(path, f"it is larger than {size_words(limit)}, the most gpuctl reads of one file", too_large=True)
        if stat.S_ISREG(info.st_mode) and info.st_size > limit:
            raise too_large
        chunks, total = [], 0
        while chunk := os.read(fd, min(CHUNK, limit + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise too_large
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_piece(path: Path | str, offset: int, limit: int) -> bytes:
    """At most `limit` bytes of a file gpuctl itself writes and reads a piece at a time as it
    grows (the local provider's worker logs), from `offset` on; more after them is no error.
    As `read_bytes(pipes=False)`: only a regular file will do, refused (FileRefused,
    IsADirectoryError) before a byte is read, and opened without blocking."""
    fd, _ = _open(path, pipes=False)
    try:
        os.lseek(fd, offset, os.SEEK_SET)
        chunks, total = [], 0
        while total < limit and (chunk := os.read(fd, min(CHUNK, limit - total))):
            chunks.append(chunk)
            total += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_text(path: Path | str, encoding: str = "utf-8", limit: int = MAX_BYTES, pipes: bool = True) -> str:
    """`read_bytes` decoded (UnicodeDecodeError when it is not `encoding`)."""
    return read_bytes(path, limit, pipes).decode(encoding)
