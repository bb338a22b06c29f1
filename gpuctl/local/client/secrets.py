"""`gpu local secret set|list|delete`: the local provider's secrets, which a worker's
`{{ RUNPOD_SECRET_<name> }}` env values resolve to (gpuctl.local.datadir.secrets). They live in
the data dir, so these work whether or not the server runs, and a worker started afterwards
sees the change (as a RunPod worker does when it next boots). No function here returns or
prints a value."""

from __future__ import annotations

from pathlib import Path

from gpuctl.local.client.lifecycle import LocalProviderError
from gpuctl.local.datadir import secrets
from gpuctl.local.datadir.layout import DataDir

MAX_VALUE_BYTES = secrets.MAX_VALUE_BYTES
SET_HINT = "printf %s \"$VALUE\" | gpu local secret set NAME"


def _store(data_dir: Path) -> secrets.Secrets:
    return secrets.Secrets(DataDir(data_dir).secrets)


def name_problem(name: str) -> str | None:
    """Why `name` cannot name a secret (as RunPod's rule, less `/`), or None."""
    return secrets.name_problem(name)


def names(data_dir: Path) -> list[str]:
    """The local secrets' names, sorted."""
    return _store(data_dir).names()


def put(data_dir: Path, name: str, value: str) -> bool:
    """Create or replace secret `name` (True: replaced); LocalProviderError for a name or value
    RunPod would refuse too, never quoting the value."""
    problem = secrets.name_problem(name)
    if problem is not None:
        raise LocalProviderError(f"gpu local secret set: {problem}", hint="use the name gpu.jsonc's {\"secret\": NAME} gives, such as hf_token")
    problem = secrets.value_problem(value)
    if problem is not None:
        raise LocalProviderError(f"gpu local secret set {name}: {problem}", hint=f"send the value on stdin: {SET_HINT}")
    return _store(data_dir).put(name, value)


def delete(data_dir: Path, name: str) -> bool:
    """Remove secret `name`; False when there was none."""
    return _store(data_dir).delete(name)
