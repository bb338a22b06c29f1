"""A write-ahead journal in `.gpu/journal.jsonl`: before each write, the intent; after, the
outcome. A later run reads unfinished intents to wait out RunPod's delayed visibility before
concluding that a create never happened. Losing the file must never cause a duplicate: the
engine always looks an object up by identity before creating it. Only addresses and ids are
written, never values."""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from gpuctl.engine.statedir import damaged, open_own, prepare
from gpuctl.files import MAX_BYTES, FileRefused, json_in, size_words


@dataclass
class Journal:
    path: Path | None  # None: no journal (nothing is written)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # the workers of a parallel apply share it

    def record(self, address: str, op: str, state: str, resource_id: str | None = None) -> None:
        if self.path is None:
            return
        entry = {"at": time.time(), "address": address, "op": op, "state": state, "id": resource_id}
        with self._lock:
            with os.fdopen(open_own(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND), "a") as f:
                f.write(json.dumps(entry) + "\n")
                f.flush()
                os.fsync(f.fileno())

    def unfinished(self) -> dict[str, float]:
        """Addresses whose last entry is an intent (or an ambiguous outcome, or a create that
        an interrupt kept from being read back: `unseen`, maybe not visible yet), with its time.
        A torn last line is what kill -9 leaves and is skipped; any other damage is an error
        that names the file, since guessing could hide an unfinished create."""
        if self.path is None or not (prepare(self.path).exists() or self.path.is_symlink()):
            return {}
        try:
            with os.fdopen(open_own(self.path, os.O_RDONLY), "rb") as handle:
                raw = handle.read(MAX_BYTES + 1)
            if len(raw) > MAX_BYTES:
                raise FileRefused(self.path, f"it is larger than {size_words(MAX_BYTES)}, the most gpuctl reads of one file", too_large=True)
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise damaged(self.path, "it is not text") from None
        except FileRefused as exc:  # a device or an endless file where the journal belongs
            raise damaged(self.path, exc.problem) from None
        lines = text.splitlines()
        last: dict[str, dict] = {}
        for number, line in enumerate(lines, 1):
            entry = _entry(line)
            if entry is None and number == len(lines) and not text.endswith("\n"):
                continue  # a torn last line after kill -9
            if entry is None:
                raise damaged(self.path, f"line {number} is not a journal entry")
            last[entry["address"]] = entry
        return {a: e["at"] for a, e in last.items() if e["state"] in ("intent", "ambiguous", "unseen")}

    def clear(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def _entry(line: str) -> dict | None:
    """One journal line as written by `record`, or None when it is not one."""
    _, entry = json_in(line)
    valid = (isinstance(entry, dict) and isinstance(entry.get("address"), str) and isinstance(entry.get("state"), str)
             and isinstance(entry.get("at"), (int, float)) and not isinstance(entry.get("at"), bool))
    return entry if valid else None
