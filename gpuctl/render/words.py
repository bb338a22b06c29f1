"""Symbols, colours, phrases and value formatting shared by the text and Markdown views."""

from __future__ import annotations

import json
from typing import Any

from gpuctl.safetext import printable

SYMBOL = {"create": "+", "update": "~", "replace": "-/+", "delete": "-", "preserve": "=", "orphan": "!", "no-op": " "}
STYLE = {"create": "green", "update": "yellow", "replace": "magenta", "delete": "red", "preserve": "cyan", "orphan": "yellow", "no-op": "dim"}
PHRASE = {
    "create": "will be created",
    "update": "will be updated in place",
    "replace": "must be replaced",
    "delete": "will be deleted",
    "preserve": "will be preserved",
    "orphan": "is an orphan (kept; not in gpu.jsonc)",
    "no-op": "is up to date",
}


def for_people(doc: Any) -> Any:
    """The plan document with every string's control characters escaped: names, reasons and
    messages can come from the account, and the text and Markdown views print them as they are."""
    if isinstance(doc, str):
        return printable(doc, keep_newlines=False)
    if isinstance(doc, dict):
        return {k: for_people(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [for_people(v) for v in doc]
    return doc


def show(raw: Any) -> str:
    """A plan value as people read it: JSON, or a placeholder for what cannot be shown."""
    if isinstance(raw, dict) and raw.keys() == {"unknown"}:
        return "(known after apply)"
    if isinstance(raw, dict) and raw.keys() == {"sensitive"}:
        return "(sensitive)"
    if isinstance(raw, list):
        return "[" + ", ".join(show(v) for v in raw) + "]"
    return json.dumps(raw, ensure_ascii=False)


def field_line(change: dict, width: int = 0, creating: bool = False) -> tuple[str, str]:
    """(symbol, text) of one field change, e.g. ("~", 'workers.max = 3 → 5'), with the
    path padded to `width` so the `=` signs of one resource line up."""
    path, before, after = change["path"].ljust(width), change["before"], change["after"]
    if before is None or creating:
        return "+", f"{path} = {show(after)}"
    if after is None:
        return "-", f"{path} = {show(before)}"
    suffix = "  # forces replacement" if change["forces_replace"] else ""
    return "~", f"{path} = {show(before)} → {show(after)}{suffix}"


def path_width(resource: dict) -> int:
    return max((len(c["path"]) for c in resource["changes"]), default=0)


def money(amount: float) -> str:
    return f"${amount:,.2f}/h"


def summary_line(doc: dict) -> str:
    s = doc["summary"]
    orphans = s.get("orphan", 0)
    left = f"{orphans} orphaned endpoint{'s' if orphans != 1 else ''} still running (deploy --prune deletes {'them' if orphans != 1 else 'it'})"
    if not doc["has_changes"]:
        return f"No changes to apply, but {left}." if orphans else "No changes. The account matches gpu.jsonc."
    line = f"Plan: {s['create']} to create, {s['update']} to update, {s['replace']} to replace, {s['delete']} to delete."
    return f"{line} Also {left}." if orphans else line


def cost_line(doc: dict) -> str:
    c = doc["cost"]
    line = f"Cost estimate (indicative, USD): always-on {money(c['always_on_per_hour'])}, worst case {money(c['worst_case_per_hour'])}"
    return line if c["complete"] else line + " (some GPU pools have no published price)"


def heading(resource: dict) -> str:
    """`endpoint.demo (abc123) will be updated in place`."""
    ident = f" ({resource['id']})" if resource["id"] else ""
    return f"{resource['address']}{ident} {PHRASE[resource['action']]}"


def template_note(resource: dict) -> str | None:
    t = resource.get("template")
    if not t or t["requested"] != "auto":
        return None
    return f"template auto resolved to {t['resolved']}: {'; '.join(t['evidence'])}"
