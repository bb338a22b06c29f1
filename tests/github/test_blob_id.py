"""The git blob id of a checkout file, as the apply's "newer commit" check compares it with the
branch's (github/inputs.py): the same as `git hash-object` for any size, read a chunk at a time
so a huge file is never held in memory whole."""

from __future__ import annotations

import os
import subprocess
import tracemalloc

import pytest

from gpuctl.github import fork
from gpuctl.github.inputs import _identity


def _git_blob(path) -> str:
    return subprocess.run(["git", "hash-object", "--no-filters", str(path)], check=True, capture_output=True, text=True).stdout.strip()


@pytest.mark.parametrize("data", [b"", b"{}\n", bytes(range(256)) * 41, os.urandom(3 * 1024 * 1024 + 17)])
def test_a_file_s_blob_id_is_git_s(tmp_path, data):
    path = tmp_path / "file"
    path.write_bytes(data)
    assert fork.file_blob_id(path) == _git_blob(path) == fork.blob_id(data)
    assert _identity(path) == ("blob", _git_blob(path))


def test_a_small_bite_still_gives_git_s_id(tmp_path, monkeypatch):
    """Many chunks, the last a partial one: every byte is hashed once, in order."""
    monkeypatch.setattr(fork, "READ_CHUNK", 7)
    path = tmp_path / "file"
    path.write_bytes(b"0123456789" * 10 + b"x")
    assert fork.file_blob_id(path) == _git_blob(path)


def test_a_huge_file_is_hashed_without_holding_it_in_memory(tmp_path):
    """Measured before: `entry.read_bytes()` held the whole file (64 MiB here) to hash it."""
    path = tmp_path / "model.bin"
    with path.open("wb") as stream:
        stream.truncate(64 * 1024 * 1024)  # sparse: quick to make
    tracemalloc.start()
    try:
        identity = _identity(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert identity == ("blob", _git_blob(path))
    assert peak < 8 * 1024 * 1024, peak


def test_a_named_pipe_in_the_checkout_is_unreadable_not_a_wait_for_ever(tmp_path):
    path = tmp_path / "fifo"
    os.mkfifo(path)
    kind, problem = _identity(path)
    assert kind == "unreadable" and "not a regular file" in problem
