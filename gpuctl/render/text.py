"""The plan for people, in the style of `terraform plan`, rendered with rich."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from gpuctl.render.words import for_people, path_width, STYLE, SYMBOL, cost_line, field_line, heading, summary_line, template_note

_FIELD_STYLE = {"+": "green", "-": "red", "~": "yellow"}


def _resource_lines(resource: dict) -> list[Text]:
    action = resource["action"]
    lines = [Text(f"  # {heading(resource)}", style="bold")]
    if resource["reason"]:
        lines.append(Text(f"  #   {resource['reason']}", style="dim"))
    note = template_note(resource)
    if note:
        lines.append(Text(f"  #   {note}", style="dim"))
    symbol = SYMBOL[action]
    if action in ("delete", "preserve", "orphan"):
        lines.append(Text(f"  {symbol} {resource['kind']} \"{resource['name']}\"", style=STYLE[action]))
        return lines
    lines.append(Text.assemble((f"  {symbol} ", STYLE[action]), f"{resource['kind']} \"{resource['name']}\" {{"))
    width = path_width(resource)
    for change in resource["changes"]:
        mark, body = field_line(change, width, creating=action == "create")
        lines.append(Text.assemble(("      " + mark + " ", _FIELD_STYLE[mark]), body))
    lines.append(Text("    }"))
    return lines


def _notices(console: Console, title: str, mark: str, style: str, items: list[dict]) -> None:
    if not items:
        return
    console.print()
    console.print(Text(title, style=f"bold {style}" if style != "dim" else "bold"))
    for n in items:
        where = f"{n['address']}: " if n["address"] else ""
        console.print(Text(f"  {mark} {where}{n['message']}", style=style), soft_wrap=True)


def render_text(doc: dict, console: Console) -> None:
    doc = for_people(doc)
    shown = [r for r in doc["resource_changes"] if r["action"] != "no-op"]
    header = f'gpuctl plan for project "{doc["project_id"]}" (provider {doc["provider"]}, config {doc["config"]})'
    console.print(Text(header, style="bold"))
    for o in doc["overrides"]:
        console.print(Text(f"  override {o['flag']}: {o['path']} = {o['value']}", style="cyan"))
    if shown:
        console.print()
        console.print("gpuctl will perform the following actions:")
    for resource in shown:
        console.print()
        for line in _resource_lines(resource):
            console.print(line, soft_wrap=True)
    _notices(console, "Warnings:", "!", "yellow", doc["warnings"])
    _notices(console, "Notes:", "-", "dim", doc["notes"])
    console.print()
    console.print(cost_line(doc))
    console.print(Text(summary_line(doc), style="bold"))
