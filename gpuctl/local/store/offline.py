"""What the client side may do with a `state.db` no server has open: tell whether SQLite can
read it, count its endpoints for `gpu local status`, and move a damaged one aside for `gpu
local reset`. Standard library only and read-only on the database: the CLI imports this
module (and nothing else of the store), so it never loads the server.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import time
from contextlib import closing
from pathlib import Path


def _not_regular(path: Path) -> str | None:
    """What the file at `path` is when it is no regular file (SQLite would open a FIFO and wait
    for a writer for ever), None when it is one or is absent."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return None
    return None if stat.S_ISREG(mode) else "it is not a regular file"


def damage(path: Path) -> str | None:
    """Why SQLite cannot use the file at `path`, or None when it can (or it does not exist)."""
    if not path.exists():
        return None
    if problem := _not_regular(path):
        return problem
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            result = db.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return None if result == "ok" else f"quick_check: {result}"


def endpoint_count(path: Path) -> int:
    """How many endpoints the file holds; 0 when it is absent or unreadable."""
    if not path.exists() or _not_regular(path):
        return 0
    with contextlib.suppress(sqlite3.Error), closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return int(db.execute("SELECT COUNT(*) FROM objects WHERE kind='endpoint'").fetchone()[0])
    return 0


def set_aside_if_damaged(path: Path) -> Path | None:
    """Move a state.db that SQLite cannot read to `state.db.damaged-<UTC time>`; its -wal and
    -shm go with it. Returns where it went, or None when it was readable or absent."""
    if damage(path) is None:
        return None
    target = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            path.with_name(path.name + suffix).rename(target.with_name(target.name + suffix))
    return target
