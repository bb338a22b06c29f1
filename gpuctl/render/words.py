"""The plan's own vocabulary, shared by its text and Markdown views: each action's symbol,
colour and phrase (`+`, "will be created"), drift and origin labels, a field change as one
line, money, the summary line, the gpu.jsonc keys behind a field.

Not here: counting in words and "the first N and K more" for any output (`gpuctl/words.py`,
a leaf every layer may import: this module imports the plan); escaping for Markdown
(`render/md.py`); the plan as a Markdown comment (`render/markdown.py`)."""

from __future__ import annotations

import json
from typing import Any

from gpuctl.model import sensitive_phrase, unknown_phrase
from gpuctl.plan.cost import moves, usd_per_hour
from gpuctl.render import document, md
from gpuctl.safetext import json_safe, printable
from gpuctl.words import agreeing, counted

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
ORIGIN = {"config": "changed in gpu.jsonc", "account": "changed in the account", "both": "changed in both", "unknown": "origin unknown",
          "other-config": "applied from another gpu.jsonc"}
DRIFT = {"deleted-in-account": "deleted in the account", "orphan": "orphan", "unmanaged": "unmanaged", "marker-lost": "marker lost",
         "larger-in-account": "larger in the account", "renamed-in-account": "renamed in the account"}
UNMANAGED = ("?", "yellow", "is not managed by gpuctl and is left alone")  # symbol, style, phrase of an unmanaged look-alike
# A no-op with another label: a volume grown in the account, which the plan keeps at its size (it cannot shrink).
LABELLED_NOOP = {"larger-in-account": ("=", "yellow", "is kept at its size in the account: network volumes cannot shrink")}


def _noop_look(resource: dict) -> tuple[str, str, str] | None:
    """(symbol, style, phrase) of a labelled no-op; None for any other resource."""
    label = resource.get("drift")
    return LABELLED_NOOP.get(label, UNMANAGED) if resource["action"] == "no-op" and label else None


_VALUES = frozenset(("before", "after", "config", "account"))  # a field change's values: shown by `show`, which escapes them


def for_people(doc: Any) -> Any:
    """The plan document with every string's control characters escaped: names, reasons and
    messages can come from the account, and the text and Markdown views print them as they are.
    A field's values are left as they are: `show` writes them as JSON, escaped once (escaped
    here first, a newline and a backslash followed by `n` would both read `a\\nb`)."""
    if isinstance(doc, str):
        return printable(doc, keep_newlines=False)
    if isinstance(doc, dict):
        if "path" in doc:
            return {k: v if k in _VALUES else for_people(v) for k, v in doc.items()}
        return {k: for_people(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [for_people(v) for v in doc]
    return doc


def show(raw: Any) -> str:
    """A plan value as people read it: JSON (controls, and what reorders a line, escaped), or a
    placeholder for what cannot be shown."""
    if isinstance(raw, dict) and raw.keys() == {"unknown"}:
        return "(known after apply)"
    if isinstance(raw, dict) and raw.keys() == {"sensitive"}:
        return "(sensitive)"
    if isinstance(raw, dict) and raw.keys() == {"sensitive", "from"} and isinstance(raw["from"], list):
        return sensitive_phrase([printable(str(v), keep_newlines=False) for v in raw["from"]])
    if isinstance(raw, dict) and raw.keys() in ({"sensitive", "secret"}, {"sensitive", "from", "secret"}) and isinstance(raw["secret"], str):
        return sensitive_phrase((), printable(raw["secret"], keep_newlines=False))
    if isinstance(raw, dict) and raw.keys() == {"unknown_from"}:
        return unknown_phrase([printable(str(v), keep_newlines=False) for v in raw["unknown_from"]])
    if isinstance(raw, list):
        return "[" + ", ".join(show(v) for v in raw) + "]"
    return json_safe(json.dumps(raw, ensure_ascii=False))


def run_flag(change: dict) -> str | None:
    """The per-run flag (`--idle-timeout`) that sets every gpu.jsonc key of this field for this
    run (`config_keys`, `gpuctl.config.locate`), or None."""
    return document.run_flag(change.get("config_keys"))


def origin_note(change: dict) -> str:
    """Who moved a field, for people; a conflict names both values and the one apply keeps.
    The origin is read by `document.field_origin`, the rule that made the JSON's: a document
    from before origins existed has none (unknown), and a value a per-run flag sets is the
    flag's, not gpu.jsonc's (`flag`, `flag-and-account`: whether the account changed it too)."""
    flag = run_flag(change)
    origin = document.field_origin(change.get("origin"), flag)
    if origin in document.FLAG_ORIGINS:
        moved = "; the account changed it since the last apply" if origin == "flag-and-account" else ""
        return f"set by {flag or 'a per-run flag'} for this run{moved}"
    if flag:  # unknown (no record, or a secret): whether the account moved is not known, so not said
        return f"set by {flag} for this run"
    if origin != "both":
        return ORIGIN[origin]
    if change["sensitive"] or change["before"] is None or change["after"] is None:
        return "changed in both gpu.jsonc and the account; apply keeps gpu.jsonc's"
    return f"both: gpu.jsonc says {show(change['after'])}, the account says {show(change['before'])}; apply keeps {show(change['after'])}"


def field_line(change: dict, width: int = 0, creating: bool = False, labelled: bool = True) -> tuple[str, str]:
    """(symbol, text) of one field change, e.g. ("~", 'workers.max = 3 → 5   # changed in the
    account'), with the path padded to `width` so the `=` signs of one resource line up. A
    create lists gpu.jsonc's values alone (the resource says why it is missing); `labelled`
    is False for a volume, which has no last-applied record, so no origin to show."""
    path, before, after = change["path"].ljust(width), change["before"], change["after"]
    if creating:
        return "+", f"{path} = {show(after)}"
    notes = (["forces replacement"] if change["forces_replace"] else []) + ([origin_note(change)] if labelled else [])
    suffix = "   # " + "; ".join(notes) if notes else ""
    if before is None:
        return "+", f"{path} = {show(after)}{suffix}"
    if after is None:
        return "-", f"{path} = {show(before)}{suffix}"
    return "~", f"{path} = {show(before)} → {show(after)}{suffix}"


def path_width(resource: dict) -> int:
    return max((len(c["path"]) for c in resource["changes"]), default=0)


def money(amount: float) -> str:
    return usd_per_hour(amount)


def summary_line(doc: dict) -> str:
    s = doc["summary"]
    orphans = s.get("orphan", 0)
    # One renamed in the account (ADR 59) is an orphan --prune never deletes: not said to be one it does (review 11, R11-2).
    kept = sum(1 for r in doc["resource_changes"] if r.get("action") == "orphan" and r.get("drift") == "renamed-in-account")
    prunable = max(orphans - kept, 0)
    left = " and ".join(
        ([f"{counted(prunable, 'orphaned endpoint')} still running (deploy --prune deletes {agreeing(prunable, 'it', 'them')})"] if prunable else [])
        + ([f"{counted(kept, 'orphaned endpoint')} renamed in the account still running (--prune never deletes {agreeing(kept, 'it', 'them')})"] if kept else []))
    if not doc["has_changes"]:
        in_sync = "gpu.jsonc matches the snapshot." if doc.get("observed_from") is not None else "The account matches gpu.jsonc."
        line = f"No changes to apply, but {left}." if orphans else f"No changes. {in_sync}"
    else:
        line = f"Plan: {s['create']} to create, {s['update']} to update, {s['replace']} to replace, {s['delete']} to delete."
        line = f"{line} Also {left}." if orphans else line
    return line + unmanaged_note(doc)


def unmanaged_note(doc: dict) -> str:
    n = sum(1 for r in doc["resource_changes"] if r.get("drift") == "unmanaged")
    return f" {counted(n, 'unmanaged endpoint')} left alone." if n else ""


def shown(doc: dict) -> list[dict]:
    """The resources the text and Markdown views list: all but those in sync with nothing to say."""
    return [r for r in doc["resource_changes"] if r["action"] != "no-op" or r.get("drift")]


def symbol(resource: dict) -> str:
    look = _noop_look(resource)
    return look[0] if look else SYMBOL[resource["action"]]


def style(resource: dict) -> str:
    look = _noop_look(resource)
    return look[1] if look else STYLE[resource["action"]]


def signed_money(amount: float) -> str:
    """`+$1.51/h`, `-$0.40/h`: a difference per hour, always with its sign."""
    return usd_per_hour(amount, signed=True)


def money_change(cost: dict, key: str) -> str:
    """One figure of a cost item or total, before → after (delta): "$0.00/h → $0.76/h
    (+$0.76/h)", or "$3.35/h (unchanged)". A document without `before` (made before it was
    recorded) shows the figure after apply alone."""
    after = cost[key]
    if "before" not in cost:
        return money(after)
    before = cost["before"][key]
    if not moves(after - before):  # the document's precision: a sub-cent change still shows
        return f"{money(after)} (unchanged)"
    return f"{money(before)} → {money(after)} ({signed_money(after - before)})"


def cost_figures(cost: dict) -> str:
    """"always-on $0.00/h → $0.76/h (+$0.76/h), worst case $3.35/h (unchanged)"."""
    return f"always-on {money_change(cost, 'always_on_per_hour')}, worst case {money_change(cost, 'worst_case_per_hour')}"


def cost_lines(doc: dict) -> str:
    """The text plan's cost, one figure a line: "Cost estimate (indicative, USD, before → after
    apply):", "  always-on  $0.00/h → $0.76/h (+$0.76/h)", "  worst case $3.35/h (unchanged)"."""
    c = doc["cost"]
    head = "Cost estimate (indicative, USD" + (", before → after apply):" if "before" in c else "):")
    tail = "" if c["complete"] else "\n  (some GPU pools have no published price; they count as $0)"
    return f"{head}\n  always-on  {money_change(c, 'always_on_per_hour')}\n  worst case {money_change(c, 'worst_case_per_hour')}{tail}"


def costs_by_address(doc: dict) -> dict[str, dict]:
    """The plan's cost items by resource address."""
    return {i["address"]: i for i in doc["cost"]["items"]}


def heading(resource: dict) -> str:
    """`endpoint.demo (abc123) will be updated in place [drift: marker lost]`."""
    ident = f" ({resource['id']})" if resource["id"] else ""
    label = resource.get("drift")
    look = _noop_look(resource)
    phrase = look[2] if look else PHRASE[resource["action"]]
    tag = f" [drift: {DRIFT[label]}]" if label in DRIFT else ""
    return f"{resource['address']}{ident} {phrase}{tag}"


def template_note(resource: dict) -> str | None:
    t = resource.get("template")
    if not t or t["requested"] != "auto":
        return None
    return f"template auto resolved to {t['resolved']}: {'; '.join(t['evidence'])}"


# -- which gpu.jsonc key declares a field (`config_keys`, gpuctl.config.locate) -------------

NO_KEY = "no key; gpuctl sets it"


def _key_at(k: dict, path: str) -> str:
    """Where one key's value comes from: `gpu.jsonc:9`, the flag that set it for this run, or
    nowhere: a default, or for an env var (`path` env.NAME), one gpu.jsonc does not declare."""
    if k.get("flag"):
        return f"set by {k['flag']} for this run, not by {k['file']}"
    if k["line"] is not None:
        return f"{k['file']}:{k['line']}"
    return f"not declared in {k['file']}" if path.startswith("env.") else f"not written in {k['file']}: a default"


def where_keys(change: dict) -> str:
    """The gpu.jsonc keys that declare one field: `serverless.scaling.idle_timeout (gpu.jsonc:9)`;
    a key a per-run flag set, or that the file does not write (a default), says so; `NO_KEY`
    for a field gpu.jsonc cannot say; "" when the change names no keys (a create, an older
    document)."""
    if "config_keys" not in change:
        return ""
    return ", ".join(f"{k['key']} ({_key_at(k, change['path'])})" for k in change["config_keys"]) or NO_KEY


def md_keys(change: dict, source_url: str | None = None, code=md.code) -> str:
    """`where_keys` for a Markdown table cell: each key as inline code, linked to its line
    (`source_url#L9`) when the config's URL at the planned commit is known. Keys and file
    names come from a pull request's gpu.jsonc: they are code or escaped text, never Markdown."""
    def one(k: dict) -> str:
        key = code(k["key"])
        if source_url and k["line"] is not None and not k.get("flag"):
            key = f"[{key}]({source_url}#L{int(k['line'])})"
        if k.get("flag"):
            return f"{key} set by {code(k['flag'])} for this run, not by {md.text(k['file'])}"
        return f"{key} {md.text(_key_at(k, change['path']))}"
    if "config_keys" not in change:
        return ""
    return "<br>".join(one(k) for k in change["config_keys"]) or md.text(NO_KEY)
