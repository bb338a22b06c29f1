"""`gpu local secret set|list|delete`: the local provider's secrets, which a worker's
`{{ RUNPOD_SECRET_<name> }}` env values resolve to (gpuctl.local.datadir.secrets). They live in
the data dir, so these work whether or not the server runs, and a worker started afterwards
sees the change (as a RunPod worker does when it next boots). No function here prints a
value; `protector` reads them only to hand them to the CLI's redaction (AppContext.protect)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from gpuctl.local.client.lifecycle import LocalProviderError
from gpuctl.local.datadir import secrets
from gpuctl.local.datadir.layout import DataDir

MAX_VALUE_BYTES = secrets.MAX_VALUE_BYTES
SET_HINT = "printf %s \"$VALUE\" | gpu local secret set NAME"


def _store(data_dir: Path) -> secrets.Secrets:
    return secrets.Secrets(DataDir(data_dir).secrets)


@contextmanager
def _store_named() -> Iterator[None]:
    """A secrets directory that is no directory, as the CLI's error: what is there, and the fix."""
    try:
        yield
    except secrets.DamagedStore as exc:
        raise LocalProviderError(str(exc), hint=exc.fix) from None


def name_problem(name: str) -> str | None:
    """Why `name` cannot name a secret (as RunPod's rule, less `/`), or None."""
    return secrets.name_problem(name)


def names(data_dir: Path) -> list[str]:
    """The local secrets' names, sorted."""
    with _store_named():
        return _store(data_dir).names()


def damaged(data_dir: Path) -> list[secrets.DamagedSecret]:
    """The verdict on each damaged local secret, by name: what a worker's start says of it too
    (Secrets.read, the one reader)."""
    store = _store(data_dir)
    with _store_named():
        return [problem for name in store.names() if (problem := store.problem(name)) is not None]


class _EveryNameDamaged(Mapping):
    """The verdicts when the secrets directory is no directory: every name has the one a
    worker's start gives (`Secrets.read`'s), and no name is listed."""

    def __init__(self, store: secrets.Secrets):
        self.store = store

    def __getitem__(self, name: str) -> str:
        return str(self.store.problem(name))

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def verdicts(data_dir: Path) -> Mapping[str, str | None]:
    """Each local secret's name, with None when a worker can be given it, else the verdict on
    the damaged one (its words and fix, as a worker's start and `list` give them): what the
    plan knows of the local provider's secrets (Observed.secrets). No value is kept."""
    store = _store(data_dir)
    if store.store_problem() is not None:
        return _EveryNameDamaged(store)
    return {name: (str(problem) if (problem := store.problem(name)) is not None else None) for name in store.names()}


def protector(data_dir: Path) -> Callable[[str], list[str]]:
    """For an env value, what a worker started now is given from its `{{ RUNPOD_SECRET_<name> }}`
    references: each local secret's value, and the value resolved when it holds other text too
    (none for a secret there is none of, or a damaged one: no worker starts then). For the
    commands that print what workers wrote, which mask these as they mask a `${VAR}`'s value
    (gpuctl.cli.resolve.env_secrets); never for printing."""
    store = _store(data_dir)

    def read(name: str) -> str | None:
        try:
            return store.read(name)
        except secrets.DamagedSecret:
            return None

    def given(value: str) -> list[str]:
        found = {name: got for name in secrets.references(value) if (got := read(name)) is not None}
        if not found:
            return []
        resolved = secrets.REFERENCE.sub(lambda ref: found.get(ref.group(1), ref.group(0)), value)
        return [*found.values(), *([resolved] if resolved not in found.values() else [])]

    return given


def put(data_dir: Path, name: str, value: str) -> bool:
    """Create or replace secret `name` (True: replaced); LocalProviderError for a name or value
    RunPod would refuse too, never quoting the value."""
    problem = secrets.name_problem(name)
    if problem is not None:
        raise LocalProviderError(f"gpu local secret set: {problem}", hint="use the name gpu.jsonc's {\"secret\": NAME} gives, such as hf_token")
    problem = secrets.value_problem(value)
    if problem is not None:
        raise LocalProviderError(f"gpu local secret set {name}: {problem}", hint=f"send the value on stdin: {SET_HINT}")
    try:
        with _store_named():
            return _store(data_dir).put(name, value)
    except secrets.DamagedSecret as exc:
        raise LocalProviderError(f"gpu local secret set {name}: {exc.path} is a directory, which gpuctl does not replace",
                                 hint=f"remove the directory {exc.path}, then run this again") from None


def delete(data_dir: Path, name: str) -> bool:
    """Remove secret `name`; False when there was none. What is in its place when that is a
    directory, or when the secrets directory is none, is named as the error (never "no
    secret": stop 17, D2)."""
    try:
        with _store_named():
            return _store(data_dir).delete(name)
    except secrets.DamagedSecret as exc:
        raise LocalProviderError(f"gpu local secret delete {name}: {exc.path} is a directory, not a secret gpuctl wrote, and gpuctl "
                                 "removes no directory", hint=f"remove the directory {exc.path} yourself if nothing in it is needed") from None
