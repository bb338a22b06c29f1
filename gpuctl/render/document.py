"""The versioned JSON plan document (`schema/plan.schema.json`). Text and Markdown are
rendered from this document, never from the Plan object, so the three cannot disagree."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from gpuctl import __version__
from gpuctl.model import Sensitive
from gpuctl.plan.model import Action, FieldChange, Plan, ResourceChange, Unknown

FORMAT_VERSION = "1"
HIDDEN = {"sensitive": True}
SUMMARY_ACTIONS = (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE, Action.NOOP, Action.PRESERVE)


def _value(value: Any) -> Any:
    """JSON form of a plan value: a sensitive value becomes {"sensitive": true} (never the
    value), one known only after apply becomes {"unknown": "<reference>"}."""
    if isinstance(value, Sensitive):
        return HIDDEN
    if isinstance(value, Unknown):
        return {"unknown": value.ref}
    if isinstance(value, dict):
        return {k: _value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_value(v) for v in value]
    return value


def _hidden(value: Any, sensitive: bool) -> Any:
    return (None if value is None else HIDDEN) if sensitive else _value(value)


def _field(change: FieldChange) -> dict:
    return {
        "path": change.path,
        "before": _hidden(change.before, change.sensitive),
        "after": _hidden(change.after, change.sensitive),
        "sensitive": change.sensitive,
        "forces_replace": change.forces_replace,
    }


def _redact_env(body: Any, sensitive_paths: set[str]) -> Any:
    if not isinstance(body, dict) or "env" not in body:
        return _value(body)
    env = {k: (HIDDEN if f"env.{k}" in sensitive_paths else v) for k, v in body["env"].items()}
    return _value({**body, "env": env})


def _resource(change: ResourceChange) -> dict:
    sensitive = {c.path for c in change.changes if c.sensitive}
    if isinstance(change.desired, dict):
        sensitive |= {f"env.{k}" for k, v in (change.desired.get("env") or {}).items() if isinstance(v, Sensitive)}
    doc = {
        "address": change.address,
        "kind": change.kind.value,
        "name": change.name,
        "id": change.id,
        "action": change.action.value,
        "reason": change.reason,
        "changes": [_field(c) for c in change.changes],
        "desired": _redact_env(change.desired, sensitive) if change.desired is not None else None,
    }
    if change.data_center:
        doc["data_center"] = change.data_center
    if change.template:
        t = change.template
        doc["template"] = {"requested": t.requested, "resolved": t.resolved, "evidence": list(t.evidence)}
    return doc


def to_document(plan: Plan) -> dict:
    summary = {a.value: plan.count(a) for a in SUMMARY_ACTIONS}
    return {
        "format_version": FORMAT_VERSION,
        "tool": {"name": "gpuctl", "version": __version__},
        "project_id": plan.project_id,
        "config": plan.config_path,
        "provider": plan.provider,
        "prune": plan.prune,
        "has_changes": plan.has_changes,
        "summary": summary,
        "overrides": [{"flag": o.flag, "path": o.path, "value": o.value} for o in plan.overrides],
        "resource_changes": [_resource(c) for c in plan.changes],
        "warnings": [{"code": n.code, "address": n.address, "message": n.message} for n in plan.notices],
        "cost": {
            "currency": "USD",
            "always_on_per_hour": plan.cost.always_on_per_hour,
            "worst_case_per_hour": plan.cost.worst_case_per_hour,
            "complete": plan.cost.complete,
            "items": [asdict(i) for i in plan.cost.items],
        },
        "observed_digest": plan.observed_digest,
    }


def dumps(document: dict) -> str:
    return json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
