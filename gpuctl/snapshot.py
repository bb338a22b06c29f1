"""The observed-state snapshot file: `{"provider": "runpod", "endpoints": [...],
"networkVolumes": [...], "templates": [...], "registries": [...]}`, whose items are RunPod REST
v2 objects exactly as the list calls return them. Written by hand for tests and reviews, or
captured from a live account. `provider` says which provider the account belongs to, so a plan
against the snapshot plans for that provider; it is optional, since hand-written and older
snapshots lack it. `registries` (the container registry credentials, `{id, name}` each: RunPod
never returns a credential) is optional too: without it the snapshot cannot resolve a block's
`runpod.registry_auth`, and the plan says to take a new snapshot."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gpuctl.commands import NONE, Flags, suggest
from gpuctl.errors import SnapshotError
from gpuctl.files import FileUnreadable, read_json
from gpuctl.model import REDACTED, Observed, acyclic, written_env
from gpuctl.redact import APPLIED_ENV, shared_digests
from gpuctl.spelling import did_you_mean

KEYS = ("endpoints", "networkVolumes", "templates", "registries")
_SURROGATE = re.compile("[\ud800-\udfff]")  # a str pydantic-core cannot hold
def _capture(flags: Flags = NONE, out: str = "--out FILE") -> str:
    """The command that captures a snapshot, with the run's options (`flags`)."""
    return suggest("serverless", "snapshot", *out.split(), flags=flags)


def _hint(flags: Flags = NONE) -> str:
    return f"items are RunPod REST v2 objects as the list calls return them; capture a snapshot with `{_capture(flags)}`"
PROVIDERS = ("runpod", "local")


@dataclass(frozen=True)
class Snapshot:
    observed: Observed
    provider: str | None  # None: the snapshot does not say (hand-written, or taken before it was recorded)


def parse_snapshot(data: Any, display: str, flags: Flags = NONE) -> Snapshot:
    """The snapshot in `data`; `flags`: the run's options, which the command its errors suggest repeats."""
    if not isinstance(data, dict):
        raise SnapshotError(f"{display}: a snapshot is a JSON object", hint='write {"endpoints": [], "networkVolumes": [], "templates": []}, '
                                                                            f"or capture one with `{_capture(flags)}`")
    for key in data:
        if key not in KEYS and key != "provider":
            raise SnapshotError(f'{display}: unknown key "{key}"', hint=did_you_mean(key, [*KEYS, "provider"]) or f"the keys are provider, {', '.join(KEYS)}")
    provider = data.get("provider")
    if provider is not None and provider not in PROVIDERS:
        raise SnapshotError(f"{display}: provider must be runpod or local, not {json.dumps(provider)}", hint="it names the provider the snapshot was taken from")
    lists = {}
    for key, fits in ITEM_CHECKS.items():
        items = data.get(key, [])
        if not isinstance(items, list):
            raise SnapshotError(f"{display}: {key} must be a list of RunPod v2 objects, not {_kind(items)}", hint=_hint(flags))
        for i, item in enumerate(items):
            if not fits(item):
                _check_item(key, item, f"{display}: {key}[{i}]", flags)
        lists[key] = tuple(items)
    registries = lists["registries"] if "registries" in data else None  # None: not recorded, unknown (not "none")
    return Snapshot(Observed(lists["endpoints"], lists["networkVolumes"], lists["templates"], registries=registries), provider)


def _text(value: Any) -> bool:
    return type(value) is str and (value.isascii() or not _SURROGATE.search(value))


def _optional(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: value is None or check(value)


def _texts(value: Any) -> bool:
    return type(value) is list and all(_text(v) for v in value)


def _object(required: dict[str, Callable[[Any], bool]], optional: dict[str, Callable[[Any], bool]]) -> Callable[[Any], bool]:
    """A dict with the required keys and string keys only; every field listed has its type,
    the others any value."""
    rules = {**required, **{k: _optional(check) for k, check in optional.items()}}

    def fits(item: Any) -> bool:
        if type(item) is not dict or not required.keys() <= item.keys() or not all(type(k) is str for k in item):
            return False
        return all(check(item[k]) for k, check in rules.items() if k in item)
    return fits


def _env(value: Any) -> bool:
    return type(value) is dict and all(_text(k) and _text(v) for k, v in value.items())


def _integer(value: Any) -> bool:
    return type(value) is int  # strict, as the models are: a bool is not an int


def _number(value: Any) -> bool:
    return type(value) in (int, float)


# The types of gpuctl.snapshot_items' models, checked without pydantic: False means "ask the models".
ITEM_CHECKS: dict[str, Callable[[Any], bool]] = {
    "endpoints": _object({"id": _text, "name": _text}, {
        "type": _text, "image": _text, "disk": _integer, "env": _env, "timeout": _integer, "flashboot": _text,
        "gpu": _object({}, {"pools": _texts, "excludedTypes": _texts, "count": _integer, "allowedCudaVersions": _texts, "minCudaVersion": _text}),
        "workers": _object({}, {"min": _integer, "max": _integer, "idleTimeout": _integer}),
        "scaling": _object({}, {"type": _text, "queueDelay": _number, "requestCount": _number}),
        "dataCenterIds": _texts, "networkVolumes": _texts, "ports": _texts, "modelReferences": _texts, "registry": _text, "args": _text}),
    "networkVolumes": _object({"id": _text, "name": _text, "size": _integer, "dataCenter": _text}, {}),
    "templates": _object({"id": _text, "name": _text}, {"env": _env}),
    "registries": _object({"id": _text, "name": _text}, {}),
}


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false", int: "a number", float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def _check_item(key: str, item: Any, where: str, flags: Flags = NONE) -> None:
    """An item the quick checks did not accept, judged by the models of `gpuctl.snapshot_items`:
    the fields gpuctl reads must have RunPod's types; others are kept as they are."""
    from pydantic import ValidationError

    from gpuctl.snapshot_items import ITEM_MODELS

    if not isinstance(item, dict):
        raise SnapshotError(f"{where} is {_kind(item)}, not a RunPod v2 object", hint=_hint(flags))
    try:
        ITEM_MODELS[key].model_validate(item)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"])
        problem = "is missing" if err["type"] == "missing" else f"has the wrong type ({_kind(err.get('input'))}): {err['msg'].lower()}"
        raise SnapshotError(f"{where}{path} {problem}", hint=_hint(flags)) from None


@acyclic
def read_snapshot(path: Path, shown: str | None = None, flags: Flags = NONE) -> Snapshot:
    """The snapshot at `path`, named `shown` (as the user typed it) in its errors, which
    suggest commands with the run's options (`flags`)."""
    capture = f"capture a snapshot with `{_capture(flags)}`"
    name = path if shown is None else shown
    try:
        data = read_json(path, shown=shown)
    except FileUnreadable as exc:
        if exc.missing:
            raise SnapshotError(f"{name} does not exist", hint=f"capture one with `{_capture(flags, '--out account.json')}`, or write one by hand") from None
        if isinstance(exc.cause, IsADirectoryError):
            raise SnapshotError(f"{name} is a directory", hint="pass the snapshot file itself to --observed") from None
        if not exc.json:  # a device (FileRefused), a file too large, permission denied
            raise SnapshotError(f"cannot read the snapshot {name}: {exc.problem}", hint=f"pass a snapshot file to --observed: {capture}") from None
        hint = "a snapshot is RunPod v2 objects a few levels deep; " + capture if isinstance(exc.cause, RecursionError) else capture
        raise SnapshotError(f"{exc.place}: {exc.problem}", hint=hint) from None
    return parse_snapshot(data, str(name), flags)


def snapshot_document(observed: Observed, shown_env: Callable[[dict, str], bool] | None = None, provider: str | None = None) -> dict:
    """The snapshot of `observed`, recording `provider` when given. With `shown_env`, an
    endpoint env value is written only when `shown_env(endpoint, key)` says so, and is REDACTED
    otherwise, other templates' env values (but gpuctl's GPUCTL_* markers) are REDACTED, and the
    env digests of last-applied records are written as "set": a snapshot is
    meant to be shared (CI artifacts, fork pull requests) and the account may hold secrets."""
    endpoints, templates = list(observed.endpoints), list(observed.templates)
    if shown_env is not None:
        endpoints = [{**e, "env": {k: (v if shown_env(e, k) else REDACTED) for k, v in (e.get("env") or {}).items()}} if "env" in e else e for e in endpoints]
        by_id = {str(e.get("id")): e for e in endpoints}
        templates = [_shared_record(_own_env_only(t), by_id) for t in templates]
    recorded = {"provider": provider} if provider else {}
    listed = {"registries": [{"id": r.get("id"), "name": r.get("name")} for r in observed.registries]} if observed.registries is not None else {}
    return recorded | {"endpoints": endpoints, "networkVolumes": list(observed.network_volumes), "templates": templates} | listed


def _own_env_only(template: dict) -> dict:
    """A template with the values of its env REDACTED but gpuctl's own GPUCTL_* markers and
    records (which gpuctl reads back): a template made in the console may hold a token, and
    only gpuctl's records are read from a snapshot's templates."""
    env = template.get("env")
    if not isinstance(env, dict) or all(written_env(k) for k in env):
        return template
    return {**template, "env": {k: (v if written_env(k) else REDACTED) for k, v in env.items()}}


def _shared_record(template: dict, endpoints: dict[str, dict]) -> dict:
    """A template with its last-applied record's env digests written as "set" (`shared_digests`):
    a digest next to the endpoint id would let an env literal the snapshot redacts be guessed.
    The digest of a value the snapshot shows (`endpoints`, by id, as written) tells nothing more
    and is kept: without it a plan against the snapshot would take a literal gpu.jsonc holds,
    equal to the account's, for one it must write (`drift._guess_hidden`). The block digest kept
    with each apply (ADR 37) is left out for the same reason: it is over every field's digest, so
    with the others known it would confirm a guess of the one literal redacted; a plan against
    the snapshot then labels as records without it do."""
    env = template.get("env")
    if not isinstance(env, dict) or APPLIED_ENV not in env:
        return template
    from gpuctl.plan.drift import APPLIED_FROM_ENV, RECORD_PREFIX, ROLLED_BACK_ENV, digest, sources_env, sources_of

    if APPLIED_FROM_ENV in env:
        env = {**env, APPLIED_FROM_ENV: sources_env([[s[0], None, *s[2:]] for s in sources_of(template)])}

    endpoint_id = str(template.get("name") or "").removeprefix(RECORD_PREFIX)
    written = endpoints.get(endpoint_id, {}).get("env") or {}

    def shown(path: str, kept: str) -> bool:
        value = written.get(path.removeprefix("env."))
        return isinstance(value, str) and value != REDACTED and digest(endpoint_id, path, value) == kept

    if ROLLED_BACK_ENV in env:
        env = {**env, ROLLED_BACK_ENV: _shared_rollback(env[ROLLED_BACK_ENV])}
    return {**template, "env": {**env, APPLIED_ENV: shared_digests(env[APPLIED_ENV], shown)}}


def _shared_rollback(text: Any) -> Any:
    """A rollback's record (drift.ROLLED_BACK_ENV) with each keyed digest of an env value it
    wrote (`drift.keyed_digest`) written as "set": its key is the record's digest of that env key,
    which the snapshot keeps when it shows the literal, so the HMAC of an older value the rollback
    restored (maybe a secret's then) could be checked against guesses offline. A plan against the
    snapshot then calls who set that value unknown (`RolledBack.made`). Anything not a record's
    shape is left for the planner to ignore."""
    from gpuctl.plan.drift import KEYED, SET

    try:
        doc = json.loads(text) if isinstance(text, str) else None
    except (ValueError, RecursionError):
        return text
    digests = doc.get("digests") if isinstance(doc, dict) else None
    if not isinstance(digests, dict):
        return text
    shared = {k: (SET if isinstance(v, str) and v.startswith(KEYED) else v) for k, v in digests.items()}
    return json.dumps({**doc, "digests": shared}, sort_keys=True, separators=(",", ":"))
