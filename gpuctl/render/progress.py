"""Apply progress and the apply result, for people, on stderr and stdout respectively."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from gpuctl.engine.events import Event, Failed, Finished, Started, Waiting
from gpuctl.render.words import STYLE, SYMBOL

_DOING = {"create": "creating", "update": "updating", "replace": "replacing", "delete": "deleting"}


class ProgressView:
    """Subscribes to engine events and prints one line per step."""

    def __init__(self, console: Console):
        self.console = console

    def __call__(self, event: Event) -> None:
        match event:
            case Started(address, action):
                self.console.print(Text.assemble((f"{SYMBOL[action]} ", STYLE[action]), f"{address}: {_DOING[action]}…"))
            case Finished(address, action, resource_id, seconds, note):
                ident = f" [id={resource_id}]" if resource_id else ""
                extra = f" ({note})" if note else ""
                self.console.print(Text.assemble((f"{SYMBOL[action]} ", STYLE[action]), f"{address}: {action} complete after {seconds:.1f}s{ident}{extra}"))
            case Failed(address, action, error):
                self.console.print(Text(f"✗ {address}: {action} failed: {error}", style="bold red"))
            case Waiting(message):
                self.console.print(Text(f"… {message}", style="dim"))


def outcome_lines(outcome) -> list[str]:
    lines = []
    for address, action, resource_id in outcome.done:
        lines.append(f"  done:          {action} {address}" + (f" ({resource_id})" if resource_id else ""))
    for address, action, error in outcome.failed:
        lines.append(f"  failed:        {action} {address}: {error}")
    for address, action in outcome.not_attempted:
        lines.append(f"  not attempted: {action} {address}")
    return lines


def endpoint_lines(endpoints: list[dict], local: bool) -> list[str]:
    lines = []
    for e in endpoints:
        lines += [
            "",
            f"endpoint {e['name']}",
            f"  id:   {e['endpoint_id']}",
            f"  url:  {e['url']}",
            f"  curl -X POST {e['url']} \\",
            '    -H "Authorization: Bearer $RUNPOD_API_KEY" -H "Content-Type: application/json" \\',
            "    -d '{\"input\": {}}'",
        ]
    if local and endpoints:
        lines += ["", "The local provider's key and URLs: eval \"$(gpu local env)\""]
    return lines
