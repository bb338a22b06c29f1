"""The plan as a pull-request comment: summary first, one collapsible section per resource,
capped well under GitHub's 65,536-character comment limit."""

from __future__ import annotations

import html

from gpuctl.render.policy import policy_markdown
from gpuctl.render.words import cost_line, field_line, for_people, heading, path_width, shown, summary_line, symbol, template_note

LIMIT = 60_000


def _escape(text: str) -> str:
    return text.replace("```", "ˋˋˋ")


def _section(resource: dict) -> str:
    action = resource["action"]
    lines = []
    if resource["reason"]:
        lines.append(f"# {resource['reason']}")
    note = template_note(resource)
    if note:
        lines.append(f"# {note}")
    width = path_width(resource)
    for change in resource["changes"]:
        mark, body = field_line(change, width, creating=action == "create", labelled=resource["kind"] == "endpoint")
        lines.append(f"{mark} {body}")
    body = "\n".join(_escape(line) for line in lines) or "(no field changes)"
    summary = f"<code>{symbol(resource)}</code> {html.escape(heading(resource))}"
    return f"<details><summary>{summary}</summary>\n\n```diff\n{body}\n```\n</details>\n"


def _notices(title: str, mark: str, items: list[dict], shown: int = 20) -> str:
    """A list of warnings or notes, at most `shown` of them: the resources matter more."""
    if not items:
        return ""
    lines = [f"- {mark}{'`' + n['address'] + '`: ' if n['address'] else ''}{n['message']}\n" for n in items[:shown]]
    if len(items) > shown:
        lines.append(f"- … and {len(items) - shown} more in the JSON plan (`--format json`)\n")
    return f"\n**{title}**\n\n" + "".join(lines)


def render_markdown(doc: dict, limit: int = LIMIT) -> str:
    doc = for_people(doc)
    parts = [f"### gpuctl plan: {summary_line(doc).removeprefix('Plan: ')}\n", f"Project `{doc['project_id']}` · provider `{doc['provider']}` · {cost_line(doc)}\n"]
    for o in doc["overrides"]:
        parts.append(f"- override `{o['flag']}`: `{o['path']}` = `{o['value']}`\n")
    parts.append(policy_markdown(doc))
    parts.append(_notices("Warnings", "⚠️ ", doc["warnings"]))
    parts.append(_notices("Notes", "", doc["notes"]))
    parts.append("\n")
    listed = shown(doc)
    text = "".join(parts)
    for i, resource in enumerate(listed):
        section = _section(resource)
        if len(text) + len(section) > limit - 400:
            rest = len(listed) - i
            text += (f"\n> **Truncated:** {rest} more resource{'s' if rest != 1 else ''} not shown to stay under GitHub's comment limit. "
                     "Run `gpu serverless deploy --plan` or download the JSON plan (`--format json`) for the full plan.\n")
            break
        text += section
    return text
