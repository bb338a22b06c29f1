"""The `serverless` block as the rest of gpuctl reads it, and the quick check that reads a valid
one without pydantic.

`gpuctl.config.schema` (pydantic) is the specification: it generates schema/gpu.schema.json and
explains every invalid block with a located diagnostic. Building its models costs about 150 ms
per start, more than a whole 1,000-endpoint plan may take (issue 11), so a block is first read
here by plain checks that accept only what the models accept. Anything they are unsure of, an
invalid block included, goes to pydantic, whose answer is converted to these types
(`from_model`), so both roads give equal values; tests/test_config_shape.py holds them to that,
bound by bound (docs/adr/0012-config-quick-path.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

# Patterns shared with the pydantic models. Python's `\s` covers every character Rust's does,
# and `fullmatch` never accepts a trailing newline that `$` would, so this side never accepts
# a value pydantic-core's regex engine refuses.
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
# A name people read: no control characters (ESC, NUL, newlines) anywhere, no whitespace at either end.
PRINTABLE_NAME = r"^[^\s\x00-\x1f\x7f-\x9f]([^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f])?$"
PRINTABLE = r"^[^\x00-\x1f\x7f-\x9f]*$"
MOUNT_PATH = r"^/[^\x00-\x1f\x7f-\x9f]*$"
REPO_ID = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(:[A-Za-z0-9_./-]+)?$"
SECRET_NAME = r"^[A-Za-z0-9_.-]+$"
PORT = r"^[0-9]{1,5}/(http|tcp)$"
ENDPOINT_ID = r"^[A-Za-z0-9_-]+$"
TEMPLATES = ("auto", "comfyui", "vllm", "whisper", "custom-image")
TOP_LEVEL_KEYS = ("$schema", "project_id", "provider", "serverless", "policy")

_SURROGATE = re.compile("[\ud800-\udfff]")  # rare, and pydantic-core's regex engine reads such a str its own way


@dataclass(frozen=True)
class Scaling:
    min_workers: int = 0
    max_workers: int = 3
    idle_timeout: int = 5
    declared: frozenset[str] = frozenset()  # the keys the file gives (pydantic's model_fields_set)


@dataclass(frozen=True)
class Volume:
    name: str
    size_gb: int | None = None
    mount_path: str = "/runpod-volume"
    declared: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Prewarm:
    enabled: bool = False
    mode: str = "cpu"
    models: list[str] = field(default_factory=list)
    declared: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SecretRef:
    secret: str
    declared: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RunpodSettings:
    flashboot: bool = True
    scaler_type: str = "queue_delay"
    scaler_value: int = 4
    execution_timeout_ms: int = 600_000
    container_disk_gb: int | None = None
    data_center_ids: list[str] = field(default_factory=list)
    data_centers_required: bool | None = None
    env: dict[str, str | SecretRef] = field(default_factory=dict)
    cached_model: str | None = None
    image_name: str | None = None
    ports: list[str] | None = None
    registry_auth: str | None = None
    declared: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LocalSettings:
    command: list[str] | str
    cwd: str | None = None
    declared: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ServerlessBlock:
    template: str = "auto"
    name: str | None = None
    gpu_type: str | None = None
    gpu_types: list[str] = field(default_factory=list)
    scaling: Scaling = field(default_factory=Scaling)
    volume: Volume | bool | None = None  # False: gpu.jsonc says no volume is wanted
    prewarm: Prewarm = field(default_factory=Prewarm)
    runpod: RunpodSettings = field(default_factory=RunpodSettings)
    local: LocalSettings | None = None
    adopt: str | None = None
    renamed_from: str | None = None
    declared: frozenset[str] = frozenset()


class _Unsure(Exception):
    """The quick check cannot vouch for a value: pydantic decides."""


Check = Callable[[Any], Any]


def _text(low: int = 0, high: int | None = None, pattern: str | None = None) -> Check:
    compiled = re.compile(pattern) if pattern else None

    def check(value: Any) -> str:
        if type(value) is not str or len(value) < low or (high is not None and len(value) > high):
            raise _Unsure
        if not value.isascii() and _SURROGATE.search(value):
            raise _Unsure
        if compiled is not None and not compiled.fullmatch(value):
            raise _Unsure
        return value
    return check


def _int(low: int, high: int) -> Check:
    def check(value: Any) -> int:
        if type(value) is not int or not low <= value <= high:
            raise _Unsure
        return value
    return check


def _one_of(*choices: Any) -> Check:
    def check(value: Any) -> Any:
        if not any(type(value) is type(c) and value == c for c in choices):
            raise _Unsure
        return value
    return check


def _optional(inner: Check) -> Check:
    return lambda value: None if value is None else inner(value)


def _list(item: Check, low: int = 0) -> Check:
    def check(value: Any) -> list:
        if type(value) is not list or len(value) < low:
            raise _Unsure
        return [item(v) for v in value]
    return check


def _either(*checks: Check) -> Check:
    def check(value: Any) -> Any:
        for one in checks:
            try:
                return one(value)
            except _Unsure:
                continue
        raise _Unsure
    return check


def _object(cls: type, rules: dict[str, Check]) -> Check:
    """A dict with every key `cls` requires and no key but `rules`' (each checked), as `cls`;
    missing keys take its defaults."""
    required = {f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING}

    def check(value: Any) -> Any:
        if type(value) is not dict or not required <= value.keys() <= rules.keys():
            raise _Unsure
        return cls(**{k: rules[k](v) for k, v in value.items()}, declared=frozenset(value))
    return check


def _env(value: Any) -> dict:
    if type(value) is not dict:
        raise _Unsure
    return {_ENV_KEY(k): _ENV_VALUE(v) for k, v in value.items()}


_BOOL = _one_of(True, False)
_ENV_KEY = _text(pattern=ENV_NAME)
_ENV_VALUE = _either(_text(), _object(SecretRef, {"secret": _text(pattern=SECRET_NAME)}))
_BLOCK = _object(ServerlessBlock, {
    "template": _one_of(*TEMPLATES),
    "name": _optional(_text(1, 191, PRINTABLE_NAME)),
    "gpu_type": _optional(_text(1)),
    "gpu_types": _list(_text(1)),
    "scaling": _object(Scaling, {"min_workers": _int(0, 1000), "max_workers": _int(0, 1000), "idle_timeout": _int(1, 3600)}),
    "volume": _optional(_either(_one_of(False), _object(Volume, {
        "name": _text(1, 191, PRINTABLE_NAME), "size_gb": _optional(_int(10, 4096)), "mount_path": _text(pattern=MOUNT_PATH)}))),
    "prewarm": _object(Prewarm, {"enabled": _BOOL, "mode": _one_of("cpu", "gpu"), "models": _list(_text(1))}),
    "runpod": _object(RunpodSettings, {
        "flashboot": _BOOL,
        "scaler_type": _one_of("queue_delay", "request_count"),
        "scaler_value": _int(1, 3600),
        "execution_timeout_ms": _int(5_000, 604_800_000),
        "container_disk_gb": _optional(_int(1, 4096)),
        "data_center_ids": _list(_text(1)),
        "data_centers_required": _optional(_BOOL),
        "env": _env,
        "cached_model": _optional(_text(pattern=REPO_ID)),
        "image_name": _optional(_text(1, pattern=PRINTABLE)),
        "ports": _optional(_list(_text(pattern=PORT))),
        "registry_auth": _optional(_text(1, 191, PRINTABLE_NAME)),
    }),
    "local": _optional(_object(LocalSettings, {"command": _either(_list(_text(1), low=1), _text(1)), "cwd": _optional(_text())})),
    "adopt": _optional(_text(1, 64, ENDPOINT_ID)),
    "renamed_from": _optional(_text(1, 191, PRINTABLE_NAME)),
})


def read_block(raw: Any) -> ServerlessBlock | None:
    """The block, when the quick checks can vouch that pydantic accepts `raw`; else None."""
    try:
        return _BLOCK(raw)
    except _Unsure:
        return None


def from_model(model: Any) -> Any:
    """A validated pydantic block (or part of one) as the types above, which share its names."""
    cls = globals()[type(model).__name__]
    values = {f.name: _plain(getattr(model, f.name)) for f in fields(cls) if f.name != "declared"}
    return cls(**values, declared=frozenset(model.model_fields_set))


def _plain(value: Any) -> Any:
    if hasattr(value, "model_fields_set"):
        return from_model(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
