"""`pull`: rewrite gpu.jsonc's text so it declares what the account holds, field by field.

The input is the plan's `resource_changes` (the versioned document, with each change's
`origin`) and the live endpoints; the output is the new text and a report. A change whose
origin is "config" is git's own and is kept (pulling it would undo the commit). Values come
from `from_account`, edits from `edit`, so comments and layout survive. Nothing secret is
written: an env value gpu.jsonc reads from `${VAR}` or a RunPod secret, an env value the
account added, and one the account holds in place of gpu.jsonc's literal (it may be a credential
pasted in the console), are listed for the user instead, unless `--literal-env KEY` says that
key's value is no secret. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from gpuctl.commands import NONE, Flags, suggest
from gpuctl.catalog import Catalog
from gpuctl.config import edit, from_account, references
from gpuctl.config.from_account import GPU_KEYS, Key, secret_name
from gpuctl.config.loader import Block, LoadedConfig
from gpuctl.config.shape import PRINTABLE_NAME
from gpuctl.config.sourcemap import dotted
from gpuctl.v2 import env_of

ABSENT = object()


@dataclass(frozen=True)
class Pulled:
    address: str
    field: str  # the planner's path, e.g. workers.max
    key: str  # the gpu.jsonc key written, e.g. serverless.scaling.max_workers
    origin: str  # "account" | "both" | "unknown"
    before: Any
    after: Any  # None with removed
    removed: bool = False


@dataclass(frozen=True)
class Left:
    """A difference pull does not write: why, and what to do instead."""

    address: str
    field: str
    origin: str
    reason: str


@dataclass
class PullResult:
    text: str
    pulled: list[Pulled] = field(default_factory=list)
    left: list[Left] = field(default_factory=list)  # for the user to handle
    kept: list[Left] = field(default_factory=list)  # changed in gpu.jsonc: deploy applies them


def _block_name(loaded: LoadedConfig, block: Block) -> str:
    return block.model.name or loaded.project_id


def _raw(data: Any, path: tuple) -> Any:
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return ABSENT
    return data


def _model(block: Block, key: Key) -> Any:
    value: Any = block.model
    for part in key:
        value = getattr(value, part, None)
    return value


def _before(key: tuple) -> tuple[str, ...]:
    """The keys that precede `key` in its object in the schema's order: a key pull inserts goes
    after the last of them the file has (`gpu_types` after `gpu_type`), so the file reads in order."""
    from gpuctl.config.schema import RunpodSettings, Scaling, ServerlessBlock, Volume

    model = {(): ServerlessBlock, ("scaling",): Scaling, ("runpod",): RunpodSettings, ("volume",): Volume}.get(tuple(key[:-1]))
    names = list(model.model_fields) if model else []
    return tuple(names[:names.index(key[-1])]) if key[-1] in names else ()


def indirect(value: Any) -> str | None:
    """How gpu.jsonc hides an env value, which pull therefore never writes: "${VAR}" or a
    RunPod secret; None for a literal. Also what a rollback of such a value asks to be set."""
    if hasattr(value, "secret"):
        return f'the RunPod secret "{value.secret}"'
    if references.names(value):
        return f"{value} (read from the deploying environment)"
    return None


def literal_changed(key: str, flags: Flags = NONE) -> str:
    """Why pull leaves an env literal of gpu.jsonc that the account holds another value for, and
    what works instead. The account's value may be a credential someone pasted in the console
    (drift and plan show it as "(sensitive)"): copied into gpu.jsonc it would be committed in clear
    and shown in the next pull request's plan."""
    return (f"changed in the account; its value is not copied (it may be a secret pasted in the console): if it is no secret, "
            f"`{suggest('serverless', 'pull', '--write', '--literal-env', key, flags=flags)}` copies it; if it is one, declare it as \"${{VAR}}\" or "
            f"{{\"secret\": \"NAME\"}}; `{suggest('serverless', 'deploy', '-y', flags=flags)}` writes gpu.jsonc's value back")


class _Puller:
    """One pull: the text as edited so far and the report, built one endpoint at a time."""

    def __init__(self, text: str, loaded: LoadedConfig, endpoints: dict[str, dict], volumes: list[dict], catalog: Catalog,
                 literal: frozenset[str] = frozenset(), registries: list[dict] | None = None, flags: Flags = NONE):
        self.result = PullResult(text)
        self.flags = flags  # the run's options, which the commands of its advice repeat
        self.loaded, self.endpoints, self.volumes, self.catalog = loaded, endpoints, volumes, catalog
        self.literal, self.registries = literal, registries

    # -- recording ----------------------------------------------------------------------------

    def leave(self, address: str, path: str, origin: str, reason: str) -> None:
        self.result.left.append(Left(address, path, origin, reason))

    def write(self, block: Block, key: tuple, value: Any, why: tuple[str, str, str]) -> None:
        """Set (or with ABSENT remove) `key` of `block`; an edit the text cannot take is left
        for the user instead."""
        address, path, origin = why
        full = block.prefix + key
        before = _raw(self.loaded.source.data, full)
        try:
            if value is ABSENT:
                self.result.text = edit.remove(self.result.text, full)
            else:
                self.result.text = edit.set_value(self.result.text, full, value, after=_before(key))
        except edit.EditError as problem:
            self.leave(address, path, origin, f"{problem.summary}; edit {dotted(full)} by hand")
            return
        self.result.pulled.append(Pulled(address, path, dotted(full), origin, None if before is ABSENT else before,
                                         None if value is ABSENT else value, value is ABSENT))

    # -- one endpoint -------------------------------------------------------------------------

    def endpoint(self, change: dict, block: Block) -> None:
        address, live = change["address"], self.endpoints.get(change.get("id") or "")
        if live is None:
            return
        current_gpus = [g for g in [block.model.gpu_type, *block.model.gpu_types] if g]
        reading = from_account.read(live, self.catalog, self.volumes, current_gpus, self.registries)
        problems = {p.field: p.message for p in reading.problems}
        todo: dict[Key, tuple[str, str, str]] = {}
        for fc in change.get("changes") or []:
            path, origin = fc["path"], fc.get("origin") or "unknown"
            why = (address, path, origin)
            if origin == "config":
                self.result.kept.append(Left(address, path, origin, "changed in gpu.jsonc since the last apply; deploy applies it"))
            elif path.startswith("env.GPUCTL_"):
                self.leave(address, path, origin, "gpuctl's own marker: never written to gpu.jsonc; deploy restores it")
            elif path == "name" and change.get("drift") == "renamed-in-account":
                self.renamed(block, live, why)
            elif path in problems:
                self.leave(address, path, origin, f"gpu.jsonc cannot declare it: {problems[path]}")
            elif path.startswith("env."):
                self.env(block, live, path[4:], why)
            elif not from_account.config_keys(path):
                self.leave(address, path, origin, "gpu.jsonc cannot declare this field")
            else:
                for key in from_account.config_keys(path):
                    todo.setdefault(key, why)
        if GPU_KEYS[0] in todo:
            self.gpus(block, reading, todo.pop(GPU_KEYS[0]))
            todo.pop(GPU_KEYS[1], None)
        for key, why in todo.items():
            self.key(block, live, key, reading.values.get(key), why)

    def renamed(self, block: Block, live: dict, why: tuple[str, str, str]) -> None:
        """The endpoint was renamed in the account (ADR 59): the block takes the account's name, so
        the plan matches the endpoint by name again (no `renamed_from`: the account holds no
        endpoint of the old name to rename). A name gpu.jsonc cannot hold is left."""
        name = live.get("name")
        if not isinstance(name, str) or len(name) > 191 or not re.fullmatch(PRINTABLE_NAME, name):
            return self.leave(*why, f"the account's name {name!r} is no name gpu.jsonc can hold; "
                                    f"`{suggest('serverless', 'deploy', '-y', flags=self.flags)}` renames the endpoint back")
        self.write(block, ("name",), name, why)

    def gpus(self, block: Block, reading: from_account.Reading, why: tuple[str, str, str]) -> None:
        primary, rest = reading.values.get(("gpu_type",)), reading.values.get(("gpu_types",)) or []
        if primary is None or {primary, *rest} == {block.model.gpu_type, *block.model.gpu_types}:
            return
        if primary != block.model.gpu_type:
            self.write(block, ("gpu_type",), primary, why)
        if rest != list(block.model.gpu_types):
            self.write(block, ("gpu_types",), rest, why)

    def key(self, block: Block, live: dict, key: Key, want: Any, why: tuple[str, str, str]) -> None:
        template = self.catalog.templates[block.template.resolved]
        if key == ("volume",):
            return self.volume(block, live, why)
        if key == ("runpod", "cached_model"):
            return self.cached_model(block, live, want, why)
        if key == ("scaling", "idle_timeout") and want is None:
            return  # request_count endpoints have no idle timeout to declare
        effective = _model(block, key)
        if key == ("runpod", "image_name"):
            effective = effective or template.image
        if key == ("runpod", "container_disk_gb"):
            effective = effective or template.disk_gb
        if key == ("runpod", "ports"):
            want = want or []
        if key == ("runpod", "registry_auth") and want is None:  # cleared in the account: without the key gpuctl leaves it unset
            return self.write(block, key, ABSENT, why)
        if want is None:  # the account answers null (absent fields never reach here: the planner leaves them out)
            return self.leave(*why, f"the account holds null (no value) for it, which gpu.jsonc cannot declare at {dotted(block.prefix + key)}: "
                                    "gpu.jsonc keeps its value, which deploy sets again; set it by hand if the account is right")
        if want == effective and type(want) is type(effective):
            return
        self.write(block, key, want, why)
        if key == ("runpod", "image_name") and block.template.requested == "auto" and block.template.resolved != "custom-image":
            self.write(block, ("template",), block.template.resolved, why)  # an image_name would turn auto into custom-image

    def volume(self, block: Block, live: dict, why: tuple[str, str, str]) -> None:
        attached, _ = from_account.volume_of(live, self.volumes)
        declared = block.model.volume
        if attached is None:
            if declared:
                self.write(block, ("volume",), False, why)
            return
        allowed = live.get("dataCenterIds") or []
        if allowed and attached.get("dataCenter") not in allowed:
            return self.leave(*why, f'the attached volume "{attached.get("name")}" is in {attached.get("dataCenter")}, outside the endpoint\'s data centers; '
                                    "gpu.jsonc finds volumes in runpod.data_center_ids only")
        if not declared:
            return self.write(block, ("volume",), {"name": attached.get("name")}, why)
        if declared.name == attached.get("name"):
            return self.leave(*why, f'a volume named "{declared.name}" in {attached.get("dataCenter")} is attached; '
                                    "which volume of that name gpuctl uses follows runpod.data_center_ids: set it by hand")
        self.write(block, ("volume", "name"), attached.get("name"), why)
        if declared.size_gb is not None and attached.get("size") and attached.get("size") != declared.size_gb:
            self.write(block, ("volume", "size_gb"), attached.get("size"), why)

    def gone_credential(self, block: Block, value: str, change: dict | None) -> None:
        """The block's `runpod.registry_auth` names a credential the account no longer has."""
        key = ("runpod", "registry_auth")
        address = change["address"] if change else f"endpoint.{_block_name(self.loaded, block)}"
        live = self.endpoints.get((change or {}).get("id") or "")
        if live is None:
            return self.leave(address, "registry", "config", f"{dotted(block.prefix + key)} names {value!r}, a container registry credential the account "
                                                             "does not have: create it in the RunPod console (Settings > Container Registry Auth) "
                                                             "before deploying, or remove the key if the image is public")
        if any(p.address == address and p.field == "registry" for p in self.result.pulled):
            return  # the plan saw the endpoint's other credential: written by name already
        want = from_account.read(live, self.catalog, self.volumes, [], self.registries).values.get(key)
        self.write(block, key, ABSENT if want is None else want, (address, "registry", "account"))

    def grown_volume(self, change: dict, blocks: list[Block]) -> None:
        """A volume grown in the account (labelled larger-in-account): each block that declares
        it with a smaller `size_gb` takes the live size, which deploy keeps anyway (volumes never
        shrink)."""
        live = next((v.get("size") for v in self.volumes if v.get("id") == change.get("id")), None)
        if not isinstance(live, int) or isinstance(live, bool):
            return
        for block in blocks:
            declared = block.model.volume
            dcs = list(block.model.runpod.data_center_ids or [])
            if (not declared or declared is True or declared.name != change.get("name") or declared.size_gb is None or declared.size_gb >= live
                    or (dcs and change.get("data_center") not in dcs)):
                continue
            self.write(block, ("volume", "size_gb"), live, (change["address"], "size", "account"))

    def cached_model(self, block: Block, live: dict, want: str | None, why: tuple[str, str, str]) -> None:
        if want == block.model.runpod.cached_model:
            return
        env_model = env_of(live).get("MODEL_NAME")
        derived = block.template.resolved == "vllm" and "MODEL_NAME" not in block.model.runpod.env and block.model.runpod.cached_model
        self.write(block, ("runpod", "cached_model"), ABSENT if want is None else want, why)
        if derived and env_model:  # MODEL_NAME was derived from cached_model; keep the account's
            self.write(block, ("runpod", "env", "MODEL_NAME"), env_model, why)

    def env(self, block: Block, live: dict, key: str, why: tuple[str, str, str]) -> None:
        declared = block.model.runpod.env.get(key, ABSENT)
        value = env_of(live).get(key, ABSENT)
        derived = key == "MODEL_NAME" and declared is ABSENT and block.template.resolved == "vllm" and block.model.runpod.cached_model
        if secret_name(value):
            return self.write(block, ("runpod", "env", key), {"secret": secret_name(value)}, why)
        hidden = indirect(declared)
        if hidden:
            return self.leave(*why, f"gpu.jsonc reads it from {hidden}; pull never writes secrets: change it there")
        if value is ABSENT and derived:
            return self.leave(*why, "removed in the account, but gpuctl sets MODEL_NAME from runpod.cached_model for vllm; "
                                    "remove cached_model or declare MODEL_NAME yourself")
        if value is ABSENT:
            return self.write(block, ("runpod", "env", key), ABSENT, why) if declared is not ABSENT else None
        if value is None:
            return self.leave(*why, "the account holds null (no value) for it, which gpu.jsonc cannot declare as an env value: "
                                    "gpu.jsonc keeps its value; set it by hand if the account is right")
        if key in self.literal:  # --literal-env KEY: the user says the account's value is no secret
            return self.write(block, ("runpod", "env", key), value, why)
        if declared is ABSENT and not derived:
            return self.leave(*why, 'added in the account; its value is not copied (env values from the account may be secrets): '
                                    'declare it yourself as {"secret": "NAME"}, "${VAR}" or, if it is no secret, a literal '
                                    f"(`{suggest('serverless', 'pull', '--write', '--literal-env', key, flags=self.flags)}` copies it)")
        if not derived:
            return self.leave(*why, literal_changed(key, self.flags))
        self.write(block, ("runpod", "env", key), value, why)


def unreported_reason(flags: Flags = NONE) -> str:
    return ("the account did not report it (the field is absent from its answer, not null), so whether it changed cannot be told: "
            f"gpu.jsonc keeps its value; `{suggest('doctor', flags=flags)}` checks the account's answers")


def pull(text: str, loaded: LoadedConfig, resource_changes: list[dict], endpoints: dict[str, dict], volumes: list[dict],
         catalog: Catalog, only: str | None = None, unreported: dict[str, list[str]] | None = None,
         literal: frozenset[str] = frozenset(), registries: list[dict] | None = None, flags: Flags = NONE,
         gone: dict[str, str] | None = None) -> PullResult:
    """gpu.jsonc's `text` rewritten to declare the account's values of every endpoint change
    (of endpoint `only`, when given) whose origin is not "config". `unreported`: by address,
    the declared fields the account's answer left out (the planner compares them with nothing):
    nothing is written for them, and each is listed as left, so "nothing to pull" never claims
    a value pull did not see. `literal`: the env keys whose account values the user says are no
    secret (`--literal-env`): written as literals; any other env value gpu.jsonc does not hold is
    left, with what to do. `flags`: the run's options, which each command suggested repeats.
    `gone`: by block name, the `runpod.registry_auth` the account has no credential for (the
    plan was made as if the block did not declare it): the key takes the endpoint's credential,
    by name, or is removed when the endpoint has none (what RunPod leaves when the credential is
    deleted); a block with no endpoint yet keeps it, listed with what to do."""
    puller = _Puller(text, loaded, endpoints, volumes, catalog, literal, registries, flags)
    blocks = {_block_name(loaded, b): b for b in loaded.blocks}
    for change in resource_changes:
        if change.get("kind") == "network_volume" and change.get("drift") == "larger-in-account":
            puller.grown_volume(change, [b for b in loaded.blocks if not only or _block_name(loaded, b) == only])
            continue
        if change.get("kind") != "endpoint" or (only and change.get("name") != only):
            continue
        for path in (unreported or {}).get(change["address"], ()):
            puller.leave(change["address"], path, "unknown", unreported_reason(puller.flags))
        drift = change.get("drift")
        if change.get("action") == "orphan" or drift == "orphan":
            puller.leave(change["address"], "", "account", "owned by this project but not in gpu.jsonc; "
                         f"`{suggest('serverless', 'import', change.get('id') or change['name'], '--write', flags=puller.flags)}` writes its block")
        elif drift == "deleted-in-account":
            puller.leave(change["address"], "", "account", "deleted in the account; pull never removes a block: remove it yourself, or deploy to re-create it (a new id and URL)")
        elif change.get("action") in ("update", "replace") and change.get("name") in blocks:
            puller.endpoint(change, blocks[change["name"]])
    for name, value in (gone or {}).items():
        if name in blocks and (not only or name == only):
            puller.gone_credential(blocks[name], value, next((c for c in resource_changes if c.get("kind") == "endpoint" and c.get("name") == name), None))
    return puller.result
