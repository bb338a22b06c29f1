"""`.gpu/` beside gpu.jsonc: the lock, the journal, saved records. Everything in it speeds
things up or explains a crash; none of it is the truth (the account is), so deleting `.gpu/`
is always safe and every error about it says so."""

from __future__ import annotations

from pathlib import Path

from gpuctl.errors import GpuctlError

SAFE = "deleting .gpu/ is always safe: gpuctl keeps nothing there that the account does not also say"


class StateDirError(GpuctlError):
    """A file of ours in `.gpu/` is damaged or in the way."""


def damaged(path: Path, problem: str) -> StateDirError:
    return StateDirError(f"{path} is damaged: {problem}", hint=f"delete {path} (or the whole .gpu/ directory) and run again; {SAFE}")


def prepare(path: Path) -> Path:
    """Make sure the directory holding `path` exists and is a directory; return `path`."""
    directory = path.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise StateDirError(f"{directory} is not a directory", hint=f"move or delete the file {directory}; gpuctl keeps its lock and journal there. {SAFE}") from None
    except PermissionError:
        raise StateDirError(f"permission denied creating {directory}", hint="run gpu as a user who can write to the project directory") from None
    if path.is_dir():
        raise StateDirError(f"{path} is a directory, where gpuctl keeps a file", hint=f"delete {path}; {SAFE}")
    return path
