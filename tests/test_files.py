"""The one reader of files users name (gpuctl.files): a regular file or a pipe from the shell,
at most a limit; a device or a named pipe refused before a byte is read, and a name of stdin
read from the descriptor the shell gave (R7-4)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from gpuctl.files import NAMED_PIPE, FileRefused, FileUnreadable, read_bytes, read_json, replace_text, write_in_place

ROOT = Path(__file__).resolve().parents[1]


def test_a_pipe_is_read_to_its_end_as_process_substitution_gives_one():
    read, write = os.pipe()
    feeder = threading.Thread(target=lambda: (os.write(write, b'{"a": 1}' * 1000), os.close(write)))
    feeder.start()
    try:
        assert read_bytes(f"/dev/fd/{read}") == b'{"a": 1}' * 1000
    finally:
        feeder.join()
        os.close(read)


def test_more_than_the_limit_is_refused_from_a_file_and_from_a_pipe(tmp_path):
    big = tmp_path / "plan.json"
    big.write_bytes(b"x" * 101)
    assert read_bytes(big, limit=101) == b"x" * 101
    with pytest.raises(FileRefused, match="larger than 100 bytes") as refused:
        read_bytes(big, limit=100)
    assert refused.value.too_large and refused.value.filename == str(big)
    read, write = os.pipe()
    feeder = threading.Thread(target=lambda: (os.write(write, b"x" * 4096), os.close(write)))
    feeder.start()
    try:
        with pytest.raises(FileRefused, match="larger than 1,000 bytes"):
            read_bytes(f"/dev/fd/{read}", limit=1000)
    finally:
        feeder.join()
        os.close(read)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_a_device_is_refused_before_it_is_read(device):
    with pytest.raises(FileRefused, match="it is a character device, not a regular file") as refused:
        read_bytes(device)
    assert not refused.value.too_large


def test_a_directory_is_the_error_readers_already_report(tmp_path):
    with pytest.raises(IsADirectoryError):
        read_bytes(tmp_path)


def test_read_piece_reads_at_most_limit_bytes_from_offset_and_more_is_no_error(tmp_path):
    from gpuctl.files import read_piece

    path = tmp_path / "log.jsonl"
    path.write_bytes(b"0123456789")
    assert read_piece(path, 3, 4) == b"3456" and read_piece(path, 8, 100) == b"89" and read_piece(path, 20, 5) == b""


@pytest.mark.parametrize("plant", ["fifo", "dev-zero", "directory"])
def test_read_piece_refuses_anything_but_a_regular_file_without_blocking(tmp_path, plant):
    """The local provider follows its worker logs with read_piece: a FIFO planted there (no
    writer: opening it blocking waits for ever) or a link to an endless device is refused
    before a byte is read."""
    from gpuctl.files import read_piece

    path = tmp_path / "log.jsonl"
    {"fifo": lambda: os.mkfifo(path), "dev-zero": lambda: path.symlink_to("/dev/zero"), "directory": path.mkdir}[plant]()
    with pytest.raises(IsADirectoryError if plant == "directory" else FileRefused):
        read_piece(path, 0, 1024)


# -- replace_text: the one atomic write ------------------------------------------------------------


def test_replace_text_writes_whole_or_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "plan.json"
    target.write_text("old\n")
    replace_text(target, "new\n", mode=0o640)
    assert target.read_text() == "new\n" and (target.stat().st_mode & 0o777) == 0o640

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("os.replace", interrupted)  # Ctrl-C between the write and the rename
    with pytest.raises(KeyboardInterrupt):
        replace_text(target, "half" * 1000)
    assert target.read_text() == "new\n" and sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]


def test_replace_text_writes_a_pipe_from_the_shell_or_device_in_place(tmp_path):
    """`deploy --plan --out /dev/stdout`: a rename over a device would fail (or replace it)."""
    read, write = os.pipe()
    try:
        replace_text(f"/dev/fd/{write}", "through the pipe\n")
        assert os.read(read, 100) == b"through the pipe\n"
    finally:
        os.close(read)
        os.close(write)
    replace_text("/dev/null", "nothing\n")


def test_a_named_pipe_is_refused_to_write_even_with_a_reader(tmp_path):
    """As reads refuse one: with no reader the open would wait for ever, and whether one came
    first is a race, so a named pipe is refused either way, unopened."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        for write in (lambda: replace_text(fifo, "x\n"), lambda: write_in_place(fifo, b"x\n", append=True)):
            with pytest.raises(FileRefused, match="named pipe") as refused:
                write()
            assert "give" not in refused.value.problem  # the problem only: each writer's hint says what to give it
        assert os.read(reader, 10) == b""
    finally:
        os.close(reader)


def test_replace_text_replaces_a_link_not_what_it_names(tmp_path):
    shared = tmp_path / "shared.json"
    shared.write_text("theirs\n")
    link = tmp_path / "link.json"
    link.symlink_to(shared)
    replace_text(link, "mine\n")
    assert shared.read_text() == "theirs\n" and link.read_text() == "mine\n" and not link.is_symlink()


@pytest.mark.parametrize("data, problem, line, col", [
    (b'{"a": "\xff"}', "it is not UTF-8 text", 1, 8),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply", None, None),
    (b'{"a":\n 1' + b"0" * 5000 + b"}", "more than 4300 digits", 2, 2),
    (b'{"a": 1,\n  oops}', "it is not valid JSON (Expecting property name", 2, 3),
    (b" \n", "it is empty", None, None),
], ids=["not-utf8", "deep", "huge-number", "syntax", "empty"])
def test_read_json_turns_every_failure_of_the_bytes_into_one_error_with_its_place(tmp_path, data, problem, line, col):
    """RecursionError, ValueError (Python's 4300-digit int limit) and UnicodeDecodeError are
    not JSONDecodeError; each reader caught a different few of them (review item 8)."""
    path = tmp_path / "doc.json"
    path.write_bytes(data)
    with pytest.raises(FileUnreadable) as caught:
        read_json(path)
    assert caught.value.json and problem in caught.value.problem
    assert (caught.value.line, caught.value.col) == (line, col)
    assert str(caught.value).startswith(f"{path}:{line}:{col}: " if line else f"{path}: ")


def test_read_json_names_a_file_it_cannot_read_and_keeps_the_cause(tmp_path):
    for make, problem, missing in [(lambda p: None, "it does not exist", True), (lambda p: p.mkdir(), "it is a directory", False)]:
        path = tmp_path / f"case{missing}"
        make(path)
        with pytest.raises(FileUnreadable, match=problem) as caught:
            read_json(path)
        assert caught.value.missing is missing and not caught.value.json and caught.value.line is None
    big = tmp_path / "big.json"
    big.write_bytes(b"[1]" * 100)
    with pytest.raises(FileUnreadable) as caught:
        read_json(big, limit=100)
    assert caught.value.too_large and isinstance(caught.value.cause, FileRefused)
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    with pytest.raises(FileUnreadable, match="named pipe"):  # refused unopened, so never waits for a writer
        read_json(fifo, pipes=False)
    bom = tmp_path / "bom.json"
    bom.write_bytes(b'\xef\xbb\xbf{"a": 1}')
    assert read_json(bom, encoding="utf-8-sig") == {"a": 1}


def _read_in_child(path: str, stdin: bytes | int = b"") -> subprocess.CompletedProcess:
    """read_bytes(path) in a child killed if it outlives a guard (a regression waits on a FIFO
    for ever: the test then fails with TimeoutExpired, never hangs the suite). `stdin`: the
    bytes sent through a pipe, or a descriptor given as the child's stdin."""
    code = ("import sys\nfrom gpuctl.files import FileRefused, read_bytes\n"
            "try:\n    sys.stdout.buffer.write(read_bytes(sys.argv[1]))\n"
            "except FileRefused as exc:\n    print('refused:', exc.problem)\n")
    feed = {"input": stdin} if isinstance(stdin, bytes) else {"stdin": stdin}
    return subprocess.run([sys.executable, "-c", code, path], capture_output=True, timeout=60, env=os.environ | {"PYTHONPATH": str(ROOT)}, **feed)


def test_a_named_pipe_is_refused_unopened_with_no_writer_and_the_fix_says_what_to_give(tmp_path):
    """R4-12: opening a FIFO no process writes waited for ever (`--from-plan FIFO`)."""
    fifo = tmp_path / "plan.json"
    os.mkfifo(fifo)
    done = _read_in_child(str(fifo))
    assert done.stdout.decode() == f"refused: {NAMED_PIPE}\n", done.stderr
    assert "give a regular file, or pipe it to stdin" in NAMED_PIPE


def test_a_named_pipe_is_refused_with_a_writer_too(tmp_path):
    """Whether a writer happens to be there decides nothing: a named pipe is never read."""
    fifo = tmp_path / "plan.json"
    os.mkfifo(fifo)
    keep = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # lets the writer open without waiting
    writer = os.open(fifo, os.O_WRONLY)
    try:
        os.write(writer, b'{"a": 1}')
        with pytest.raises(FileRefused, match="named pipe"):
            read_bytes(fifo)
    finally:
        os.close(writer)
        os.close(keep)


def test_stdin_from_the_shell_is_a_pipe_and_still_read():
    """`cat plan.json | gpu ... --from-plan /dev/stdin`: the fix the refusal of a FIFO names."""
    done = _read_in_child("/dev/stdin", stdin=b'{"plan": 1}')
    assert done.stdout == b'{"plan": 1}', done.stderr


def _fifo_on_stdin(fifo: Path, data: bytes) -> int:
    """A descriptor of the named pipe `fifo` as `< FIFO` opens it, holding `data`, its writer gone."""
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    writer = os.open(fifo, os.O_WRONLY)
    os.write(writer, data)
    os.close(writer)
    os.set_blocking(reader, True)
    return reader


@pytest.mark.parametrize("name", ["/dev/stdin", "/dev/fd/0", "/proc/self/fd/0", "/proc/thread-self/fd/0", "/dev/../dev/stdin"])
def test_a_name_of_stdin_reads_the_named_pipe_the_shell_opened_there(tmp_path, name):
    """R7-4: `gpu ... --from-plan /dev/stdin < FIFO` was refused as a named pipe, although the
    shell had opened it (with its writer) before gpu started: stdin is read as it is."""
    reader = _fifo_on_stdin(tmp_path / "plan.pipe", b'{"plan": 1}')
    try:
        done = _read_in_child(name, stdin=reader)
    finally:
        os.close(reader)
    assert done.stdout == b'{"plan": 1}', done.stdout + done.stderr


def test_a_link_to_stdin_reads_stdin(tmp_path):
    link = tmp_path / "input"
    link.symlink_to("/dev/stdin")
    reader = _fifo_on_stdin(tmp_path / "plan.pipe", b"linked")
    try:
        done = _read_in_child(str(link), stdin=reader)
    finally:
        os.close(reader)
    assert done.stdout == b"linked", done.stdout + done.stderr


def test_the_named_pipe_on_stdin_is_refused_by_its_own_path(tmp_path):
    """Only the names of stdin read what it holds: the FIFO's own path stays a named pipe."""
    fifo = tmp_path / "plan.pipe"
    reader = _fifo_on_stdin(fifo, b"{}")
    try:
        done = _read_in_child(str(fifo), stdin=reader)
        assert done.stdout.decode() == f"refused: {NAMED_PIPE}\n", done.stderr
        assert os.read(reader, 10) == b"{}"  # never read
    finally:
        os.close(reader)


def test_a_regular_file_on_stdin_is_read_from_its_start_and_again(tmp_path):
    """`< plan.json`: from its start, as re-opening /dev/stdin read it, however far the shell's
    descriptor had been read; read twice, it gives the same bytes twice."""
    plan = tmp_path / "plan.json"
    plan.write_bytes(b'{"plan": 1}')
    code = ("import os, sys\nfrom gpuctl.files import read_bytes\nos.read(0, 3)\n"
            "sys.stdout.buffer.write(read_bytes('/dev/stdin') + b'|' + read_bytes('/dev/fd/0'))\n")
    with plan.open("rb") as stdin:
        done = subprocess.run([sys.executable, "-c", code], stdin=stdin, capture_output=True, timeout=60, env=os.environ | {"PYTHONPATH": str(ROOT)})
    assert done.stdout == b'{"plan": 1}|{"plan": 1}', done.stdout + done.stderr


def test_a_terminal_or_device_on_stdin_is_refused_by_a_name_of_stdin():
    """A terminal would be read until someone typed an end, /dev/zero for ever."""
    import pty

    main, terminal = pty.openpty()
    try:
        done = _read_in_child("/dev/stdin", stdin=terminal)
    finally:
        os.close(main)
        os.close(terminal)
    assert done.stdout.decode().startswith("refused: it names gpu's stdin, which is a terminal"), done.stdout + done.stderr
    with open("/dev/zero", "rb") as zero:
        done = subprocess.run([sys.executable, "-c", "import sys\nfrom gpuctl.files import FileRefused, read_bytes\n"
                               "try:\n    read_bytes('/dev/stdin')\nexcept FileRefused as exc:\n    print('refused:', exc.problem)\n"],
                              stdin=zero, capture_output=True, timeout=60, env=os.environ | {"PYTHONPATH": str(ROOT)})
    assert "refused: it names gpu's stdin, which is a character device" in done.stdout.decode(), done.stdout + done.stderr
