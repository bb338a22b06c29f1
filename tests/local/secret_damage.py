"""Ways a local secret's file is damaged (review 4, R4-9), shared by the store's tests and the
end-to-end ones; `DAMAGE` is what the verdict says of each. No gpuctl import: the tests that
use it must fail, not error, where the store lacks what they check."""

from __future__ import annotations

import os


def damage(directory, name: str, kind: str) -> None:
    """Replace secret `name` under `directory` (a secrets/ dir) with damage of `kind`."""
    path = directory / name
    path.unlink()
    if kind == "not UTF-8":
        path.write_bytes(b"\xff\xfe tok \x80")
    elif kind == "2 MB":
        path.write_bytes(b"x" * 2_000_000)
    elif kind == "FIFO":
        os.mkfifo(path)
    elif kind == "symlink":
        (directory.parent / "target").write_text("tok-of-someone-else")
        path.symlink_to(directory.parent / "target")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "NUL":
        path.write_bytes(b"a\0b")
    elif kind == "directory":
        path.mkdir()


DAMAGE = {"not UTF-8": "its bytes are not UTF-8 text", "2 MB": "it is larger than 131,071 bytes",
          "FIFO": "it is a named pipe (FIFO), not a file", "symlink": "it is a symbolic link, not a file gpuctl wrote",
          "empty": "the file is empty, and RunPod refuses an empty secret too", "NUL": "it holds a NUL character",
          "directory": "it is a directory, not a file"}
