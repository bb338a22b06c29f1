"""The drift report for people: plain text for a terminal or a cron mail, and Markdown ready to
be an issue body. Both are rendered from the drift document (`render/drift.py`), so they say
what `--json` says; sensitive values are `(sensitive)` in all three."""

from __future__ import annotations

from gpuctl.render import md
from gpuctl.commands import NONE, Flags, suggest
from gpuctl.render.drift import (DRIFTING_NOTES, LABEL_WORDS, LITERAL_ENV_START, MARKER_PATH, ORIGIN_WORDS, ORIGINS, added_env_advice, amounts, applied_from_words,
                                 idle_advice, label_advice, origin_advice, secret_advice)
from gpuctl.render.words import for_people, md_keys, show, where_keys
from gpuctl.words import agreeing, counted

LIMIT = 60_000  # GitHub caps an issue body at 65,536 characters

def short_advice(flags: Flags = NONE) -> dict[str, str]:
    """Each origin's advice in a table cell; a whole command carries the run's options (`flags`)."""
    deploy, pull = suggest("serverless", "deploy", "-y", flags=flags), suggest("serverless", "pull", "--write", flags=flags)
    return {
        "config": f"apply it: `{deploy}`",
        "other-config": "revert through review: `deploy -y` from the reviewed gpu.jsonc · keep: put it in gpu.jsonc by pull request",
        "account": f"keep: `{pull}` · revert: `{deploy}`",
        "both": "`deploy -y` keeps gpu.jsonc's value · `pull --write` takes the account's",
        "unknown": "`deploy -y` applies gpu.jsonc's value · `pull --write` keeps the account's",
    }


SHORT_ADVICE = short_advice()


COUNTED_ORIGIN = ORIGIN_WORDS | {"unknown": "of unknown origin"}
COUNTED_LABELS = ("orphan", "duplicate")  # labels that are nouns, so agree with their count ("2 duplicates"); the rest are not ("2 unmanaged")

def _short_field_advice(flags: Flags) -> dict[str, str]:
    """A field whose advice is not its origin's (pull cannot take the account's value), in a table cell."""
    return {
        secret_advice(flags): "`deploy -y` writes gpu.jsonc's · keep: set it where gpu.jsonc reads it (pull never writes secrets)",
        added_env_advice(flags): "`deploy -y` removes it · keep: declare it in runpod.env (pull never copies its value)",
        idle_advice(flags): "RunPod's idle scale-down (workersMax 2 after 3 days, 0 after 7): `deploy -y` restores it",
    }


def _own_advice(change: dict, flags: Flags = NONE) -> bool:
    """Whether a field's advice is its own rather than its origin's (the document was built
    with the same `flags`: `render.drift.build`)."""
    return change["what_to_do"] != origin_advice(flags)[change["origin"]]


def _short(change: dict, flags: Flags = NONE) -> str:
    if not _own_advice(change, flags):
        return short_advice(flags)[change["origin"]]
    if change["path"] == MARKER_PATH:
        return "`deploy -y` writes it (gpuctl's own marker: pull never writes it)"
    if change["what_to_do"].startswith(LITERAL_ENV_START):
        key = change['path'][len('env.'):]
        return (f"`deploy -y` writes gpu.jsonc's · keep: `{suggest('serverless', 'pull', '--write', '--literal-env', key, flags=flags)}` if it is no secret "
                "(the account's value is not shown)")
    return _short_field_advice(flags).get(change["what_to_do"], change["what_to_do"])


def cost_line(doc: dict) -> str | None:
    """The drift's cost in total; None when it moves none (`cost_of_drift` lists an item only
    when it moves, or its price is not known: `plan.cost.moves`), which the views then leave unsaid."""
    c = doc["cost_of_drift"]
    if not c["items"]:
        return None
    if c["complete"]:
        return amounts(c["always_on_per_hour"], c["worst_case_per_hour"])
    if not round(c["always_on_per_hour"], 2) and not round(c["worst_case_per_hour"], 2):
        return "not known (no published price for its GPU pools)"
    return amounts(c["always_on_per_hour"], c["worst_case_per_hour"]) + " (some of it has no published price)"


def headline(doc: dict) -> str:
    """`2 resources differ from gpu.jsonc: 1 field changed in the account, 1 deleted in the account`."""
    s = doc["summary"]
    n = s["resources"]
    what = [f"{counted(count, 'field')} {COUNTED_ORIGIN[o]}" for o in ORIGINS if (count := s["origins"][o])]
    what += [counted(count, LABEL_WORDS[label]) if label in COUNTED_LABELS else f"{count} {LABEL_WORDS[label]}" for label, count in s["labels"].items() if count]
    unproven = sum(1 for note in doc.get("notes") or () if note.get("code") in DRIFTING_NOTES)  # review 7, R7-2
    kept = f"{counted(unproven, 'endpoint')} of the project that no gpu.jsonc in this checkout declares (see the note)"
    if unproven and not n:
        return kept
    what += [kept] if unproven else []
    head = f"{counted(n, 'resource')} {agreeing(n, 'differs', 'differ')} from gpu.jsonc"
    return f"{head}: {', '.join(what)}" if what else head


MISSING = {"config": "(not declared)", "account": "(absent)"}  # a side without the field, as words, never JSON `null`


def _value(change: dict, side: str) -> str:
    return MISSING[side] if change[side] is None else show(change[side])


def _heading(entry: dict) -> str:
    ident = f" ({entry['id']})" if entry["id"] else ""
    label = LABEL_WORDS.get(entry["drift"] or "")
    return f"{entry['address']}{ident}: {label or entry['reason'] or entry['action']}"


def _says_why(entry: dict) -> bool:
    """Whether the views show the resource's reason: a labelled one's names what the label
    alone does not (the endpoint a look-alike resembles or whose name it holds, the id of the
    one deleted in the account), and the JSON has it; a plain update's only counts its fields."""
    return bool(entry["drift"] and entry["reason"])


def _says_more(entry: dict) -> bool:
    """Whether the resource's own advice adds to its fields' (a plain update's does not)."""
    return bool(entry["drift"]) or entry["action"] != "update"


def _other_apply(entry: dict) -> str | None:
    """"by ana from ana@laptop (gpu.jsonc) at ...": the apply from another gpu.jsonc that put the
    account's values of this resource there (one per endpoint), or None."""
    other = next((c for c in entry["changes"] if c["origin"] == "other-config"), None)
    return None if other is None else applied_from_words(other.get("applied_from"))


def _cost_parts(doc: dict, address: str) -> list[str]:
    return [p["phrase"] for i in doc["cost_of_drift"]["items"] if i["address"] == address for p in i["parts"]]


# -- text ------------------------------------------------------------------------------------


def lease_note(doc: dict) -> str | None:
    """What the report says of the project's account lease, as `deploy --plan` says it of the
    same account (`lease.message`, judged by one rule: `engine.lease.seen_by_plan`); None when
    no lease is there."""
    return doc["lease"]["message"] if isinstance(doc.get("lease"), dict) else None


def render_text(doc: dict, flags: Flags = NONE) -> str:
    """The report for a terminal; `flags`: the run's options, as `build` was given them."""
    doc = for_people(doc)
    where = f'project "{doc["project_id"]}", provider {doc["provider"]}, config {doc["config"]}'
    note = lease_note(doc)
    kept = [f"note: {n['address']}: {n['message']}" for n in doc.get("notes") or ()]
    if doc["in_sync"]:
        return f"In sync: the account matches gpu.jsonc ({where}).\n" + (f"\nnote: {note}\n" if note else "") + "".join(f"\n{k}\n" for k in kept)
    lines = [f"Drift ({where}): {headline(doc)}."]
    if note:
        lines += ["", f"note: {note}"]
    for k in kept:
        lines += ["", k]
    for entry in doc["drift"]:
        lines += ["", *_text_entry(entry, flags)]
    if (cost := cost_line(doc)) is not None:
        lines += ["", f"Cost of the drift (the account against gpu.jsonc; indicative, USD): {cost}"]
    for item in doc["cost_of_drift"]["items"]:
        lines += _text_cost(item)
    return "\n".join(lines) + "\n"


def _text_cost(item: dict) -> list[str]:
    """One resource's share, then what each field alone moves (the others at gpu.jsonc's values)."""
    parts = item["parts"]
    if len(parts) == 1 and parts[0]["path"] is None:
        return [f"  {item['address']}: {parts[0]['phrase']}"]
    total = amounts(item["always_on_per_hour"], item["worst_case_per_hour"])
    return [f"  {item['address']}: {total}", *(f"    {p['phrase']}" for p in parts)]


def _text_entry(entry: dict, flags: Flags = NONE) -> list[str]:
    lines = [_heading(entry)]
    changes = entry["changes"]
    width = max((len(c["path"]) for c in changes), default=0)
    for c in changes:
        lines.append(f"  {c['path'].ljust(width)}  gpu.jsonc {_value(c, 'config')}  account {_value(c, 'account')}  [{ORIGIN_WORDS[c['origin']]}]")
        if c.get("config_keys"):  # none: a field gpu.jsonc cannot say, which the advice covers
            lines.append(f"  {''.ljust(width)}  in gpu.jsonc: {where_keys(c)}")
    origins = list(dict.fromkeys(c["origin"] for c in changes if not _own_advice(c, flags)))
    if (other := _other_apply(entry)) is not None:
        lines.append(f"  last applied from another gpu.jsonc {other}")
    if _says_why(entry):
        lines.append(f"  why: {entry['reason']}")
    if _says_more(entry):
        lines.append(f"  what to do: {entry['what_to_do']}")
    lines += [f"  {c['path']}: {c['what_to_do']}" for c in changes if _own_advice(c, flags) and not entry["drift"]]  # a label's advice says it
    lines += [f"  {ORIGIN_WORDS[o]}: {origin_advice(flags)[o]}" for o in origins]
    return lines


# -- Markdown --------------------------------------------------------------------------------


def _code(value: str) -> str:
    """Inline code that survives any value (gpuctl.render.md)."""
    return md.code_html(value)


def _md_value(change: dict, side: str) -> str:
    return MISSING[side] if change[side] is None else _code(show(change[side]))


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _md_entry(doc: dict, entry: dict, source_url: str | None = None, flags: Flags = NONE) -> str:
    ident = f" ({_code(entry['id'])})" if entry["id"] else ""
    label = LABEL_WORDS.get(entry["drift"] or "")
    parts = [f"### {_code(entry['address'])}{ident}: {md.text(label or entry['reason'] or entry['action'])}\n"]
    if _says_why(entry):
        parts.append(f"\n**Why:** {md.text(entry['reason'])}\n")
    if _says_more(entry):
        parts.append(f"\n**What to do:** {md.prose(entry['what_to_do'])}\n")
    if entry["changes"]:
        parts.append("\n| path | gpu.jsonc key | gpu.jsonc | account | origin | what to do |\n|---|---|---|---|---|---|\n")
        for c in entry["changes"]:
            replace = " (forces replacement)" if c["forces_replace"] else ""
            parts.append(f"| {_code(c['path'])} | {md_keys(c, source_url, code=_code) if c.get('config_keys') else '—'} | {_md_value(c, 'config')} | {_md_value(c, 'account')} | {ORIGIN_WORDS[c['origin']]}{replace} | {_cell(_short(c, flags))} |\n")
    if (other := _other_apply(entry)) is not None:
        parts.append(f"\n**Last applied from another gpu.jsonc** {md.text(other)}\n")
    costs = _cost_parts(doc, entry["address"])
    if costs:
        parts.append("\n" + "".join(f"- 💸 {md.html_text(p)}\n" for p in costs))
    return "".join(parts) + "\n"


_ANY = {"name": "NAME", "id": None, "kind": "endpoint", "action": "update"}  # a resource in general, for the legend


def _md_labels(doc: dict, flags: Flags = NONE) -> str:
    """What each label in this report asks the user to do; only the labels that occur."""
    advised = {c["origin"] for e in doc["drift"] for c in e["changes"] if not _own_advice(c, flags)}
    origins = [o for o in ORIGINS if o in advised]
    lines = [f"- **{ORIGIN_WORDS[o]}**: {md.prose(origin_advice(flags)[o])}\n" for o in origins]
    seen = {e["drift"]: e for e in doc["drift"] if e["drift"]}
    # What the label asks of any resource, not of the last one that carries it (its id would
    # read as the only one to import).
    lines += [f"- **{LABEL_WORDS[label]}**: {md.prose(label_advice(label, _ANY, doc['project_id'], flags=flags))}\n" for label in seen]
    return "### What the labels ask\n\n" + "".join(lines) + "\n" if lines else ""


def render_markdown(doc: dict, limit: int = LIMIT, source_url: str | None = None, flags: Flags = NONE) -> str:
    """The drift report as an issue body. `source_url` is the config's page at the commit the
    report read gpu.jsonc from (`Job.source_url`), to link each gpu.jsonc key to its line, as
    the plan comment does (`words.md_keys`). An issue body is meant to be posted, so it names
    an apply's place as a public page may (`document.public`): never a machine's host. `flags`:
    the run's options, as `build` was given them, which every command it suggests repeats."""
    from gpuctl.render.document import public

    doc = for_people(public(doc))
    project, provider = _code(doc["project_id"]), _code(doc["provider"])
    note = f"\n> **Note:** {md.prose(lease)}\n" if (lease := lease_note(doc)) else ""
    note += "".join(f"\n> **Note:** {_code(n['address'])}: {md.prose(n['message'])}\n" for n in doc.get("notes") or ())
    if doc["in_sync"]:
        return f"## gpuctl drift: project {project} is in sync\n\nThe account ({provider}) matches gpu.jsonc.\n{note}"
    cost = cost_line(doc)
    said = f" Cost of the drift (the account against gpu.jsonc; indicative, USD): **{cost}**." if cost is not None else ""
    text = (f"## gpuctl drift: project {project}: {md.html_text(headline(doc))}\n\n"
            f"**Summary:** {md.html_text(headline(doc))}.{said}\n\nFound by {md.code(suggest('serverless', 'drift', flags=flags))} against provider {provider}, config {_code(doc['config'])}.\n\n")
    if note:
        text += note[1:] + "\n"
    labels = _md_labels(doc, flags)
    for i, entry in enumerate(doc["drift"]):
        section = _md_entry(doc, entry, source_url, flags)
        if len(text) + len(section) + len(labels) > limit - 400:
            rest = len(doc["drift"]) - i
            text += f"> **Truncated:** {counted(rest, 'more resource')} not shown; {md.code(suggest('serverless', 'drift', '--json', flags=flags))} has all of them.\n\n"
            break
        text += section
    return text + labels
