"""Apply progress and the apply result, for people, on stderr and stdout respectively."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from gpuctl.commands import suggest
from gpuctl.events import Event, Failed, Finished, Started, Waiting
from gpuctl.render.words import STYLE, SYMBOL
from gpuctl.words import counted

_DOING = {"create": "creating", "update": "updating", "replace": "replacing", "delete": "deleting"}


def _started(address: str, action: str, suffix: str = "") -> Text:
    return Text.assemble((f"{SYMBOL[action]} ", STYLE[action]), f"{address}: {_DOING[action]}…{suffix}")


def _line(event: Event) -> Text | None:
    match event:
        case Started(address, action):
            return _started(address, action)
        case Finished(address, action, resource_id, seconds, note):
            ident = f" [id={resource_id}]" if resource_id else ""
            extra = f" ({note})" if note else ""
            return Text.assemble((f"{SYMBOL[action]} ", STYLE[action]), f"{address}: {action} complete after {seconds:.1f}s{ident}{extra}")
        case Failed(address, action, error):
            return Text(f"✗ {address}: {action} failed: {error}", style="bold red")
        case Waiting(message):
            return Text(f"… {message}", style="dim")
    return None


class ProgressView:
    """Subscribes to engine events and prints one line per step (logs, pipes, CI): a line is
    never wrapped at the console's width, so each stays one record of a log that grep, CI
    annotations and people read line by line."""

    wrap = False

    def __init__(self, console: Console):
        self.console = console

    def __call__(self, event: Event) -> None:
        line = _line(event)
        if line is not None:
            self.console.print(line, soft_wrap=not self.wrap)

    def note(self, message: str) -> None:
        """A note while progress is shown, printed as progress lines are (control characters
        escaped, as AppContext.note does)."""
        from gpuctl.safetext import printable

        self.console.print(Text(printable(message)), soft_wrap=not self.wrap)


class LiveProgressView(ProgressView):
    """On a terminal: finished steps scroll by as lines, and below them the changes in flight,
    each with how long it has been running, redrawn in place while any is running. Lines wrap
    at the terminal's width, as the in-flight area does."""

    wrap = True

    def __init__(self, console: Console, clock: Callable[[], float] = time.monotonic):
        super().__init__(console)
        self.clock = clock
        self.in_flight: dict[str, tuple[str, float]] = {}
        self.live: Live | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, Started):
            self.in_flight[event.address] = (event.action, self.clock())
            self._show()
            return
        if isinstance(event, (Finished, Failed)):
            self.in_flight.pop(event.address, None)
        super().__call__(event)
        if not self.in_flight:
            self._hide()
        elif self.live is not None:
            self.live.refresh()  # the count and rows change now, not at the next tick

    def render(self) -> Group:
        """The in-flight area: one line per change being applied, oldest first."""
        now = self.clock()
        # Live's refresh thread renders while apply workers add and remove changes: read a copy.
        in_flight = list(self.in_flight.items())
        rows = [_started(address, action, f" {now - since:.0f}s") for address, (action, since) in in_flight]
        return Group(Text(f"{len(rows)} in flight", style="dim"), *rows)

    def _show(self) -> None:
        if self.live is None:
            self.live = Live(console=self.console, get_renderable=self.render, refresh_per_second=4, transient=True)
            self.live.start()
        else:
            self.live.refresh()

    def _hide(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None


def outcome_lines(outcome) -> list[str]:
    lines = []
    overwritten = getattr(outcome, "overwritten", {})
    for address, action, resource_id in outcome.done:
        shown = f"{action} {address}" + (f" ({resource_id})" if resource_id else "")
        if address in overwritten:  # its write landed; the run that took the account lease changed it after
            lines.append(f"  overwritten:   {shown}: applied, then changed by another writer ({overwritten[address]})")
        else:
            lines.append(f"  done:          {shown}")
    for address, action, error in outcome.failed:
        lines.append(f"  failed:        {action} {address}: {error}")
    for address, action in outcome.not_attempted:
        lines.append(f"  not attempted: {action} {address}")
    return lines


def result_lines(result, local: bool) -> list[str]:
    """The end of a deploy for people: what was done, then how to call each endpoint.
    `result` is a gpuctl.engine.flow.DeployResult."""
    if result.outcome is None:
        head = "No changes were needed."
    else:
        done = [action for _, action, _ in result.outcome.done]
        counts = ", ".join(f"{done.count(a)} {past}" for a, past in (("create", "created"), ("update", "updated"), ("replace", "replaced"), ("delete", "deleted")))
        head = f"Apply complete: {counts}."
    return ["", head, *health_lines(result.health), *endpoint_lines(result.endpoints, local)]


def health_lines(health: dict | None) -> list[str]:
    """One line per endpoint the health gate checked: its verdict and the steps it took."""
    if health is None:
        return []
    lines = []
    for e in health["endpoints"]:
        steps = ", ".join(f"{s['step']} {s['status']}" for s in e["steps"])
        lines.append(f"health of {e['name']}: {'healthy' if e['healthy'] else 'UNHEALTHY'} ({steps})")
    return lines


BLOCKS_UP_TO = 3  # endpoints printed as a block each (id, URL, curl); more get a line each


def endpoint_lines(endpoints: list[dict], local: bool) -> list[str]:
    """What to call after an apply: a few endpoints each as a block with a curl to paste; more
    (a platform team's hundreds) one line each, name, id and URL, and one curl, for the first,
    so a CI log is not seven lines an endpoint."""
    lines = []
    if len(endpoints) <= BLOCKS_UP_TO:
        for e in endpoints:
            lines += ["", f"endpoint {e['name']}", f"  id:   {e['endpoint_id']}", f"  url:  {e['url']}", *_curl(e["url"])]
    else:
        name_w, id_w = (max(len(str(e[k])) for e in endpoints) for k in ("name", "endpoint_id"))
        lines += ["", f"{counted(len(endpoints), 'endpoint')} (name, id, URL):"]
        lines += [f"  {e['name']:<{name_w}}  {e['endpoint_id']:<{id_w}}  {e['url']}" for e in endpoints]
        lines += ["", f"Call one, {endpoints[0]['name']} here:", *_curl(endpoints[0]["url"])]
    if local and endpoints:
        lines += ["", f"The local provider's key and URLs: eval \"$({suggest('local', 'env')})\""]
    return lines


def _curl(url: str) -> list[str]:
    return [f"  curl -X POST {url} \\",
            '    -H "Authorization: Bearer $RUNPOD_API_KEY" -H "Content-Type: application/json" \\',
            "    -d '{\"input\": {}}'"]
