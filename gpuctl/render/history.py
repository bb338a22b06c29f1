"""`history` and `rollback` for people and machines: the history document (`--json`), its
table, and the rollback plan. Env values never appear: the document passes through
`hide_env`, and an env change is shown as the keys it adds, removes or changes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rich.table import Table

from gpuctl.errors import doc_ref
from gpuctl.model import MARKER_ENV
from gpuctl.moments import iso_utc
from gpuctl.v2 import owner, release_version, rollout, rollout_progress
from gpuctl.redact import hide_env
from gpuctl.releases import FIELD_PATHS, FORMAT_VERSION, applied_at, applies, attribute, env_keys
from gpuctl.safetext import printable
from gpuctl.words import counted


def _is_env(field: Any) -> bool:
    return FIELD_PATHS.get(field, field) == "env"


def history_document(endpoint: dict, doc: dict, templates: list[dict], *, mask: Callable[[Any], Any]) -> dict:
    """The `history --json` document (docs/history.md, schema/history.schema.json), written as
    made (ADR 38): every env value is hidden here (`hide_env`), and the two fields that quote
    text from the account's env, `made_by_reason` (a GPUCTL_PROJECT marker's value) and
    `applied_by` (who the last-applied record says applied), are masked with `mask`
    (`AppContext.mask`). The rest are the account's ids, times and config values, as a
    snapshot holds them."""
    last_applied = applied_at(templates, endpoint)
    made = attribute(doc.get("releases") or [], last_applied, applies(templates, endpoint))
    current = release_version(doc)
    releases = [_release(r, made.get(r.get("version"), ("unknown", "no version", None)), current, mask) for r in doc.get("releases") or []]
    return hide_env({
        "format_version": FORMAT_VERSION,
        "kind": "gpuctl-history",
        "endpoint": {"id": endpoint.get("id"), "name": endpoint.get("name"), "project": owner(endpoint)},
        "endpoint_version": current,
        "rollout": rollout(doc),
        "last_applied_at": None if last_applied is None else iso_utc(last_applied),
        "releases": releases,
    })


def _release(release: dict, made: tuple[str, str, str | None], current: Any, mask: Callable[[Any], Any]) -> dict:
    diff = []
    for entry in release.get("diff") or []:
        item = {"field": entry.get("field"), "path": FIELD_PATHS.get(entry.get("field"), entry.get("field")),
                "old": entry.get("old"), "new": entry.get("new")}
        if _is_env(entry.get("field")):
            item["env_keys"] = env_keys(entry.get("old"), entry.get("new"))
        diff.append(item)
    return {
        "version": release.get("version"), "id": release.get("id"), "created_at": release.get("createdAt"),
        "source": release.get("source"), "build_id": release.get("buildId"), "created_by": release.get("createdByUserId"),
        "made_by": made[0], "made_by_reason": mask(made[1]), "applied_by": mask(made[2]), "workers": release.get("workerCount"),
        "current": release.get("version") == current, "diff": diff,
    }


# -- text ----------------------------------------------------------------------------------------

def _value(raw: Any) -> str:
    return json.dumps(raw, ensure_ascii=False)


def change_summary(entry: dict) -> str:
    """One diff entry in a few words: `image "a" → "b"`, or `env +NEW ~GREETING -OLD`."""
    if "env_keys" in entry:
        keys = entry["env_keys"]
        marks = [f"+{k}" for k in keys["added"]] + [f"~{k}" for k in keys["changed"]] + [f"-{k}" for k in keys["removed"]]
        return f"{entry['path']} " + (" ".join(marks) or "(reordered)")
    if entry["old"] is None:
        return f"{entry['path']} = {_value(entry['new'])}"
    return f"{entry['path']} {_value(entry['old'])} → {_value(entry['new'])}"


def history_table(doc: dict) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("version", "when", "source", "by", "made by", "workers", "what changed"):
        table.add_column(column.upper(), overflow="fold")
    for r in doc["releases"]:
        version = f"{r['version']}{' (current)' if r['current'] else ''}"
        source = r["source"] + (f" {r['build_id']}" if r.get("build_id") else "")
        changed = "; ".join(change_summary(e) for e in r["diff"]) or "-"
        cells = (version, r["created_at"] or "-", source, r["created_by"] or "-", r["made_by"] + (f" ({r['applied_by']})" if r.get("applied_by") else ""), r["workers"], changed)
        table.add_row(*(printable(str(c), keep_newlines=False) for c in cells))
    return table


def history_footer(doc: dict) -> list[str]:
    lines = []
    if doc.get("rollout"):
        progress = rollout_progress(doc["rollout"])
        lines.append(f"rollout: {progress.on_latest}/{counted(progress.total, 'worker')} on version {doc['endpoint_version']}"
                     + (" (in progress)" if progress.in_progress else ""))
    if any(r.get("made_by") == "marker" for r in doc.get("releases") or []):
        lines.append(f"marker: created with a {MARKER_ENV} marker, which gpuctl writes at create and anyone can copy; "
                     f"no deploy gpuctl recorded made it ({doc_ref('history.md')})")
    applied = doc.get("last_applied_at")
    lines.append(f"gpuctl last applied this endpoint at {applied}" if applied else
                 f"no last-applied record: who made a release after version 1 is unknown ({doc_ref('history.md')})")
    return [printable(line, keep_newlines=False) for line in lines]


def plan_lines(endpoint: dict, current: Any, version: int, changes: list[dict], version_env: dict | None,
               literals: dict[str, str] | None = None) -> list[str]:
    """The rollback plan: each field before → after; an env value only when it is no secret
    (`env_shown`: gpu.jsonc holds it as a plain literal for that key, `literals`), else as
    deploy's plan hides it: `(RunPod secret NAME)` for a secret reference, `(sensitive)`."""
    name = printable(f"{endpoint.get('name')} ({endpoint.get('id')})", keep_newlines=False)
    if not changes:
        return [f"Endpoint {name} already has the configuration of version {version}: nothing to roll back."]
    lines = [f"Rollback of endpoint {name} from version {current} to the configuration of version {version}:"]
    for change in changes:
        if change["path"] == "env":
            lines += _env_lines(change["before"], change["after"], literals or {})
        else:
            lines.append(f"  ~ {change['path']} = {_value(change['before'])} → {_value(change['after'])}")
    if version_env is not None and MARKER_ENV not in version_env and any(c["path"] == "env" for c in changes):
        lines.append(f"  (version {version} had no {MARKER_ENV} marker; the current one is kept)")
    return [printable(line, keep_newlines=False) for line in lines]


def env_shown(key: str, value: Any, literals: dict[str, str]) -> bool:
    """Whether the rollback plan may show env `key`'s `value`: redact.env_shown, with
    `literals` the plain literals gpu.jsonc holds for this endpoint ({key: value})."""
    from gpuctl import redact

    return redact.env_shown(key, value, literals.get(key))


def shown_env(env: Any, literals: dict[str, str]) -> Any:
    """An env of the rollback plan for `rollback --json`: each value `env_shown` lets the text
    plan show, every other as deploy's plan document hides it (render.document.hidden:
    `{"sensitive": true}`, with `"secret": NAME` for a RunPod secret reference), so both formats,
    and deploy's, show the same."""
    from gpuctl.redact import HIDDEN
    from gpuctl.render.document import hidden

    if not isinstance(env, dict):
        return HIDDEN  # a shape gpuctl does not know: nothing in it is shown
    return {key: value if env_shown(str(key), value, literals) else hidden(value) for key, value in env.items()}


def rollback_changes_json(changes: list[dict], literals: dict[str, str]) -> list[dict]:
    """The `changes` of `rollback --json`: env values as `shown_env` says, and any other field
    through redact.hide_env, the last line of defence for an env nested elsewhere."""
    from gpuctl.redact import hide_env

    return [{"field": "env", "old": shown_env(c["before"], literals), "new": shown_env(c["after"], literals)} if c["path"] == "env"
            else hide_env({"field": c["path"], "old": c["before"], "new": c["after"]}) for c in changes]


def _env_lines(before: dict, after: dict, literals: dict[str, str]) -> list[str]:
    keys = env_keys(before, after)

    def shown(key: str, env: dict) -> str:
        """As deploy's plan shows a value (render.words.show of its document value): a RunPod
        secret reference by its name, `(RunPod secret NAME)`; review 3, R4."""
        from gpuctl.render.words import show

        return show(shown_env({key: (env or {}).get(key)}, literals)[key])

    return ([f"  + env.{k} = {shown(k, after)}" for k in keys["added"]] + [f"  ~ env.{k} = {shown(k, before)} → {shown(k, after)}" for k in keys["changed"]]
            + [f"  - env.{k} = {shown(k, before)}" for k in keys["removed"]])
