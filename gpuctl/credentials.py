"""Where the RunPod API key comes from: RUNPOD_API_KEY wins over the stored key file.

The key file is `credentials.json` in the config directory, mode 0600 in a directory of mode
0700 whatever the umask, replaced atomically so a crash leaves the old key or the new one,
never half of either. The key is never accepted as a command-line flag and never printed.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gpuctl.errors import GpuctlError, UsageError
from gpuctl.files import FileUnreadable, read_json, replace_text

ENV_VAR = "RUNPOD_API_KEY"
FILE_MODE, DIR_MODE = 0o600, 0o700


def config_dir(environ: Mapping[str, str]) -> Path:
    if environ.get("GPUCTL_CONFIG_DIR"):
        return Path(environ["GPUCTL_CONFIG_DIR"])
    base = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME", str(Path.home()))) / ".config")
    return Path(base) / "gpuctl"


def key_file(environ: Mapping[str, str]) -> Path:
    return config_dir(environ) / "credentials.json"


class KeyProblem(GpuctlError):
    """A key is configured but cannot be used: a key file that is damaged or unreadable, or a
    key with characters no API key has. Named by where it comes from, never quoted. It is an
    error, not "no key": with no key a person at a terminal would silently get the local
    provider, and CI would be told to log in when it already has."""

    def __init__(self, summary: str, *, source: str, hint: str):
        super().__init__(summary, hint=hint)
        self.source = source


def api_key(environ: Mapping[str, str]) -> tuple[str | None, str]:
    """(key, where it came from); (None, "nowhere") when no key is configured. A key that is
    configured but unusable raises KeyProblem."""
    if environ.get(ENV_VAR):
        where = f"the {ENV_VAR} environment variable"
        _usable(environ[ENV_VAR], where, hint=f"set {ENV_VAR} to the key exactly as RunPod shows it (no spaces or line breaks), or unset it to use the stored key")
        return environ[ENV_VAR], where
    key = read_key_file(environ)
    return (key, str(key_file(environ))) if key else (None, "nowhere")


def read_key_file(environ: Mapping[str, str]) -> str | None:
    """The key in the key file; None when there is no key file. A key file that is there but
    cannot be read, is not `{"api_key": "..."}` or holds no usable key raises KeyProblem."""
    path = key_file(environ)
    fix = f"run `gpu auth login` to store the key again (it replaces {path.name}), or `gpu auth logout` to remove it; or set {ENV_VAR}"
    holds = 'it does not hold {"api_key": "..."}'
    try:
        # a key file is under 200 bytes; gpuctl writes it, so only a regular file will do (a
        # named pipe there, opened as a pipe, had `gpu auth status` wait for a writer for ever)
        document = read_json(path, limit=64 * 1024, pipes=False)
    except FileUnreadable as exc:
        if exc.missing:
            return None
        if not exc.json:
            raise KeyProblem(f"the API key file {path} cannot be read: {exc.problem}", source=str(path), hint=fix) from None
        at = f" (line {exc.line}, column {exc.col})" if exc.line is not None else ""
        raise KeyProblem(f"the API key file {path} is damaged: {holds}: {exc.problem}{at}", source=str(path), hint=fix) from None
    key = document.get("api_key") if isinstance(document, dict) else None
    if not isinstance(key, str) or not key:
        raise KeyProblem(f"the API key file {path} is damaged: {holds}", source=str(path), hint=fix)
    _usable(key, str(path), hint=fix)
    return key


def stored_key(environ: Mapping[str, str]) -> str | None:
    """The key in the key file; None when there is no file or it holds no usable key (for
    reports that show a damaged file as a problem of their own)."""
    try:
        return read_key_file(environ)
    except KeyProblem:
        return None


def _usable(key: str, where: str, hint: str) -> None:
    try:
        check_shape(key)
    except UsageError as error:
        raise KeyProblem(f"the API key in {where} {error.summary.removeprefix('the API key ')}", source=where, hint=hint) from None


def check_shape(key: str) -> str:
    """The key as it will travel in the Authorization header. The error never quotes it."""
    if not key:
        raise UsageError("the API key is empty")
    if not key.isascii() or any(c.isspace() or not c.isprintable() for c in key):
        raise UsageError("the API key contains spaces or characters an API key never has", hint="paste the key exactly as RunPod shows it")
    return key


def mask(key: str) -> str:
    """`rpa_…XYZ9`: enough to tell keys apart, never enough to use one (short keys show no tail)."""
    prefix = key[:4] if key.startswith("rpa_") else ""
    return f"{prefix}…{key[-4:] if len(key) >= 20 else ''}"


@dataclass(frozen=True)
class Stored:
    path: Path
    loose_dir_mode: int | None  # the directory's mode before it was tightened to 0700, if it was


def store_key(environ: Mapping[str, str], key: str) -> Stored:
    """Write `{"api_key": key}` at mode 0600 in a 0700 directory, atomically and durably
    (`files.replace_text`: a temp file created 0600 by an O_EXCL open, fsync, rename over the
    old file, fsync the directory). The modes are set explicitly, so the umask plays no part."""
    path = key_file(environ)
    try:
        loose = _private_dir(path.parent)
        replace_text(path, json.dumps({"api_key": check_shape(key)}) + "\n", mode=FILE_MODE, durable=True)
    except OSError as exc:
        raise GpuctlError(f"cannot store the API key in {path.parent}: {exc.strerror or exc}", hint="check that the directory is yours and writable, or set GPUCTL_CONFIG_DIR") from None
    return Stored(path, loose)


def remove_key(environ: Mapping[str, str]) -> bool:
    """Delete the key file, and any temp file a login killed mid-write left (it may hold a
    key too); False when there was no key file."""
    path = key_file(environ)
    try:
        for stale in path.parent.glob(f".{path.name}.*.tmp"):
            stale.unlink(missing_ok=True)
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise GpuctlError(f"cannot remove {path}: {exc.strerror or exc}",
                          hint=f"check that {path.parent} is a directory you can write to, or remove {path} by hand") from None
    _fsync_dir(path.parent)
    return True


def loose_permissions(environ: Mapping[str, str]) -> list[tuple[Path, int]]:
    """(path, mode) of the key file and its directory when group or others can get at them."""
    path = key_file(environ)
    found = []
    for item, private in ((path.parent, DIR_MODE), (path, FILE_MODE)):
        with contextlib.suppress(OSError):
            mode = stat.S_IMODE(item.stat().st_mode)
            if mode & ~private & 0o077:
                found.append((item, mode))
    return found


def _private_dir(directory: Path) -> int | None:
    """Create `directory` (and any missing parent, as XDG asks for $XDG_CONFIG_HOME) with mode
    0700, and tighten it to 0700 if it already existed with another mode (returned)."""
    missing = []
    probe = directory
    while not os.path.lexists(probe):
        missing.append(probe)
        probe = probe.parent
    for item in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(item, DIR_MODE)
            os.chmod(item, DIR_MODE)
    if not directory.is_dir():
        raise NotADirectoryError(20, "not a directory", str(directory))
    before = stat.S_IMODE(directory.stat().st_mode)
    if before == DIR_MODE:
        return None
    os.chmod(directory, DIR_MODE)
    return before


def _fsync_dir(directory: Path) -> None:
    """Make a rename or unlink durable (best effort: some file systems refuse)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
