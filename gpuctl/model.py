"""Frozen domain types shared by config, plan, provider and engine.

Desired state comes from gpu.jsonc; observed state is the account as RunPod's REST v2 list
calls return it. Nothing here does I/O.
"""

from __future__ import annotations

import functools
import gc
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

_P = ParamSpec("_P")
_R = TypeVar("_R")

MARKER_ENV = "GPUCTL_PROJECT"
LOCAL_COMMAND_ENV = "GPUCTL_LOCAL_COMMAND"
LOCAL_CWD_ENV = "GPUCTL_LOCAL_CWD"
RESERVED_ENV = (MARKER_ENV, LOCAL_COMMAND_ENV, LOCAL_CWD_ENV)
# gpuctl's namespace in an endpoint's env (GPUCTL_*): gpu.jsonc may declare no key in it
# (config.checks), and pull never writes one. Only the keys gpuctl itself writes (WRITTEN_ENV:
# its markers and records) are shown in clear by every output (redact.env_shown, a snapshot's
# templates) and digested in plain by a record; any other key there was set by someone else (the
# console, a gpu.jsonc deployed before such keys were refused) and may hold a secret (review 11, R11-3).
OWN_ENV = "GPUCTL_"
WRITTEN_ENV = frozenset({
    MARKER_ENV, LOCAL_COMMAND_ENV, LOCAL_CWD_ENV,
    # the last-applied record (gpuctl.plan.drift, gpuctl.redact.APPLIED_ENV)
    "GPUCTL_APPLIED", "GPUCTL_APPLIED_AT", "GPUCTL_APPLIED_FROM", "GPUCTL_APPLIES", "GPUCTL_ENDPOINT_NAME", "GPUCTL_ROLLED_BACK",
    "GPUCTL_CONFIG", "GPUCTL_REPOSITORY",
    "GPUCTL_PREWARM_CPU", "GPUCTL_PREWARM_GPU",  # the pre-warm record (gpuctl.prewarm.record_key)
    "GPUCTL_LEASE_HOLDER", "GPUCTL_LEASE_EXPIRES", "GPUCTL_LEASE_TOKEN", "GPUCTL_LEASE_HOST", "GPUCTL_LEASE_PID", "GPUCTL_LEASE_PID_SPACE",  # gpuctl.engine.lease
    "GPUCTL_WARM_MODELS",  # a CPU pre-warm pod's (gpuctl.warm.cpu)
})


def own_env(key: object) -> bool:
    """Whether env `key` is in gpuctl's namespace (OWN_ENV): gpu.jsonc may not declare it, pull never writes it."""
    return isinstance(key, str) and key.startswith(OWN_ENV)


def written_env(key: object) -> bool:
    """Whether env `key` is one gpuctl writes (WRITTEN_ENV), whose value is never a secret: the
    one test of every clear-text exemption. Another key of its namespace is a value like any other."""
    return isinstance(key, str) and key in WRITTEN_ENV


MODEL_TEMPLATES = ("comfyui", "vllm", "whisper")  # official workers that fetch models when they start
VLLM_DEFAULT_MODEL = "facebook/opt-125m"  # what RunPod's vLLM worker serves without MODEL_NAME (api-notes §7)
REDACTED = "(redacted by gpuctl)"  # an env value a snapshot left out; plans do not compare it


@dataclass(frozen=True)
class Sensitive:
    """A value that is never printed: its repr is "(sensitive)" and JSON shows it as
    {"sensitive": true}. `variables`: the `${VAR}`s gpu.jsonc read it from, which the plan names
    (`(sensitive, from $HF_TOKEN)`, {"sensitive": true, "from": ["HF_TOKEN"]}); a name is no
    secret, and two values are equal whatever they were read from."""

    value: str = field(repr=False)
    variables: tuple[str, ...] = field(default=(), compare=False)

    def __repr__(self) -> str:
        return sensitive_phrase(self.variables, secret_name(self.value))

    __str__ = __repr__


SECRET_REF = re.compile(r"^\{\{\s*RUNPOD_SECRET_([A-Za-z0-9_.-]+)\s*\}\}$")  # a RunPod secret reference, as gpu.jsonc's {"secret": NAME} is applied


def secret_name(value: Any) -> str | None:
    """The name of the RunPod secret `value` refers to (`{{ RUNPOD_SECRET_hf_tok }}`: "hf_tok"),
    a hidden value's included, or None. A reference holds no secret and its name is none (pull
    and import print it), so plans name it: which secret production reads is what review must see."""
    text = value.value if isinstance(value, Sensitive) else value
    found = SECRET_REF.fullmatch(text) if isinstance(text, str) else None
    return found.group(1) if found else None


def sensitive_phrase(variables: Any = (), secret: str | None = None) -> str:
    """"(sensitive)", "(sensitive, from $HF_TOKEN)", or "(RunPod secret hf_tok)" for a secret
    reference: how every rendering shows a hidden value."""
    if secret:
        return f"(RunPod secret {secret})"
    return f"(sensitive, from {' and '.join('$' + str(v) for v in variables)})" if variables else "(sensitive)"


@dataclass(frozen=True)
class Unresolved:
    """An env value read from `${VAR}`s that this plan-only run does not have (`deploy --plan`,
    `--observed`, `gpu github plan`): unknown, so the plan shows it as a possible change and
    never as in sync, and nothing applies it (docs/adr/0024-unknown-values-in-plans.md)."""

    variables: tuple[str, ...]  # the unset ones, in the order the value reads them

    def __repr__(self) -> str:
        return unknown_phrase(self.variables)

    __str__ = __repr__


def unknown_phrase(variables: Any) -> str:
    """"(from $API_TOKEN, unknown in this run)": how every rendering shows an unresolved value."""
    return f"(from {' and '.join('$' + str(v) for v in variables)}, unknown in this run)"


def reveal(value: Any) -> Any:
    return value.value if isinstance(value, Sensitive) else value


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused inside, and restored afterwards, whatever the
    block raised. A caller that paused it already keeps it paused: nested pauses cost nothing
    and the outermost restores it."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def acyclic(build: Callable[_P, _R]) -> Callable[_P, _R]:
    """`build` run with the cyclic collector paused (`collector_paused`). Reading gpu.jsonc and
    a snapshot, planning and writing the plan document allocate a few hundred objects per
    endpoint (dicts, lists, frozen values) and no reference cycles: reference counting frees
    them all, while every full collection walks all of them again, which at 10,000 endpoints
    was a quarter of a plan's time and grew faster than the account. The collector runs again
    afterwards, whatever `build` raised; anything cyclic made meanwhile is collected then. A
    command that only plans (`deploy --plan`, `--out`) pauses it for its whole run (ADR 13)."""
    @functools.wraps(build)
    def paused(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with collector_paused():
            return build(*args, **kwargs)
    return paused


@dataclass(frozen=True)
class Notice:
    """Something the plan tells people, attached to a resource address when there is one. A
    "warning" may need action; a "note" only explains what gpuctl or RunPod will do."""

    code: str
    message: str
    address: str = ""
    level: str = "warning"  # "warning" | "note"


@dataclass(frozen=True)
class VolumeSpec:
    name: str
    size_gb: int | None  # None: not declared; an existing volume is accepted at any size
    data_centers: tuple[str, ...]  # allowed data centers, in preference order; () = any
    mount_path: str = "/runpod-volume"


@dataclass(frozen=True)
class PrewarmSpec:
    enabled: bool = False
    mode: str = "cpu"
    models: tuple[str, ...] = ()


@dataclass(frozen=True)
class TemplateChoice:
    requested: str
    resolved: str
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class RegistryAuth:
    """`runpod.registry_auth`: a container registry credential, by the name the account shows or
    its id, with where gpu.jsonc says it (the key, and its file position when there is one), so
    that a name the account does not have is an error at the key. The plan resolves it to the
    credential's id (RunPod v2 `registry`)."""

    value: str
    key: str = ""
    file: str | None = field(default=None, compare=False)
    line: int | None = field(default=None, compare=False)
    col: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class EndpointSpec:
    name: str
    template: TemplateChoice
    image: str
    disk_gb: int
    gpu_types: tuple[str, ...]  # priority order, primary first
    workers_min: int
    workers_max: int
    idle_timeout: int
    scaler_type: str  # QUEUE_DELAY | REQUEST_COUNT
    scaler_value: int
    execution_timeout_ms: int
    flashboot: bool
    data_center_ids: tuple[str, ...]
    env: tuple[tuple[str, str | Sensitive], ...]  # sorted by key
    ports: tuple[str, ...] | None = None
    cached_model: str | None = None
    volume: VolumeSpec | None = None
    volume_declined: bool = False  # gpu.jsonc says "volume": false
    prewarm: PrewarmSpec = PrewarmSpec()
    local_command: tuple[str, ...] | None = None
    local_cwd: str | None = None
    adopt: str | None = None  # id of an endpoint to adopt (gpu.jsonc `adopt`, ADR 11)
    renamed_from: str | None = None  # the previous name of this project's endpoint, renamed in place (ADR 29)
    registry_auth: RegistryAuth | None = None  # the credential that pulls a private image; None: not declared, the account's is left alone


@dataclass(frozen=True)
class Override:
    flag: str
    path: str
    value: Any


@dataclass(frozen=True)
class Desired:
    project_id: str
    config_path: str
    endpoints: tuple[EndpointSpec, ...]
    provider: str | None = None
    notices: tuple[Notice, ...] = ()
    overrides: tuple[Override, ...] = ()
    config_id: str | None = None  # which gpu.jsonc this is, as the last-applied record keeps it (config.loader.config_identity, ADR 35); None: from flags alone
    # The root of the git repository config_id is the path from (config.loader.repository_root), where
    # another gpu.jsonc a last-applied record names is looked for (`config_missing`, ADR 52); None: not known
    # (no repository, a sparse checkout, or a fork's configs downloaded alone), and every such gpu.jsonc is taken to exist.
    config_root: str | None = None
    # Whether this checkout's HEAD descends from a commit (config.ancestry.Ancestry: git, asked once per
    # commit, only when `config_gone` needs it); None: no repository, and nothing is proven (ADR 52, R7-2).
    config_ancestor: Callable[[str | None], bool] | None = field(default=None, compare=False, repr=False)
    # Whether HEAD's tree has a file at a path from the repository root (config.ancestry.Ancestry.in_head,
    # git once per path); None (the callable's answer): git cannot tell. None (the field): no repository.
    config_in_head: Callable[[str], bool | None] | None = field(default=None, compare=False, repr=False)
    # Which repository this gpu.jsonc is in (gpuctl.author.repository: host:owner/repo; asked once, only by a
    # deploy's record writes and for an endpoint that left gpu.jsonc, ADR 60); None: nothing tells.
    config_repository: Callable[[], str | None] | None = field(default=None, compare=False, repr=False)

    def repository(self) -> str | None:
        """The repository this gpu.jsonc is in (`config_repository`); None when nothing tells."""
        return self.config_repository() if self.config_repository is not None else None

    def config_missing(self, recorded: str) -> bool:
        """Whether `recorded`, the gpu.jsonc a last-applied record names (its path from the
        repository root), is no file of this checkout's working tree. False when that cannot
        be told: no repository root (or a sparse checkout), or a name that is no path inside it
        (a record edited in the account). Missing alone proves nothing: the checkout may be of
        a commit older than that gpu.jsonc (`config_gone`). The one read of the disk a plan makes."""
        import os

        path = repository_path(recorded)
        if self.config_root is None or path is None:
            return False
        return not os.path.lexists(os.path.join(self.config_root, *path.split("/")))

    def config_gone(self, recorded: str, commit: str | None) -> bool:
        """Whether `recorded` left the repository, proven: it is missing here (`config_missing`)
        and `commit`, the one its last apply ran from (ADR 37), is an ancestor of this
        checkout's HEAD, so this checkout is newer than that apply and dropped the file, and
        HEAD's tree has no such file either (a deletion by hand, not committed, proves nothing:
        review 8). Only then may no config take its endpoints for its own but this one (ADR 52).
        False without a recorded commit, or when git cannot tell (a shallow clone lacking it, no git)."""
        return (self.config_missing(recorded) and self.config_ancestor is not None and bool(commit) and self.config_ancestor(commit)
                and self.config_in_head is not None and self.config_in_head(repository_path(recorded) or "") is False)

    def config_uncommitted(self, recorded: str) -> bool:
        """Whether `recorded`, missing here, is still in HEAD's tree: deleted in the working tree
        alone (by hand, or a move not committed yet)."""
        return self.config_missing(recorded) and self.config_in_head is not None and self.config_in_head(repository_path(recorded) or "") is True

    @property
    def needs_pods(self) -> bool:
        """A block declares a network volume: the plan reads the account's pods, to tell which
        of them mount it (one list call; none otherwise)."""
        return any(spec.volume is not None for spec in self.endpoints)

    @property
    def needs_registries(self) -> bool:
        """A block declares `runpod.registry_auth`: the plan reads the account's container
        registry credentials to resolve it (one list call; none otherwise)."""
        return any(spec.registry_auth for spec in self.endpoints)

    @property
    def needs_model_references(self) -> bool:
        """A block declares `cached_model`: the plan reads the endpoints' model references."""
        return any(spec.cached_model for spec in self.endpoints)

    def observe(self, provider: Any) -> Any:
        """The account as `provider` reads it (`Observed`), with every list a plan of this desired
        state reads: the one read deploy, drift, list, pull and doctor all plan against, so
        no command plans against less than another (a plan without the pods left out the
        shared-volume notes, and a recorded plan could not be replayed)."""
        return provider.observe(self.needs_model_references, registries=self.needs_registries, pods=self.needs_pods)


def repository_path(recorded: object) -> str | None:
    """A gpu.jsonc path a last-applied record names, from the repository root, in the one normal
    form both checks of `Desired.config_gone` use (the working tree's and HEAD's tree,
    config.ancestry.Ancestry.in_head): `svc/gpu.jsonc` for `./svc//gpu.jsonc/`. None for a name
    that is no path inside the repository (empty, absolute, `..`, a backslash or NUL: a record
    edited in the account), of which nothing is proven. Two spellings judged apart read a file
    deleted by hand as gone from HEAD too (review 10, R10-5)."""
    from pathlib import PurePosixPath

    if not isinstance(recorded, str) or not recorded or "\\" in recorded or "\0" in recorded:
        return None
    path = PurePosixPath(recorded)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return None
    return "/".join(path.parts)


@dataclass(frozen=True)
class Observed:
    """The account, as RunPod REST v2 objects (`modelReferences` may be added from GraphQL)."""

    endpoints: tuple[dict, ...] = ()
    network_volumes: tuple[dict, ...] = ()
    templates: tuple[dict, ...] = ()
    # The account's secrets by name, when the provider can tell (the local provider's
    # `gpu local secret`s): None for one a worker can be given, else the verdict on a damaged
    # one (the words a worker's start gives, fix included); None: not known (RunPod's are not
    # read). Never a value.
    secrets: Mapping[str, str | None] | None = None
    # The account's container registry credentials (`GET /v2/registries`: `{id, name}` each,
    # never a credential), read only when a block declares `runpod.registry_auth`; None: not read.
    registries: tuple[dict, ...] | None = None
    # The account's pods (`GET /v2/pods`), read only when a block declares a network volume, to
    # tell who else mounts it (gpuctl.plan.volumes.shared); None: not read. `pods_unread`: why a
    # listing that was asked for failed (a key without pod access), said in the plan.
    # `pods_read_at`: when they were listed (epoch seconds), against which a pre-warm pod's
    # deadline is read (gpuctl.prewarm.own_warm_pod); None: not known.
    pods: tuple[dict, ...] | None = None
    pods_unread: str | None = None
    pods_read_at: float | None = None

    def __post_init__(self) -> None:
        for kind in ("endpoints", "network_volumes", "templates"):
            object.__setattr__(self, kind, once_each(getattr(self, kind)))
        if self.registries is not None:  # read back twice, one credential would read as two of one name
            object.__setattr__(self, "registries", once_each(self.registries))
        if self.pods is not None:
            object.__setattr__(self, "pods", once_each(self.pods))


def once_each(objects: tuple[dict, ...]) -> tuple[dict, ...]:
    """`objects` with an id listed again left out (its first listing kept): a listing that
    repeats an object (a snapshot with its list doubled, a page served twice while the account
    changed under it) is one object. Taken for two, a repeated endpoint read as a duplicate of
    itself, and the advice was to delete the only one (review 4, R4-8)."""
    seen: set[str] = set()
    kept = []
    for o in objects:
        i = o.get("id") if isinstance(o, dict) else None
        if isinstance(i, str):
            if i in seen:
                continue
            seen.add(i)
        kept.append(o)
    return tuple(kept) if len(kept) != len(objects) else objects
