"""The embedded local provider: a RunPod-compatible server on 127.0.0.1 that keeps its state
in SQLite and runs real, unmodified RunPod workers as local processes that scale to zero.

This package shares no code with the client side (config, plan, provider), so a misreading
of RunPod's API cannot hide in both. Importing it is cheap; the server's dependencies load
only in the server process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def ensure_running(data_dir: Path, port: int = 8787) -> dict[str, Any]:
    """The running server's server.json, starting the server first when none runs."""
    from gpuctl.local.lifecycle import ensure_running as start

    return start(Path(data_dir), port)


def read_server_info(data_dir: Path) -> dict[str, Any] | None:
    """server.json of the server running for `data_dir`, or None when none runs."""
    from gpuctl.local.lifecycle import read_server_info as read

    return read(Path(data_dir))


__all__ = ["ensure_running", "read_server_info"]
