"""Warm-up progress for people, on stderr: rich progress bars where progress is drawn live (the
caller decides: gpuctl.cli.context.AppContext.live), one plain line per step otherwise (CI logs,
pipes, TERM=dumb), so nothing redraws where no one can see it redrawn."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TextIO
from gpuctl.words import counted


def size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def describe(event: dict) -> str | None:
    """The plain line for one downloader event; None for events only a progress bar shows."""
    match event.get("event"):
        case "model":
            return f"downloading {event['repo']}@{event['revision']} ({event['sha'][:12]}): {counted(event['files'], 'file')}"
        case "file_done" if event.get("skipped"):
            return f"  {event['file']}: already in the volume"
        case "file_done":
            return f"  {event['file']}: {size(event['bytes'])}"
        case "model_done":
            return f"done: {event['repo']} ({size(event['bytes'])} downloaded)"
        case "error":
            return f"failed: {event.get('model')}: {event.get('message')}"
    return None


class PlainView:
    """One line per step on stderr; a status is printed only when it changes."""

    def __init__(self, stream: TextIO):
        self.stream, self.last = stream, ""

    def __enter__(self) -> PlainView:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stream.flush()

    def status(self, text: str) -> None:
        if text != self.last:
            self.last = text
            self.note(text)

    def note(self, text: str) -> None:
        self.stream.write(text + "\n")  # one write: a signal between the text and its newline left the line open
        self.stream.flush()

    def output(self, line: str) -> None:
        self.note(f"  pod | {line}")

    def event(self, event: dict) -> None:
        line = describe(event)
        if line:
            self.note(line)


def _files_only(column: Any) -> Any:
    """A progress column that stays empty on the step line (a spinner and a sentence) and
    shows bytes, speed and bars only on file lines."""
    render = column.render
    column.render = lambda task: render(task) if "file" in task.fields else ""
    return column


class RichView(PlainView):
    """A spinner line for the current step and a bar per file being downloaded."""

    def __init__(self, stream: TextIO, console: Callable[[], Any]):
        from rich.progress import BarColumn, DownloadColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn, TransferSpeedColumn

        super().__init__(stream)
        files = [_files_only(c) for c in (BarColumn(), DownloadColumn(), TransferSpeedColumn())]
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), *files, TimeElapsedColumn(), console=console())
        self.step = self.progress.add_task("starting", total=None)
        self.files: dict[tuple[str, str], tuple[Any, int]] = {}  # (repo, file) -> (task, total bytes)

    def __enter__(self) -> RichView:
        self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.update(self.step, visible=False)
        self.progress.stop()

    def status(self, text: str) -> None:
        self.progress.update(self.step, description=text)

    def note(self, text: str) -> None:
        self.progress.console.print(text, markup=False, highlight=False)

    def event(self, event: dict) -> None:
        key = (event.get("repo", ""), event.get("file", ""))
        match event.get("event"):
            case "file":
                total = event.get("total") or 0
                self.files[key] = (self.progress.add_task(f"  {event['file']}", total=total or None, file=True), total)
            case "progress" if key in self.files:
                self.progress.update(self.files[key][0], completed=event["bytes"])
            case "file_done" if key in self.files:
                task, total = self.files[key]
                self.progress.update(task, completed=event["bytes"], total=total or event["bytes"])
            case "model" | "model_done" | "error" | "file_done":
                self.note(describe(event) or "")


def make_view(stream: TextIO, console: Callable[[], Any], live: bool) -> PlainView:
    """Bars when `live`, plain lines otherwise. `console` makes the rich console for `stream`."""
    return RichView(stream, console) if live else PlainView(stream)
