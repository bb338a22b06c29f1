"""The local provider's durable state: one SQLite file in WAL mode.

Control-plane objects (endpoints, templates, network volumes, pods) are stored as the REST v2
documents the API returns, minus derived fields, so there is exactly one shape to keep right.
GraphQL-only settings (templateId, modelReferences, ...) live beside them in `extra`.

Every call runs on the server's event-loop thread. Statements auto-commit; WAL with
synchronous=NORMAL makes each commit survive a kill -9 of the server (only an OS crash can
lose the last commits), which is the durability the local provider promises.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gpuctl.local.errors import NotFound

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
  kind TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, extra TEXT NOT NULL DEFAULT '{}',
  visible_at REAL NOT NULL DEFAULT 0, seq INTEGER NOT NULL, PRIMARY KEY (kind, id));
CREATE TABLE IF NOT EXISTS releases (
  endpoint_id TEXT NOT NULL, version INTEGER NOT NULL, id TEXT NOT NULL, created_at TEXT NOT NULL,
  diff TEXT NOT NULL, PRIMARY KEY (endpoint_id, version));
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, endpoint_id TEXT NOT NULL,
  status TEXT NOT NULL, request TEXT NOT NULL, output TEXT, error TEXT, worker_id TEXT,
  created_at REAL NOT NULL, started_at REAL, finished_at REAL, expires_at REAL NOT NULL, ttl_ms INTEGER NOT NULL,
  retention REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, retries INTEGER NOT NULL DEFAULT 0, low_priority INTEGER NOT NULL DEFAULT 0,
  timeout_ms INTEGER NOT NULL DEFAULT 0, webhook TEXT);
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (endpoint_id, status, seq);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, endpoint_id);
CREATE INDEX IF NOT EXISTS jobs_expiry ON jobs (expires_at);
CREATE TABLE IF NOT EXISTS chunks (
  job_id TEXT NOT NULL, n INTEGER NOT NULL, output TEXT NOT NULL, PRIMARY KEY (job_id, n));
"""

DatabaseError = sqlite3.DatabaseError  # what any call raises once state.db has gone bad under a running server


class DamagedState(Exception):
    """state.db is not a SQLite database any more (truncated, overwritten, corrupt)."""

    def __init__(self, path: Path, problem: str):
        super().__init__(f"{path} is damaged ({problem})")
        self.path = path


class Store:
    """Typed access to the SQLite file. Owns the connection; close() it on shutdown."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)  # a FIFO there fails here
        except sqlite3.DatabaseError as exc:
            raise DamagedState(path, str(exc)) from None
        self.db.row_factory = sqlite3.Row
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA busy_timeout=5000")
            if not self.db.execute("SELECT 1 FROM sqlite_master WHERE name='objects'").fetchone():
                self.db.executescript(f"BEGIN;{SCHEMA}COMMIT;")  # one commit, not one per table
            if self.db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("quick_check failed")
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise DamagedState(path, str(exc)) from None

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit: either every statement inside commits or none does."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # ----- control-plane objects -------------------------------------------------------

    def put(self, kind: str, doc: dict, extra: dict | None = None, visible_at: float = 0.0) -> None:
        """Insert or replace an object; a replaced object keeps its place in list order."""
        row = self.db.execute("SELECT seq FROM objects WHERE kind=? AND id=?", (kind, doc["id"])).fetchone()
        seq = row["seq"] if row else self._next_seq(kind)
        self.db.execute(
            "INSERT OR REPLACE INTO objects (kind, id, doc, extra, visible_at, seq) VALUES (?,?,?,?,?,?)",
            (kind, doc["id"], json.dumps(doc, separators=(",", ":"), ensure_ascii=False), json.dumps(extra or {}), visible_at, seq),
        )

    def replace_doc(self, kind: str, doc: dict) -> None:
        """Rewrite a stored object's document only: its extra, visibility and place stay."""
        self.db.execute("UPDATE objects SET doc=? WHERE kind=? AND id=?",
                        (json.dumps(doc, separators=(",", ":"), ensure_ascii=False), kind, doc["id"]))

    def reveal(self) -> None:
        """Make every object a `delay_visibility` fault still hides visible now."""
        self.db.execute("UPDATE objects SET visible_at=0 WHERE visible_at>0")

    def _next_seq(self, kind: str) -> int:
        row = self.db.execute("SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM objects WHERE kind=?", (kind,)).fetchone()
        return int(row["n"])

    def get(self, kind: str, object_id: str, *, hidden: bool = False) -> dict | None:
        """The document, or None when absent (or not yet visible, unless `hidden`)."""
        found = self.get_with_extra(kind, object_id, hidden=hidden)
        return found[0] if found else None

    def found(self, kind: str, object_id: str, label: str) -> dict:
        """The visible document, or NotFound saying `<label> <id> not found`."""
        doc = self.get(kind, object_id)
        if doc is None:
            raise NotFound(f"{label} {object_id} not found")
        return doc

    def get_with_extra(self, kind: str, object_id: str, *, hidden: bool = False) -> tuple[dict, dict] | None:
        row = self.db.execute("SELECT doc, extra, visible_at FROM objects WHERE kind=? AND id=?", (kind, object_id)).fetchone()
        if row is None or (not hidden and row["visible_at"] > time.time()):
            return None
        return json.loads(row["doc"]), json.loads(row["extra"])

    def list(self, kind: str, *, hidden: bool = False) -> list[dict]:
        return [doc for doc, _ in self.list_with_extra(kind, hidden=hidden)]

    def list_with_extra(self, kind: str, *, hidden: bool = False) -> list[tuple[dict, dict]]:
        now = 1e18 if hidden else time.time()
        rows = self.db.execute("SELECT doc, extra FROM objects WHERE kind=? AND visible_at<=? ORDER BY seq", (kind, now))
        return [(json.loads(r["doc"]), json.loads(r["extra"])) for r in rows]

    def list_raw(self, kind: str) -> list[tuple[str, str]]:
        """(id, stored JSON text) pairs, for a listing that need not decode and re-encode."""
        rows = self.db.execute("SELECT id, doc FROM objects WHERE kind=? AND visible_at<=? ORDER BY seq", (kind, time.time()))
        return [(r[0], r[1]) for r in rows]

    def count(self, kind: str) -> int:
        return int(self.db.execute("SELECT COUNT(*) AS n FROM objects WHERE kind=?", (kind,)).fetchone()["n"])

    def delete(self, kind: str, object_id: str) -> bool:
        return self.db.execute("DELETE FROM objects WHERE kind=? AND id=?", (kind, object_id)).rowcount > 0

    # ----- releases ---------------------------------------------------------------------

    def add_release(self, endpoint_id: str, version: int, release_id: str, created_at: str, diff: list) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO releases (endpoint_id, version, id, created_at, diff) VALUES (?,?,?,?,?)",
            (endpoint_id, version, release_id, created_at, json.dumps(diff)),
        )

    def releases(self, endpoint_id: str) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT * FROM releases WHERE endpoint_id=? ORDER BY version DESC", (endpoint_id,))
        return [{"id": r["id"], "version": r["version"], "createdAt": r["created_at"], "diff": json.loads(r["diff"])} for r in rows]

    def delete_endpoint_rows(self, endpoint_id: str) -> list[str]:
        """Delete everything keyed by an endpoint: releases, jobs and their stream chunks.
        Returns the ids of the jobs deleted, whose waiters must be told."""
        job_ids = [r["id"] for r in self.db.execute("SELECT id FROM jobs WHERE endpoint_id=?", (endpoint_id,))]
        self.db.execute("DELETE FROM releases WHERE endpoint_id=?", (endpoint_id,))
        self.db.execute("DELETE FROM chunks WHERE job_id IN (SELECT id FROM jobs WHERE endpoint_id=?)", (endpoint_id,))
        self.db.execute("DELETE FROM jobs WHERE endpoint_id=?", (endpoint_id,))
        return job_ids

    def always_on(self) -> set[str]:
        """Ids of the endpoints that keep workers without any job (workers.min > 0)."""
        rows = self.db.execute("SELECT id FROM objects WHERE kind='endpoint' AND json_extract(doc, '$.workers.min') > 0")
        return {r["id"] for r in rows}

    def wipe(self) -> None:
        with self.transaction() as db:
            for table in ("objects", "releases", "jobs", "chunks"):
                db.execute(f"DELETE FROM {table}")
