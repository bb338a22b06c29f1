"""The plan: a frozen, sorted, comparable value. Symbols, colours and tenses live in render."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gpuctl.model import Notice, Override, TemplateChoice, Unresolved
from gpuctl.words import counted


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    NOOP = "no-op"
    DELETE = "delete"
    PRESERVE = "preserve"
    ORPHAN = "orphan"  # owned, no longer in gpu.jsonc, kept because --prune was not given


CHANGING = (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE)


class Origin(StrEnum):
    """Who moved a field since gpuctl last applied it (ADR 10)."""

    CONFIG = "config"  # gpu.jsonc changed; the account is as last applied
    ACCOUNT = "account"  # the account changed; gpu.jsonc is as last applied
    BOTH = "both"  # both changed: a conflict, which apply resolves in gpu.jsonc's favour
    UNKNOWN = "unknown"  # no last-applied record, or no digest (a secret)
    OTHER_CONFIG = "other-config"  # the account is as last applied, but another gpu.jsonc applied it, not this one's lineage (ADR 37)


class Drift(StrEnum):
    """What happened to a resource outside gpuctl, when its actions alone do not say it."""

    DELETED_IN_ACCOUNT = "deleted-in-account"  # applied by this project, then deleted in the account
    ORPHAN = "orphan"  # owned, no longer in gpu.jsonc
    UNMANAGED = "unmanaged"  # a same-named or look-alike endpoint without any marker; never touched
    MARKER_LOST = "marker-lost"  # applied by this project (its record says so), then its marker was removed
    LARGER_IN_ACCOUNT = "larger-in-account"  # a network volume larger than gpu.jsonc's size_gb: volumes never shrink (drift reports only)
    DUPLICATE = "duplicate"  # a second endpoint with this project's marker and a block's name, beside the one deploy keeps (drift reports only)
    RENAMED_IN_ACCOUNT = "renamed-in-account"  # its last-applied record names a block of gpu.jsonc, and the account gave it another name (ADR 59)


class Kind(StrEnum):
    NETWORK_VOLUME = "network_volume"
    ENDPOINT = "endpoint"


@dataclass(frozen=True)
class Unknown:
    """A value known only after apply, such as the id of a volume still to be created."""

    ref: str


@dataclass(frozen=True)
class FieldChange:
    path: str
    before: Any
    after: Any
    sensitive: bool = False
    forces_replace: bool = False
    origin: Origin = Origin.UNKNOWN
    rolled_back: tuple[int | None, int] | None = None  # the account holds what gpuctl's rollback wrote: (version it made, version restored)
    applied_from: Any = None  # origin other-config: the apply that put the account's value there (plan.drift.Apply), ADR 37


def update_reason(changes: tuple[FieldChange, ...]) -> str:
    """"2 fields differ from gpu.jsonc", and how many of them only may: unknown in this run."""
    unknown = sum(1 for c in changes if isinstance(c.after, Unresolved))
    known = len(changes) - unknown
    parts = [f"{counted(known, 'field differs', 'fields differ')} from gpu.jsonc"] if known else []
    if unknown:
        parts.append(f"{counted(unknown, 'env value is', 'env values are')} unknown in this run and may differ")
    return "; ".join(parts)


@dataclass(frozen=True)
class ResourceChange:
    kind: Kind
    name: str
    address: str
    action: Action
    id: str | None = None
    reason: str = ""
    changes: tuple[FieldChange, ...] = ()
    desired: Any = None  # the RunPod v2 request body (Sensitive values inside), None for deletes
    template: TemplateChoice | None = None
    data_center: str | None = None
    drift: Drift | None = None


@dataclass(frozen=True)
class CostItem:
    """One resource's hourly cost after apply, and before (what the account pays for it now)."""

    address: str
    always_on_per_hour: float
    worst_case_per_hour: float
    basis: str
    before_always_on_per_hour: float = 0.0
    before_worst_case_per_hour: float = 0.0
    priced: bool = True  # False when a GPU pool it uses, before or after, has no published price


@dataclass(frozen=True)
class CostEstimate:
    always_on_per_hour: float
    worst_case_per_hour: float
    complete: bool
    items: tuple[CostItem, ...] = ()
    before_always_on_per_hour: float = 0.0
    before_worst_case_per_hour: float = 0.0


@dataclass(frozen=True)
class Violation:
    """One broken policy rule (docs/policy.md). `endpoint` is the resource address, None for a
    rule about the whole plan (its cost); `path` the gpu.jsonc key that breaks it, when one does;
    `source` the policy file whose rule it is; `where` the file:line:col of `path` (or the flag that set it)."""

    rule: str
    endpoint: str | None
    path: str | None
    message: str
    source: str
    where: str | None = None  # `gpu.jsonc:12:7` where `path` is written, or the flag that set it


@dataclass(frozen=True)
class PolicyReport:
    """The policy a plan was checked against (its files) and what it found. A plan with any
    violation is never applied (docs/adr/0022-policy.md)."""

    sources: tuple[str, ...]
    violations: tuple[Violation, ...] = ()


@dataclass(frozen=True)
class LeaseSeen:
    """The project's account lease as a plan found it in the account it read (never taken,
    never waited for: a plan writes nothing). `held`: another gpuctl command of the project
    (a deploy, rollback or delete) holds it and renews it, so it is applying now, and what it
    has yet to write shows in the plan as changes of the plan's own. `unclear`: a lease is
    there, but whether its holder is applying cannot be told (its expiry is damaged, or further
    ahead than a holder with a correct clock writes, or the template could not be read).
    A stale lease (expired, or of a process of this machine that is gone) is no lease here."""

    status: str  # "held" or "unclear"
    template: str  # the lease template's name (`gpuctl-lock-<project>`)
    holder: str | None  # the holder as the lease records it, one line (`pid 12 on runner-7 (`gpu serverless deploy`, since ...)`); never its token
    detail: str  # its expiry (`expires in 240s unless renewed`), or why it is unclear


@dataclass(frozen=True)
class Plan:
    project_id: str
    config_path: str
    provider: str
    prune: bool
    changes: tuple[ResourceChange, ...]
    notices: tuple[Notice, ...]
    cost: CostEstimate
    overrides: tuple[Override, ...]
    observed_digest: str
    policy: PolicyReport | None = None  # None: no policy was in force
    observed_from: str | None = None  # the snapshot file planned against (--observed); None: the account itself
    lease: LeaseSeen | None = None  # the project's account lease, when another command held it as the account was read (deploy --plan, gpu github plan)

    @property
    def has_changes(self) -> bool:
        """Whether applying this plan would write anything."""
        return any(c.action in CHANGING for c in self.changes)

    @property
    def in_sync(self) -> bool:
        """Whether the account matches gpu.jsonc: nothing to write and no orphan left running.
        An orphan is drift (`--detailed-exitcode` exits 2) that only `--prune` resolves."""
        return not self.has_changes and not self.count(Action.ORPHAN)

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action == action)
