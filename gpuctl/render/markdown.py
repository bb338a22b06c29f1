"""The plan as a pull-request comment and job summary: the summary and the cost before → after
first, warnings once, then one section per resource, capped well under GitHub's
65,536-character comment limit. The layout of that one document; how a value is escaped in
it is `render/md.py`, the plan's phrases are `render/words.py`.

A small plan (at most `OPEN_RESOURCES` resources and `OPEN_LINES` field lines) shows every
section open: a reviewer reads it without a click. A larger one folds each resource into its
own closed section, so the summary, the cost and the warnings stay on the first screen."""

from __future__ import annotations

from gpuctl.plan.cost import moves
from gpuctl.render import md
from gpuctl.render.policy import policy_markdown
from gpuctl.render.words import (
    PHRASE, cost_figures, costs_by_address, field_line, for_people, heading, md_keys, money_change, path_width, shown, summary_line, symbol, template_note,
)
from gpuctl.words import counted, first_of

LIMIT = 60_000
OPEN_RESOURCES = 5  # at most this many resources listed ...
OPEN_LINES = 50  # ... and this many field lines in all: every section is open
COST_ROWS = 25  # resources in the cost table; the rest are in the JSON plan
ADDRESSES = 10  # resources named by one warning or note; the rest are counted


def _lines(resource: dict) -> list[str]:
    action = resource["action"]
    lines = [f"# {resource['reason']}"] if resource["reason"] else []
    note = template_note(resource)
    if note:
        lines.append(f"# {note}")
    width = path_width(resource)
    for change in resource["changes"]:
        mark, body = field_line(change, width, creating=action == "create", labelled=resource["kind"] == "endpoint")
        lines.append(f"{mark} {body}")
    return lines


def _section(resource: dict, fold: bool, source_url: str | None = None) -> str:
    body = "\n".join(_lines(resource)) or "(no field changes)"
    summary = f"<code>{symbol(resource)}</code> {md.html_text(heading(resource))}"
    return f"<details{'' if fold else ' open'}><summary>{summary}</summary>\n\n{md.fenced(body, 'diff')}{_keys_table(resource, source_url)}</details>\n"


def _keys_table(resource: dict, source_url: str | None) -> str:
    """Which gpu.jsonc key declares each changed field (the diff names RunPod's fields), each
    linked to its line when the config's URL at the planned commit is known; "" when the
    changes name no keys (a create, a delete, a document made before keys were named)."""
    rows = [f"| {md.code(c['path'])} | {md_keys(c, source_url)} |\n" for c in resource["changes"] if "config_keys" in c]
    return "\n| field | gpu.jsonc key |\n|---|---|\n" + "".join(rows) + "\n" if rows else ""


def folds(listed: list[dict]) -> bool:
    """Whether each resource gets a closed section: more than a reviewer reads at a glance."""
    return len(listed) > OPEN_RESOURCES or sum(len(r["changes"]) for r in listed) > OPEN_LINES


def _cost_table(doc: dict) -> str:
    """Before → after (delta) per resource whose cost moves, and in total."""
    cost = doc["cost"]
    moved = [i for i in costs_by_address(doc).values() if "delta" in i and moves(*i["delta"].values())]
    rows = [first_of(moved, COST_ROWS, sep="", more="| … {} more in the JSON plan | | |\n",
                     each=lambda i: f"| {md.code(i['address'])} | {money_change(i, 'always_on_per_hour')} | {money_change(i, 'worst_case_per_hour')} |\n")]
    rows.append(f"| **total** | {money_change(cost, 'always_on_per_hour')} | {money_change(cost, 'worst_case_per_hour')} |\n")
    incomplete = "" if cost["complete"] else " Some GPU pools have no published price; they count as $0."
    rounded = "" if len(moved) > COST_ROWS or _adds_up(moved, cost) else ROUNDED
    return f"\n**Cost** (indicative, USD per hour, before → after apply).{incomplete}\n\n| | always-on | worst case |\n|---|---|---|\n" + "".join(rows) + rounded


ROUNDED = "\nEach figure is rounded to the cent on its own, so the rows' differences may not add up to the total's; the JSON plan has them to $0.0001.\n"


def _adds_up(moved: list[dict], cost: dict) -> bool:
    """Whether the differences the rows show, to the cent, add up to the total's (they do to
    $0.0001, the document's precision: every resource whose cost moves has a row)."""
    if "delta" not in cost:  # a document made before differences were recorded: no rows
        return True
    for key in ("always_on_per_hour", "worst_case_per_hour"):
        shown = [i["delta"][key] for i in moved]
        if any(0 < abs(v) < 0.005 for v in shown) or round(sum(round(v, 2) for v in shown), 2) != round(cost["delta"][key], 2):
            return False
    return True


def _grouped(items: list[dict]) -> list[tuple[list[str], str]]:
    """Notices with the same message said once, with every address they concern."""
    groups: dict[str, list[str]] = {}
    for n in items:
        groups.setdefault(n["message"], [])
        if n["address"]:
            groups[n["message"]].append(n["address"])
    return [(addresses, message) for message, addresses in groups.items()]


def _addresses(addresses: list[str]) -> str:
    """The resources a notice concerns, at most `ADDRESSES` named: a warning shared by a
    thousand endpoints must not fill the comment."""
    return first_of(addresses, ADDRESSES, each=md.code)


def _notices(title: str, mark: str, items: list[dict], shown: int = 20) -> str:
    """A list of warnings or notes, each said once, at most `shown` of them: the resources matter more.
    A message's backticked commands show as code, the rest as escaped text (`md.prose`)."""
    groups = _grouped(items)
    if not groups:
        return ""
    return f"\n**{title}**\n\n" + first_of(groups, shown, sep="", more="- … and {} more in the JSON plan (`--format json`)\n",
                                             each=lambda g: f"- {mark}{_addresses(g[0]) + ': ' if g[0] else ''}{md.prose(g[1])}\n")


DESTROYING = ("replace", "delete")  # left out, these are named: a reviewer must not approve one unseen


def _destroying(doc: dict) -> list[dict]:
    """Each replace and delete as a warning, in the plan's own words (`must be replaced: <its
    reason>`, `will be deleted: <its reason>`): the summary line counts them, but a reviewer
    skimming the comment must see, above the sections, that the merge deletes an endpoint (and
    for a replace creates it again): its callers lose the id and URL they use."""
    return [{"address": r["address"], "message": f"{PHRASE[r['action']]}: {r['reason']}" if r["reason"] else PHRASE[r["action"]]}
            for r in doc["resource_changes"] if r["action"] in DESTROYING]


def _whole_plan(doc: dict) -> str:
    """The command that shows the whole plan, for the config the plan was made of (`--config`
    unless it is ./gpu.jsonc; gpuctl.commands)."""
    from gpuctl.commands import Flags, suggest

    return md.code(suggest("serverless", "deploy", "--plan", flags=Flags.of_run(doc.get("config"))))


def _left_out(rest: list[dict], doc: dict) -> str:
    """The note that ends a cut comment: how many resources of each action it leaves out, the
    ones it would delete or replace by name, and where the whole plan is. Deletions come last in
    a plan, so they are the first to be cut."""
    counts: dict[str, int] = {}
    for r in rest:
        counts[r["action"]] = counts.get(r["action"], 0) + 1
    what = ", ".join(f"{n} {_ACTION_WORDS.get(a, a)}" for a, n in sorted(counts.items(), key=lambda an: list(_ACTION_WORDS).index(an[0])))
    named = "".join(f" To {a}: {_addresses([r['address'] for r in rest if r['action'] == a])}." for a in DESTROYING if counts.get(a))
    n = len(rest)
    return (f"\n> **Truncated:** {counted(n, 'more resource')} not shown to stay under GitHub's comment limit ({what}).{named} "
            f"Run {_whole_plan(doc)} or download the JSON plan (`--format json`) for the full plan.\n")


_ACTION_WORDS = {"create": "to create", "update": "to update", "replace": "to replace", "delete": "to delete", "orphan": "orphaned",
                 "preserve": "to preserve", "no-op": "unmanaged"}


def _snapshot(doc: dict) -> str:
    """` · against snapshot `FILE`` for a plan made against a snapshot (--observed), else nothing."""
    return f" · against snapshot {md.code(doc['observed_from'])}" if doc.get("observed_from") is not None else ""


def render_markdown(doc: dict, limit: int = LIMIT, source_url: str | None = None) -> str:
    """`source_url`: the config file's URL at the planned commit
    (`https://github.com/OWNER/REPO/blob/SHA/PATH`), to link each gpu.jsonc key to its line."""
    doc = for_people(doc)
    parts = [f"### gpuctl plan: {summary_line(doc).removeprefix('Plan: ')}\n",
             f"Project {md.code(doc['project_id'])} · provider {md.code(doc['provider'])}{_snapshot(doc)} · cost {cost_figures(doc['cost'])}\n"]
    if doc.get("lease"):  # above everything else: every change below may be another command's
        parts.append(f"\n> **Warning:** {md.prose(doc['lease']['message'])}\n\n")
    for o in doc["overrides"]:
        parts.append(f"- override {md.code(o['flag'])}: {md.code(o['path'])} = {md.code(str(o['value']))}\n")
    parts.append(policy_markdown(doc))
    parts.append(_cost_table(doc))
    parts.append(_notices("Warnings", "⚠️ ", _destroying(doc) + doc["warnings"]))
    parts.append(_notices("Notes", "", doc["notes"]))
    parts.append("\n")
    listed = shown(doc)
    fold = folds(listed)
    text = "".join(parts)
    if len(text) > limit - 400:  # never, short of thousands of overrides or policy violations; the limit still holds
        text = text[:text.rfind("\n", 0, limit - 800) + 1] + ("\n> **Truncated:** the summary above is cut to stay under GitHub's comment limit, and no "
                                                             f"resource is shown. Run {_whole_plan(doc)} or download the JSON plan (`--format json`).\n")
        return text
    for i, resource in enumerate(listed):
        section = _section(resource, fold, source_url)
        if len(text) + len(section) > limit - 1_600:  # room for the note, which names up to 2 × ADDRESSES resources
            text += _left_out(listed[i:], doc)
            break
        text += section
    return text
