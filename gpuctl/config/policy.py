"""The `policy` block of gpu.jsonc, and the policy file `deploy --policy FILE` reads: one schema
(`gpuctl.config.schema.PolicyBlock`), read into a `Policy` with every problem located like the
rest of the config. Two policies merge rule by rule into the stricter
(docs/adr/0022-policy.md). pydantic is imported only when a policy is present."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gpuctl.config.checks import gpu_hint
from gpuctl.config.source import POLICY, Source, read_source
from gpuctl.errors import ConfigError, Diagnostic
from gpuctl.spelling import did_you_mean

ALLOW_LISTS = ("allowed_gpu_types", "allowed_env_vars")
LIMITS = ("max_min_workers", "max_max_workers", "max_always_on_per_hour", "max_worst_case_per_hour", "max_volume_size_gb")
SWITCHES = ("forbid_delete", "forbid_replace", "forbid_shared_volumes", "require_secret_env", "warn_high_entropy_env")


@dataclass(frozen=True)
class Policy:
    """The rules in force. None or False: the rule is off. `origin` names, for each rule that is
    on, the policy file that set it (both, joined, when each narrowed an allow-list)."""

    sources: tuple[str, ...]
    allowed_gpu_types: tuple[str, ...] | None = None
    allowed_env_vars: tuple[str, ...] | None = None
    max_min_workers: int | None = None
    max_max_workers: int | None = None
    max_always_on_per_hour: float | None = None
    max_worst_case_per_hour: float | None = None
    max_volume_size_gb: int | None = None
    forbid_delete: bool = False
    forbid_replace: bool = False
    forbid_shared_volumes: bool = False
    shared_volumes_except: tuple[str, ...] = ()  # forbid_shared_volumes: {"except": [...]}: the volume names it allows
    require_secret_env: bool = False
    warn_high_entropy_env: bool = False
    origin: dict[str, str] = field(default_factory=dict, compare=False)


def read_policy(source: Source, prefix: tuple, catalog: Any) -> tuple[Policy | None, list[Diagnostic]]:
    """The policy object at `prefix` in `source` (absent: None), or located diagnostics: an
    unknown key, a wrong type, a GPU type the catalog does not know."""
    from pydantic import ValidationError

    from gpuctl.config.explain import _describe, _union_noise
    from gpuctl.config.schema import PolicyBlock

    raw = source.data
    for key in prefix:
        raw = raw.get(key) if isinstance(raw, dict) else None
    if raw is None and prefix:
        return None, []
    try:
        model = PolicyBlock.model_validate(raw)
    except ValidationError as exc:
        keys = [f.alias or name for name, f in PolicyBlock.model_fields.items()]
        out = []
        for err in _union_noise(exc.errors(include_url=False)):  # `forbid_shared_volumes`: true, false or {"except": [...]}
            inner = ["except"] if err["loc"][:1] == ("forbid_shared_volumes",) and len(err["loc"]) > 1 else keys
            if err["type"] == "extra_forbidden":
                message, hint = "unknown key", did_you_mean(str(err["loc"][-1]), inner) or f"valid keys: {', '.join(inner)}"
            else:
                message, hint = _describe(err, False, inner, PolicyBlock)
            out.append(source.diagnostic(prefix + tuple(err["loc"]), message, hint))
        return None, out
    problems = _unknown_gpus(source, prefix, model.allowed_gpu_types or [], catalog)
    values = {k: v for k, v in model.model_dump(exclude={"schema_"}, by_alias=False).items() if _on(v)}
    if isinstance(values.get("forbid_shared_volumes"), dict):  # {"except": [...]}: on, but for those volumes
        values["shared_volumes_except"] = tuple(dict.fromkeys(values["forbid_shared_volumes"]["except_"]))
        values["forbid_shared_volumes"] = True
    for name in ALLOW_LISTS:
        if name in values:
            values[name] = tuple(dict.fromkeys(values[name]))
    return Policy((source.display,), **values, origin=dict.fromkeys(set(values) - {"shared_volumes_except"}, source.display)), problems


def _unknown_gpus(source: Source, prefix: tuple, gpus: list[str], catalog: Any) -> list[Diagnostic]:
    return [source.diagnostic(prefix + ("allowed_gpu_types", i), f'unknown GPU type "{g}"', gpu_hint(g, catalog))
            for i, g in enumerate(gpus) if g not in catalog.gpus]


def load_policy_file(path: Path, display: str, catalog: Any) -> Policy:
    """`deploy --policy FILE`: a JSONC file holding the policy object itself at its top level."""
    source = read_source(path, display, POLICY)
    if not isinstance(source.data, dict):
        raise ConfigError(f"{display} is not valid", [source.diagnostic((), "a policy file holds one object", 'write {"allowed_gpu_types": [...], "max_max_workers": 10}')])
    found, problems = read_policy(source, (), catalog)
    problems = source.repeat_diagnostics() + problems
    if problems or found is None:
        raise ConfigError(f"{display} is not valid", sorted(problems, key=lambda d: (d.line or 0, d.col or 0)))
    return found


def merge(first: Policy | None, second: Policy | None) -> Policy | None:
    """Each rule as the stricter of the two: allow-lists intersect, limits take the lower, a
    forbidding or requiring switch is on when either turns it on. A project's own block can
    narrow a platform team's file, never widen it."""
    if first is None or second is None:
        return first or second
    merged, origin = {}, {}
    for name in (*ALLOW_LISTS, *LIMITS, *SWITCHES):
        a, b = getattr(first, name), getattr(second, name)
        value, where = _stricter(name, a, b, first.origin.get(name), second.origin.get(name))
        merged[name] = value
        if where:
            origin[name] = where
    merged["shared_volumes_except"] = _exceptions(first, second)
    return replace(first, sources=first.sources + second.sources, origin=origin, **merged)


def _exceptions(first: Policy, second: Policy) -> tuple[str, ...]:
    """The shared volumes both policies allow: when both forbid sharing, the names each excepts
    (`true` excepts none); when one does, its own."""
    if first.forbid_shared_volumes and second.forbid_shared_volumes:
        return tuple(n for n in first.shared_volumes_except if n in second.shared_volumes_except)
    return first.shared_volumes_except if first.forbid_shared_volumes else second.shared_volumes_except


def _stricter(name: str, a: Any, b: Any, where_a: str | None, where_b: str | None) -> tuple[Any, str | None]:
    if not (_on(a) and _on(b)):
        return (a, where_a) if _on(a) else (b, where_b)
    if name in ALLOW_LISTS:
        return tuple(g for g in a if g in b), f"{where_a} and {where_b}"
    if name in LIMITS:
        return (a, where_a) if a <= b else (b, where_b)
    return True, where_a


def _on(value: Any) -> bool:
    """Whether a rule's value turns it on: given, and not `false` (0 is a limit, [] allows nothing)."""
    return value is not None and value is not False
