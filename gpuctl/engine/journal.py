"""A write-ahead journal in `.gpu/journal.jsonl`: before each write, the intent; after, the
outcome. A later run reads unfinished intents to wait out RunPod's delayed visibility before
concluding that a create never happened. Losing the file must never cause a duplicate: the
engine always looks an object up by identity before creating it. Only addresses and ids are
written, never values."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Journal:
    path: Path | None  # None: no journal (nothing is written)

    def record(self, address: str, op: str, state: str, resource_id: str | None = None) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        entry = {"at": time.time(), "address": address, "op": op, "state": state, "id": resource_id}
        with open(self.path, "a") as f:
            f.write(json.dumps(entry) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def unfinished(self) -> dict[str, float]:
        """Addresses whose last entry is an intent (or an ambiguous outcome), with its time."""
        if self.path is None or not self.path.exists():
            return {}
        last: dict[str, dict] = {}
        for line in self.path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a torn last line after kill -9
            last[entry.get("address")] = entry
        return {a: e["at"] for a, e in last.items() if e.get("state") in ("intent", "ambiguous")}

    def clear(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)
