"""Reading a file the user names: gpu.jsonc, a policy file, a saved plan (--from-plan, the
GitHub apply's reviewed plans), a snapshot (--observed), a job input (--input @file, --smoke),
the GitHub event payload, the pull request number and the configs' files of the fork flow, the
key file, the journal, and the local provider's own `token`, `server.json` and worker logs
(`read_piece`, which reads a growing file a piece at a time).

Every one goes through `read_bytes` here, which reads a regular file or a pipe from the shell
(process substitution, `/dev/stdin`) and at most `limit` bytes of it, and refuses a device or
socket before reading a byte: `--from-plan /dev/zero` read for ever and filled memory. A named
pipe (a FIFO made by mkfifo) is refused too, unopened: opening one that no process writes
waits for ever (`--from-plan`, `--observed`, `--policy`, `--config`, `--input @FILE` did, R4-12).
A pipe from the shell has a writer by construction and is no named pipe: it lives on the
kernel's pipe file system, which is how the two are told apart (`_named_pipe`). A path that
names gpu's own stdin (`/dev/stdin`, `/dev/fd/0`, `/proc/self/fd/0`: `names_stdin`) is not
opened again at all but read from descriptor 0, which the shell opened before gpu started,
whatever it holds: a pipe, a regular file (`< plan.json`, read from its start as re-opening it
read it) or a named pipe (`< FIFO`, whose writer the shell's open already waited for; R7-4
refused it), but one opened to read and write (`<>FIFO`: gpu would be its only writer, R10-3).
The FIFO named by its own path is still refused. A device is refused there too
(`< /dev/zero`), and a terminal, which would be read until the user typed an end.
No module opens a file to read it otherwise (tests/test_file_reads.py walks the source for one).

A JSON file the user names (a saved plan, a snapshot, a job input, the key file, the event
payload) is read by `read_json`, which turns every failure, of the file or of its JSON, into
one FileUnreadable(path, problem, line, col) that each reader maps to its own error and fix.
A JSON document inside a string from outside (an account's env value, an HTTP answer, a line
of a file of ours in `.gpu/`) is read by `json_in`, which never raises.

MAX_BYTES, 256 MiB: the largest files gpuctl reads are saved plans and snapshots, about 5 kB
per endpoint, so a 10,000-endpoint plan is ~50 MB; five times that leaves room for
verbose env blocks while a refused file still fits in a CI runner's memory.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

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


NAMED_PIPE = "it is a named pipe (FIFO), which gpuctl does not open (with no writer it waits for ever): give a regular file, or pipe it to stdin"


@cache
def _pipe_device() -> int:
    """The device of the kernel's pipe file system, where every pipe from the shell lives
    (`cmd | gpu`, `<(cmd)`), and no file made by mkfifo."""
    read, write = os.pipe()
    try:
        device = os.fstat(read).st_dev
    finally:
        os.close(read)
        os.close(write)
    return device


def _named_pipe(info: os.stat_result) -> bool:
    """Whether a FIFO is a named one (a file made by mkfifo) rather than a pipe from the shell."""
    return stat.S_ISFIFO(info.st_mode) and info.st_dev != _pipe_device()


def _refuse_kind(path: Path | str, info: os.stat_result, pipes: bool = True) -> None:
    for test, kind in _KINDS if pipes else (*_KINDS, (stat.S_ISFIFO, "a named pipe (FIFO)")):
        if test(info.st_mode):
            raise FileRefused(path, f"it is {kind}, not a regular file")
    if _named_pipe(info):
        raise FileRefused(path, NAMED_PIPE)


def names_stdin(path: Path | str) -> bool:
    """Whether `path` names this process's descriptor 0 (`/dev/stdin`, `/dev/fd/0`,
    `/proc/self/fd/0`, `/proc/PID/fd/0`, or a link to one), told by its name and the links that
    lead to it, never by what the file is: the named pipe stdin was opened from, named by its
    own path, is no name of stdin."""
    fd_dirs = {os.path.realpath(d) for d in ("/dev/fd", "/proc/self/fd", "/proc/thread-self/fd")}
    current = os.path.abspath(os.fspath(path))
    for _ in range(40):  # the kernel's own limit on links followed
        head, name = os.path.split(current)
        if name == "0" and os.path.realpath(head) in fd_dirs:
            return True
        try:
            target = os.readlink(current)  # /dev/stdin -> /proc/self/fd/0
        except OSError:
            return False
        current = os.path.normpath(os.path.join(head, target))
    return False


STDIN_READ_WRITE = ("it names gpu's stdin, which is a named pipe (FIFO) opened to read and write (`<>`): gpu would be its only writer "
                    "and wait for ever; give a regular file, or pipe it to stdin")


def _read_write(fd: int) -> bool:
    """Whether `fd` was opened to read and write: a pipe on stdin opened so (`<>FIFO`, which
    never waits for a writer) has none but gpu, and its end never comes (review 10, R10-3)."""
    import fcntl

    return fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDWR


def _stdin(path: Path | str) -> tuple[int, os.stat_result]:
    """A descriptor of gpu's own stdin (a duplicate, which the caller closes) and its fstat,
    refused (FileRefused) when it is a terminal, a device or a socket, or closed."""
    try:
        fd = os.dup(0)
    except OSError:
        raise FileRefused(path, "it names gpu's stdin, which is closed") from None
    try:
        info = os.fstat(fd)
        if os.isatty(fd):
            raise FileRefused(path, "it names gpu's stdin, which is a terminal, not a file: give the file's path, or send it on stdin (`< FILE`)")
        for test, kind in _KINDS:  # a FIFO is read, named or not: the shell's open already had its writer
            if test(info.st_mode):
                raise FileRefused(path, f"it names gpu's stdin, which is {kind}, not a regular file or pipe")
        if stat.S_ISFIFO(info.st_mode) and _read_write(fd):
            raise FileRefused(path, STDIN_READ_WRITE)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(21, os.strerror(21), str(path))
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def _read(fd: int, size: int, offset: int, regular: bool) -> bytes:
    """At most `size` bytes at `offset` of a regular file (pread: from its start, however far
    the shell's descriptor has been read), else the next ones of a pipe, waited for when the
    descriptor (stdin, shared with whoever gave it) does not block."""
    if regular:
        return os.pread(fd, size, offset)
    while True:
        try:
            return os.read(fd, size)
        except BlockingIOError:
            import select

            select.select([fd], [], [])


def size_words(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit:,} bytes"


def _open(path: Path | str, pipes: bool) -> tuple[int, os.stat_result]:
    """A descriptor of `path` and its fstat, refused (FileRefused, IsADirectoryError) unless it
    is a regular file or, with `pipes`, a pipe from the shell; a named pipe is refused either
    way. It is opened without blocking, since opening a FIFO with no writer waits for ever (one
    made in place of the file since the stat), and reads of a pipe from the shell then block
    again, waiting for its writer. A name of gpu's stdin is not opened: its descriptor is
    duplicated (`_stdin`). The caller closes it."""
    if pipes and names_stdin(path):
        return _stdin(path)
    _refuse_kind(path, os.stat(path), pipes)  # before open: opening a device or a named pipe can itself do something
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        _refuse_kind(path, info, pipes)  # it changed since the stat
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(21, os.strerror(21), str(path))
        if stat.S_ISFIFO(info.st_mode):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def read_bytes(path: Path | str, limit: int = MAX_BYTES, pipes: bool = True) -> bytes:
    """The bytes of the file at `path`, a regular file or a pipe from the shell (or whatever
    gpu's stdin holds, for a name of it), at most `limit` of them. FileRefused for a device, socket or named pipe, or for more than `limit` bytes; IsADirectoryError for a
    directory; any other OSError (FileNotFoundError, PermissionError) as the system raises it.

    `pipes=False` is for files gpuctl itself writes (the local provider's `token` and
    `server.json`): only a regular file will do, so any pipe is refused, and a name of stdin is
    opened as any path is."""
    fd, info = _open(path, pipes)
    try:
        too_large = FileRefused(path, f"it is larger than {size_words(limit)}, the most gpuctl reads of one file", too_large=True)
        if stat.S_ISREG(info.st_mode) and info.st_size > limit:
            raise too_large
        chunks, total, regular = [], 0, stat.S_ISREG(info.st_mode)
        while chunk := _read(fd, min(CHUNK, limit + 1 - total), total, regular):
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


class FileUnreadable(Exception):
    """A JSON file that could not be read or is not JSON: `problem` in words (`it is a
    directory`, `it is not UTF-8 text`, `Expecting value`), at `line`:`col` when known. `cause`
    is what was raised, so a caller can tell a missing file (FileNotFoundError) or one too
    large (FileRefused.too_large) from the rest; `json` is True when the bytes were read and
    are not JSON gpuctl reads (bad syntax, not UTF-8, nested too deep, a number too long)."""

    def __init__(self, path: Path | str, problem: str, line: int | None = None, col: int | None = None,
                 cause: BaseException | None = None, json: bool = False) -> None:
        super().__init__(problem)
        self.path, self.problem, self.line, self.col, self.cause, self.json = path, problem, line, col, cause, json

    @property
    def place(self) -> str:
        """`path:line:col`, or the path alone when the place in it is not known."""
        return f"{self.path}:{self.line}:{self.col}" if self.line is not None else str(self.path)

    @property
    def missing(self) -> bool:
        return isinstance(self.cause, FileNotFoundError)

    @property
    def too_large(self) -> bool:
        return isinstance(self.cause, FileRefused) and self.cause.too_large

    def __str__(self) -> str:
        return f"{self.place}: {self.problem}"


def _line_col(data: bytes | str, pos: int) -> tuple[int, int]:
    newline = b"\n" if isinstance(data, bytes) else "\n"
    return data.count(newline, 0, pos) + 1, pos - data.rfind(newline, 0, pos)


def read_json(path: Path | str, limit: int = MAX_BYTES, encoding: str = "utf-8-sig", pipes: bool = True,
              loads: Callable[[str], Any] | None = None, shown: str | None = None) -> Any:
    """The JSON document in the file at `path` (read as `read_bytes` reads it). Every failure,
    whether the file cannot be read or is not JSON, is one FileUnreadable, so each reader maps
    it to its own error and fix and none lets a RecursionError (`[` 100,000 deep), a
    ValueError (a number of more than 4300 digits, Python's int limit) or a UnicodeDecodeError
    escape as an internal error. `loads`: the caller's own parser of the text in place of
    `json.loads` (the job input's, which refuses NaN and points at a comment); what it raises
    of its own passes through, and what it leaves uncaught is mapped as above. `shown`: the
    name the error gives the file (a path as the user typed it, `planning.user_path`), else `path`.

    A UTF-8 byte order mark at the start is read past (`utf-8-sig`), as gpu.jsonc's reader
    and stdin's do: RFC 8259 §8.1 lets a parser ignore it, and Windows editors (Notepad,
    PowerShell 5's `Out-File -Encoding utf8`) write it; a job input saved so was refused with
    "Unexpected UTF-8 BOM (decode using utf-8-sig)", Python's words (review 9, R9-4)."""
    try:
        return _read_json(path, limit, encoding, pipes, loads)
    except FileUnreadable as exc:
        if shown is not None:
            exc.path = shown
        raise


def _read_json(path: Path | str, limit: int, encoding: str, pipes: bool, loads: Callable[[str], Any] | None) -> Any:
    import json
    import re

    try:
        data = read_bytes(path, limit, pipes)
    except FileNotFoundError as exc:
        raise FileUnreadable(path, "it does not exist", cause=exc) from None
    except IsADirectoryError as exc:
        raise FileUnreadable(path, "it is a directory, not a file", cause=exc) from None
    except OSError as exc:  # FileRefused (a device, too large), permission denied, ...
        raise FileUnreadable(path, exc.strerror or str(exc), cause=exc) from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line, col = _line_col(data, exc.start)
        raise FileUnreadable(path, f"it is not {'UTF-8' if encoding.startswith('utf-8') else encoding} text",
                             line, col, cause=exc, json=True) from None
    try:
        return (loads or json.loads)(text)
    except json.JSONDecodeError as exc:
        if not text.strip():  # json says "Expecting value" at 1:1, pointing at nothing
            raise FileUnreadable(path, "it is empty (a JSON document holds a value)", cause=exc, json=True) from None
        raise FileUnreadable(path, f"it is not valid JSON ({exc.msg})", exc.lineno, exc.colno, cause=exc, json=True) from None
    except RecursionError as exc:
        raise FileUnreadable(path, "it is nested too deeply (more levels of arrays or objects than gpuctl reads)", cause=exc, json=True) from None
    except ValueError as exc:  # json's own int limit (sys.get_int_max_str_digits), not a JSONDecodeError
        digits = re.search(r"\d{4301}", text)
        line, col = _line_col(text, digits.start()) if digits else (None, None)
        raise FileUnreadable(path, "it holds a number of more than 4300 digits, more than gpuctl reads", line, col, cause=exc, json=True) from None


def json_in(text: str) -> tuple[bool, Any]:
    """(True, value) for the JSON document a string holds that anyone can edit: one from the
    account (an env value gpuctl wrote, a job's error), a worker's output line, a file of ours
    in `.gpu/`; (False, None) when it holds none: not JSON, or nested deeper than Python reads
    (a RecursionError, which is no ValueError)."""
    import json

    try:
        return True, json.loads(text)
    except (ValueError, RecursionError):
        return False, None


# The problem only: each writer's hint says what to give it instead (`--out`, GITHUB_OUTPUT), so
# the advice is said once.
NAMED_PIPE_WRITE = "it is a named pipe (FIFO), which gpuctl does not write (with no reader it would wait for ever)"


def open_to_write(path: Path | str, append: bool = False) -> int:
    """A descriptor to write the file at `path` in place (created when missing, emptied unless
    `append`), for every file gpuctl writes that a user names and that is not replaced whole
    (`replace_text`): GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, `--out /dev/stdout`. A named pipe is
    refused unopened, as `read_bytes` refuses one: opening a FIFO that no process reads waits
    for ever (`deploy --plan --out FIFO` did), and one that has a reader now is refused too, so
    the answer never depends on which process came first. A pipe from the shell
    (`--out /dev/stdout` piped on) has a reader by construction and is written. It is opened
    without blocking, so a FIFO made in place of the file since the stat is an ENXIO (no
    reader) or seen by fstat, never a wait; a socket is an ENXIO too. The caller closes it."""
    import errno

    try:
        before = os.stat(path)
    except FileNotFoundError:
        before = None
    if before is not None:
        _refuse_to_write(path, before)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC) | getattr(os, "O_CLOEXEC", 0) | os.O_NONBLOCK
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a FIFO with no reader, or a socket
            raise FileRefused(path, NAMED_PIPE_WRITE) from None
        raise
    try:
        info = os.fstat(fd)
        _refuse_to_write(path, info)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(21, os.strerror(21), str(path))
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _refuse_to_write(path: Path | str, info: os.stat_result) -> None:
    if _named_pipe(info):
        raise FileRefused(path, NAMED_PIPE_WRITE)
    if stat.S_ISSOCK(info.st_mode):
        raise FileRefused(path, "it is a socket, not a regular file")


def write_in_place(path: Path | str, data: bytes, append: bool = False) -> None:
    """Write `data` to the file at `path` (`open_to_write`): at its end with `append`, else
    over what it held."""
    with os.fdopen(open_to_write(path, append), "wb") as stream:
        stream.write(data)


def replace_text(path: Path | str, text: str, *, mode: int | None = None, durable: bool = False) -> None:
    """Write `path` whole or not at all: a new temporary file beside it (O_EXCL: never one
    that was there), then one rename over it, so an interrupt or a crash leaves the old file
    or the new one, never half of one. `mode`: the new file's permissions (None: as any new
    file is created, under the umask). `durable`: fsync the file and its directory before
    returning (the key file). A symbolic link is replaced by the new file (resolve `path` first
    to replace the file it names instead); a path that leads to no regular file (`--out
    /dev/stdout`, a pipe from the shell) is written in place, and a named pipe is refused
    (`open_to_write`)."""
    import contextlib
    from secrets import token_hex

    target = Path(path)
    if target.exists() and not target.is_file():  # a named pipe is refused (`open_to_write`)
        write_in_place(target, text.encode("utf-8"))
        return
    temp = target.with_name(f".{target.name}.{os.getpid()}.{token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            if mode is not None:
                os.fchmod(handle.fileno(), mode)  # exactly `mode`, whatever the umask
            handle.write(text)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    if durable:  # the rename itself (best effort: some file systems refuse a directory's fsync)
        with contextlib.suppress(OSError):
            directory = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
