"""The local provider's secrets: what `{{ RUNPOD_SECRET_<name> }}` in a worker's or pod's env
resolves to, as RunPod's account secrets do when a worker boots (docs/local-provider.md#secrets,
docs/adr/0032-local-secrets.md).

One file per secret, `secrets/<name>`, holding the value alone: 0600 in a 0700 directory,
written fresh and renamed into place (`private.write_new`), so listing the names never reads a
value. Values go only into a started process's environment: nothing here prints them, and no
API answer, log line or error message carries one (RunPod's API never returns a secret's value).

Standard library only: the CLI (`gpu local secret ...`) imports this, and works with or
without a running server; a worker started after a change gets the new value, as on RunPod.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from pathlib import Path

from gpuctl.files import FileRefused, read_text
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


class Secrets:
    """The secret files of one data dir (`<data dir>/secrets/`)."""

    def __init__(self, directory: Path):
        self.directory = directory

    def names(self) -> list[str]:
        """The names of the secrets there are, sorted; no value is read."""
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            return sorted(e.name for e in os.scandir(self.directory) if e.is_file(follow_symlinks=False) and name_problem(e.name) is None)
        return []

    def value(self, name: str) -> str | None:
        """The value of secret `name`, or None when there is no such secret (or what is there is
        not a secret file gpuctl wrote: a link, a FIFO, bytes that are not UTF-8)."""
        if name_problem(name) is not None:
            return None
        try:
            if not stat.S_ISREG(os.lstat(self.directory / name).st_mode):
                return None
            return read_text(self.directory / name, limit=MAX_VALUE_BYTES, pipes=False)
        except (OSError, FileRefused, UnicodeDecodeError):
            return None

    def put(self, name: str, value: str) -> bool:
        """Create or replace secret `name`; True when it existed. The caller has checked both."""
        existed = (self.directory / name).is_file()
        private.make_dir(self.directory)
        private.write_new(self.directory / name, value)
        return existed

    def delete(self, name: str) -> bool:
        """Remove secret `name`; False when there was none."""
        if name_problem(name) is not None:
            return False
        try:
            (self.directory / name).unlink()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return False
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
    has no secret; nothing is started with the placeholder text in place of a credential."""
    out = dict(env)
    for key, value in env.items():
        if "RUNPOD_SECRET_" not in value:
            continue

        def value_of(found: re.Match, key: str = key) -> str:
            got = secrets.value(found.group(1))
            if got is None:
                raise MissingSecret(key, found.group(1))
            return got

        out[key] = REFERENCE.sub(value_of, value)
    return out
