"""Where everything lives in a data dir, and the exit codes of `python -m gpuctl.local`.

| path | what |
|---|---|
| `server.lock` | held (flock) by the running server for its lifetime: the liveness test no pid can fake |
| `server.json` | pid, port, URLs and start time of the running server |
| `token` | the access token, kept across restarts and resets |
| `state.db` | SQLite (WAL): endpoints, templates, volumes, pods, releases, jobs |
| `volumes/<id>/`, `logs/<endpoint>/<worker>.jsonl`, `homes/<worker or pod>/` | volumes, logs, private homes |
| `registries/<id>` | a container registry credential (0600; never answered, logged or rendered) |
| `server.log` | the server's own stderr |
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

from gpuctl.files import FileRefused, read_piece, read_text

OWN_FILE_LIMIT = 64 * 1024  # token and server.json are each under 300 bytes
TOKEN = re.compile(r"[!-~]+")  # what a header carries as is: printable ASCII, no spaces


class DamagedFile(Exception):
    """A file of the data dir that is there but cannot be what the server wrote: not a regular
    file (a FIFO, a link to /dev/zero), larger than OWN_FILE_LIMIT, not text, not a token."""

    def __init__(self, path: Path, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path, self.problem = path, problem


def read_own(path: Path) -> str:
    """The text of a small file the server writes itself, read through gpuctl's bounded reader
    (regular files only, opened without blocking): FileNotFoundError when it is absent,
    DamagedFile for anything else that keeps it from being read. Reading these with
    `Path.read_text` waited for ever on a FIFO and filled memory from a link to /dev/zero."""
    try:
        return read_text(path, limit=OWN_FILE_LIMIT, pipes=False)
    except FileNotFoundError:
        raise
    except UnicodeDecodeError:
        raise DamagedFile(path, "it is not UTF-8 text") from None
    except OSError as exc:
        raise DamagedFile(path, exc.strerror or str(exc)) from None


def read_own_piece(path: Path, offset: int, limit: int) -> bytes:
    """At most `limit` bytes from `offset` of a file the server writes and follows as it grows
    (a worker's log), through the same bounded reader as `read_own`: b"" when it is absent or
    is no regular file (a FIFO planted there would block the server, a link to a device could
    be endless, a directory cannot be read), so a damaged log holds nothing."""
    try:
        return read_piece(path, offset, limit)
    except (FileNotFoundError, IsADirectoryError, FileRefused):
        return b""


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
    def last_port(self) -> Path:
        return self.root / "last-port"

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
    def secrets(self) -> Path:
        """One 0600 file per local secret (`datadir.secrets`)."""
        return self.root / "secrets"

    @property
    def registries(self) -> Path:
        """One 0600 file per container registry credential (`controlplane.registries`)."""
        return self.root / "registries"

    @property
    def homes(self) -> Path:
        """Each worker's and pod's own HOME and default directory, removed when it exits."""
        return self.root / "homes"

    def saved_token(self) -> str | None:
        """The token written by a server of this data dir, or None when there is none yet (no
        file, or an empty one). DamagedFile when the file is there but holds no token."""
        try:
            text = read_own(self.token).strip()
        except FileNotFoundError:
            return None
        if text and not TOKEN.fullmatch(text):
            raise DamagedFile(self.token, "it does not hold an access token (printable ASCII without spaces)")
        return text or None

    def recorded_server(self) -> dict[str, Any] | None:
        """What server.json says, or None when it is absent or is not what a server writes (a
        stale or damaged one is replaced by the next server's start, and a running server puts
        its own back). Valid JSON of another shape is damage too: a URL that is a number crashed
        every command, and one that is not the server's own on 127.0.0.1 would have had the
        client send the token there."""
        try:
            doc = json.loads(read_own(self.server_json))
        except (OSError, ValueError, RecursionError, DamagedFile):
            return None
        return doc if server_document(doc) else None


def server_document(doc: Any) -> bool:
    """Whether `doc` is a server.json as the server writes it: a pid, a port, and the URLs of
    that port on 127.0.0.1."""
    if not isinstance(doc, dict):
        return False
    pid, port = doc.get("pid"), doc.get("port")
    if type(pid) is not int or pid <= 0 or type(port) is not int or not 0 < port < 65536 or not isinstance(doc.get("started_at"), str):
        return False
    url = f"http://127.0.0.1:{port}"
    return doc.get("url") == url and doc.get("api_base_url") == url and doc.get("endpoint_base_url") == f"{url}/ai/v2"
