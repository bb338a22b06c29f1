"""The plan for people, in the style of `terraform plan`, rendered with rich."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from gpuctl.render.policy import policy_text
from gpuctl.render.words import cost_lines, field_line, for_people, heading, path_width, shown, style, summary_line, symbol, template_note, where_keys

_FIELD_STYLE = {"+": "green", "-": "red", "~": "yellow"}


def _resource_lines(resource: dict) -> list[Text]:
    action = resource["action"]
    lines = [Text(f"  # {heading(resource)}", style="bold")]
    if resource["reason"]:
        lines.append(Text(f"  #   {resource['reason']}", style="dim"))
    note = template_note(resource)
    if note:
        lines.append(Text(f"  #   {note}", style="dim"))
    mark, colour = symbol(resource), style(resource)
    if action in ("delete", "preserve", "orphan", "no-op"):
        lines.append(Text(f"  {mark} {resource['kind']} \"{resource['name']}\"", style=colour))
        return lines
    lines.append(Text.assemble((f"  {mark} ", colour), f"{resource['kind']} \"{resource['name']}\" {{"))
    width = path_width(resource)
    for change in resource["changes"]:
        mark, body = field_line(change, width, creating=action == "create", labelled=resource["kind"] == "endpoint")
        lines.append(Text.assemble(("      " + mark + " ", _FIELD_STYLE[mark]), body))
        where = where_keys(change)
        if where:
            lines.append(Text(f"          in gpu.jsonc: {where}", style="dim"))
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
    listed = shown(doc)
    snapshot = f", against snapshot {doc['observed_from']}" if doc.get("observed_from") is not None else ""
    header = f'gpuctl plan for project "{doc["project_id"]}" (provider {doc["provider"]}, config {doc["config"]}{snapshot})'
    console.print(Text(header, style="bold"), soft_wrap=True)  # one line, as long as it is: the terminal wraps it
    if doc.get("lease"):  # before anything else: every change below may be another command's
        console.print(Text(f"warning: {doc['lease']['message']}", style="bold yellow"), soft_wrap=True)
    for o in doc["overrides"]:
        console.print(Text(f"  override {o['flag']}: {o['path']} = {o['value']}", style="cyan"))
    if listed:
        console.print()
        console.print("gpuctl will perform the following actions:" if any(r["action"] != "no-op" for r in listed) else "gpuctl will change nothing, but found:")
    if listed:  # one print: rich's cost is per call, and a plan may list thousands of lines
        lines = [line for resource in listed for line in (Text(""), *_resource_lines(resource))]
        console.print(Text("\n").join(lines), soft_wrap=True)
    for line in policy_text(doc):
        console.print(line, soft_wrap=True)
    _notices(console, "Warnings:", "!", "yellow", doc["warnings"])
    _notices(console, "Notes:", "-", "dim", doc["notes"])
    console.print()
    console.print(Text(cost_lines(doc)), soft_wrap=True)
    console.print(Text(summary_line(doc), style="bold"))
