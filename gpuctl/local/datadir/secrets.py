"""The local provider's secrets: what `{{ RUNPOD_SECRET_<name> }}` in a worker's or pod's env
resolves to, as RunPod's account secrets do when a worker boots (docs/local-provider.md#secrets,
docs/adr/0032-local-secrets.md).

One file per secret, `secrets/<name>`, holding the value alone: 0600 in a 0700 directory,
written fresh and renamed into place (`private.write_new`). Values go only into a started
process's environment, and to the CLI, which protects them (never prints them: what a worker
hands back is masked); nothing here prints one, and no API answer, log line or error message
carries one (RunPod's API never returns a secret's value).

`Secrets.read` is the one reader, for the worker's start and for `gpu local secret list`
alike: an entry of a secret's name that is not a secret gpuctl wrote (a link, a FIFO, a
directory, bytes that are not UTF-8, an empty or oversized file, edited by hand or by a
program) is DamagedSecret, the same verdict in both (review 4, R4-9: workers said the provider
"does not have" a secret that `list` listed, and an empty file reached the worker as "").

Standard library only: the CLI (`gpu local secret ...`) imports this, and works with or
without a running server; a worker started after a change gets the new value, as on RunPod.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
from pathlib import Path

from gpuctl.local.datadir import private

# RunPod's rule (api-reference-v2 create-a-secret: a letter or '_' first, at most 191
# characters, no reserved RUNPOD prefix), less '/', which cannot name a file and which gpuctl's
# `{{ RUNPOD_SECRET_<name> }}` reader (gpuctl.model.SECRET_REF) does not take either.
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,190}")
# A value becomes one environment variable, which Linux caps at 128 KiB (MAX_ARG_STRLEN).
MAX_VALUE_BYTES = 128 * 1024 - 1
REFERENCE = re.compile(r"\{\{\s*RUNPOD_SECRET_([A-Za-z0-9_.-]+)\s*\}\}")


def name_problem(name: str) -> str | None:
    """Why `name` cannot name a secret, or None."""
    if not NAME.fullmatch(name):
        return (f"{name!r} is not a secret name: start with a letter or '_', then letters, digits, '_', '.' or '-', "
                "at most 191 characters")
    if name.upper().startswith("RUNPOD"):
        return f"{name!r} is not a secret name: names starting with RUNPOD are reserved (as on RunPod)"
    return None


def value_problem(value: str) -> str | None:
    """Why `value` cannot be a secret's value (never quoting it), or None."""
    if not value:
        return "the value is empty (RunPod refuses an empty secret too)"
    if "\0" in value:
        return "the value holds a NUL character, which no environment variable can carry"
    if len(value.encode()) > MAX_VALUE_BYTES:
        return f"the value is too long: an environment variable holds at most {MAX_VALUE_BYTES} bytes (this one: {len(value.encode())})"
    return None


class DamagedSecret(Exception):
    """What is at a secret's name is no secret gpuctl wrote: `why` in words (never quoting a
    byte of it), and the fix, which `str()` ends with."""

    def __init__(self, name: str, why: str, path: Path, fix: str | None = None):
        self.name, self.why, self.path = name, why, path
        self.key: str | None = None  # the env key that refers to it, when resolving one
        again = f"set it again with `gpu local secret set {name}`"
        fix = fix or (f"remove the directory {path}, then {again}" if why.startswith("it is a directory") else again)
        super().__init__(f"secret {name} is damaged ({why}): {fix}")


class DamagedStore(Exception):
    """The data dir's `secrets` is there but is no directory (a file, a link to nothing, ...):
    no secret can be read, written or deleted, and none is "not there" (stop 17, D2: `list`
    said there were none, `delete` that there was none, workers that the provider "does not
    have" it, and `set` failed with an internal error). `why` in words, and the fix."""

    def __init__(self, directory: Path, why: str):
        self.directory, self.why = directory, why
        self.fix = f"move {directory} out of the way, then set each secret again with `gpu local secret set NAME`"
        super().__init__(f"{directory} is not a directory ({why}), so it holds no secrets")


_KINDS = ((stat.S_ISLNK, "it is a symbolic link, not a file gpuctl wrote"), (stat.S_ISDIR, "it is a directory, not a file"),
          (stat.S_ISFIFO, "it is a named pipe (FIFO), not a file"), (stat.S_ISSOCK, "it is a socket, not a file"),
          (stat.S_ISCHR, "it is a character device, not a file"), (stat.S_ISBLK, "it is a block device, not a file"))


def _kind_problem(mode: int) -> str | None:
    return next((why for test, why in _KINDS if test(mode)), None if stat.S_ISREG(mode) else "it is not a regular file")


_STORE_KINDS = ((stat.S_ISREG, "it is a file"), (stat.S_ISFIFO, "it is a named pipe (FIFO)"), (stat.S_ISSOCK, "it is a socket"),
                (stat.S_ISCHR, "it is a character device"), (stat.S_ISBLK, "it is a block device"))


class Secrets:
    """The secret files of one data dir (`<data dir>/secrets/`)."""

    def __init__(self, directory: Path):
        self.directory = directory

    def store_problem(self) -> DamagedStore | None:
        """What is wrong with the secrets directory itself, or None: none there yet (no secret
        made) is nothing wrong, and nor is a link to a directory."""
        try:
            mode = os.lstat(self.directory).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return None
        if stat.S_ISDIR(mode):
            return None
        if stat.S_ISLNK(mode):
            try:
                if stat.S_ISDIR(os.stat(self.directory).st_mode):
                    return None
            except OSError:
                return DamagedStore(self.directory, "it is a symbolic link to nothing")
            return DamagedStore(self.directory, "it is a symbolic link to something else than a directory")
        return DamagedStore(self.directory, next((why for test, why in _STORE_KINDS if test(mode)), "it is something else than a directory"))

    def _check_store(self) -> None:
        problem = self.store_problem()
        if problem is not None:
            raise problem

    def names(self) -> list[str]:
        """The names of the secrets there are, sorted, damaged ones included (`read` says what
        is wrong with one); no value is read. A name a secret cannot have (`.x.tmp`, the file
        `write_new` is writing) is not one. DamagedStore when the directory is no directory."""
        self._check_store()
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            return sorted(e.name for e in os.scandir(self.directory) if name_problem(e.name) is None)
        return []

    def read(self, name: str) -> str | None:
        """The value of secret `name`, or None when there is no such secret; DamagedSecret when
        what is there is not a secret gpuctl wrote: anything but a regular file (a link is not
        followed, a FIFO not waited on), more than an environment variable holds, bytes that are
        not UTF-8, or a value `secret set` refuses (empty, a NUL)."""
        if name_problem(name) is not None:
            return None
        path = self.directory / name
        store = self.store_problem()
        if store is not None:
            raise DamagedSecret(name, f"{store.directory} is not a directory: {store.why}", path, fix=store.fix)
        try:
            kind = _kind_problem(os.lstat(path).st_mode)  # before open: opening a device can itself do something
            if kind is None:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except (FileNotFoundError, NotADirectoryError):  # as `names` sees it: no secret
            return None
        except OSError as exc:  # replaced by a link since the lstat (ELOOP), or not ours to read
            kind = _KINDS[0][1] if exc.errno == errno.ELOOP else f"it cannot be read: {exc.strerror or exc}"
        if kind is not None:
            raise DamagedSecret(name, kind, path)
        try:
            info = os.fstat(fd)
            kind = _kind_problem(info.st_mode)
            if kind is not None:
                raise DamagedSecret(name, kind, path)
            data = b""
            while info.st_size <= MAX_VALUE_BYTES and len(data) <= MAX_VALUE_BYTES and (chunk := os.read(fd, MAX_VALUE_BYTES + 1 - len(data))):
                data += chunk
            if info.st_size > MAX_VALUE_BYTES or len(data) > MAX_VALUE_BYTES:  # a file growing as it is read too
                raise DamagedSecret(name, f"it is larger than {MAX_VALUE_BYTES:,} bytes, the most one environment variable holds", path)
        except OSError as exc:
            raise DamagedSecret(name, f"it cannot be read: {exc.strerror or exc}", path) from None
        finally:
            os.close(fd)
        try:
            value = data.decode("utf-8")
        except UnicodeDecodeError:
            raise DamagedSecret(name, "its bytes are not UTF-8 text", path) from None
        if not value:
            raise DamagedSecret(name, "the file is empty, and RunPod refuses an empty secret too", path)
        if "\0" in value:
            raise DamagedSecret(name, "it holds a NUL character, which no environment variable can carry", path)
        return value

    def problem(self, name: str) -> DamagedSecret | None:
        """What is wrong with secret `name` (`read`'s verdict), or None: for `list`, which never
        shows a value."""
        try:
            self.read(name)
        except DamagedSecret as damaged:
            return damaged
        return None

    def put(self, name: str, value: str) -> bool:
        """Create or replace secret `name`; True when it existed. The caller has checked both.
        DamagedStore when the secrets directory is no directory, DamagedSecret when a directory
        is in the secret's place."""
        self._check_store()
        path = self.directory / name
        existed = os.path.lexists(path)
        if path.is_dir() and not path.is_symlink():
            raise DamagedSecret(name, "it is a directory, not a file", path)
        private.make_dir(self.directory)
        private.write_new(self.directory / name, value)
        return existed

    def delete(self, name: str) -> bool:
        """Remove secret `name` (a damaged one too: a link is removed, never followed); False
        when there was none. DamagedStore when the secrets directory is no directory, and
        DamagedSecret when a directory is in the secret's place, which gpuctl does not remove
        (stop 17, D2: both were "there is no local secret")."""
        if name_problem(name) is not None:
            return False
        self._check_store()
        path = self.directory / name
        try:
            if stat.S_ISDIR(os.lstat(path).st_mode):
                raise DamagedSecret(name, "it is a directory, not a file", path)
            path.unlink()
        except (FileNotFoundError, NotADirectoryError):
            return False
        except IsADirectoryError:  # made a directory since the lstat
            raise DamagedSecret(name, "it is a directory, not a file", path) from None
        return True


def references(value: str) -> list[str]:
    """The secret names `value` refers to (`{{ RUNPOD_SECRET_<name> }}`), in order."""
    return REFERENCE.findall(value)


class MissingSecret(Exception):
    """An env value refers to a secret there is none of."""

    def __init__(self, key: str, name: str):
        super().__init__(f"env {key} refers to secret {name}, which the local provider does not have")
        self.key, self.name = key, name


def resolve(env: dict[str, str], secrets: Secrets) -> dict[str, str]:
    """`env` with every `{{ RUNPOD_SECRET_<name> }}` replaced by the secret's value (RunPod
    substitutes them when a worker boots). MissingSecret names the first key whose reference
    has no secret, DamagedSecret (with its `key` set) the first whose secret is damaged;
    nothing is started with the placeholder text in place of a credential."""
    out = dict(env)
    for key, value in env.items():
        if "RUNPOD_SECRET_" not in value:
            continue

        def value_of(found: re.Match, key: str = key) -> str:
            try:
                got = secrets.read(found.group(1))
            except DamagedSecret as damaged:
                damaged.key = key
                raise
            if got is None:
                raise MissingSecret(key, found.group(1))
            return got

        out[key] = REFERENCE.sub(value_of, value)
    return out
