"""Where everything lives in a data dir, and the exit codes of `python -m gpuctl.local`.

| path | what |
|---|---|
| `server.lock` | held (flock) by the running server for its lifetime: the liveness test no pid can fake |
| `server.json` | pid, port, URLs and start time of the running server |
| `token` | the access token, kept across restarts and resets |
| `state.db` | SQLite (WAL): endpoints, templates, volumes, pods, releases, jobs |
| `volumes/<id>/`, `logs/<endpoint>/<worker>.jsonl`, `homes/<worker or pod>/` | volumes, logs, private homes |
| `server.log` | the server's own stderr |
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path


class ServerExit(IntEnum):
    """Why the server process did not start; the client turns each into its own message."""

    OK = 0
    ALREADY_RUNNING = 3
    PORT_IN_USE = 4
    DATA_DIR = 5
    DAMAGED_STATE = 6


@dataclass(frozen=True)
class DataDir:
    root: Path

    @property
    def lock(self) -> Path:
        return self.root / "server.lock"

    @property
    def server_json(self) -> Path:
        return self.root / "server.json"

    @property
    def token(self) -> Path:
        return self.root / "token"

    @property
    def state_db(self) -> Path:
        return self.root / "state.db"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    @property
    def volumes(self) -> Path:
        return self.root / "volumes"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def homes(self) -> Path:
        """Each worker's and pod's own HOME and default directory, removed when it exits."""
        return self.root / "homes"

    def saved_token(self) -> str | None:
        """The token written by a server of this data dir, or None when there is none yet."""
        with contextlib.suppress(OSError):
            return self.token.read_text().strip() or None
        return None
