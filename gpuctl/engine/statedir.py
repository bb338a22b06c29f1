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
    """Make sure the directory holding `path` exists and is a directory, with the
    `.gitignore` that keeps `.gpu/` out of git; return `path`."""
    directory = path.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise StateDirError(f"{directory} is not a directory", hint=f"move or delete the file {directory}; gpuctl keeps its lock and journal there. {SAFE}") from None
    except PermissionError:
        raise StateDirError(f"permission denied creating {directory}", hint="run gpu as a user who can write to the project directory") from None
    _ignored_by_git(directory)
    if path.is_dir():
        raise StateDirError(f"{path} is a directory, where gpuctl keeps a file", hint=f"delete {path}; {SAFE}")
    return path


IGNORE = "# gpuctl's local state (lock, journal): never commit it; deleting .gpu/ is always safe\n*\n"


def _ignored_by_git(directory: Path) -> None:
    """`.gpu/.gitignore` ignoring everything in `.gpu/`, as pytest and ruff do for their caches:
    `git add -A` after a deploy would otherwise commit this checkout's lock and journal, and
    another checkout (a CI runner) would read them as its own."""
    marker = directory / ".gitignore"
    if directory.name != ".gpu" or marker.exists():
        return
    try:
        marker.write_text(IGNORE)
    except OSError:
        pass  # a read-only or odd directory: the lock and journal matter more than this
