"""What `deploy` shows while the flow runs: the plan when it is ready, notes on stderr, and the
apply's progress (live on a terminal, a line per step elsewhere)."""

from __future__ import annotations

import threading

from gpuctl.cli import planning
from gpuctl.cli.context import AppContext
from gpuctl.engine.apply import ApplyFailed, Interrupted
from gpuctl.errors import GpuctlError
from gpuctl.events import Event, Note, PlanReady

_PREFIX = {"note": "note: ", "warning": "warning: ", "plain": ""}


class DeployView:
    """Subscribes to the deploy flow. `fmt` is how to print the plan (None: not at all, as
    under --json, whose one document is the result).

    Events come from several threads at once (apply's workers, name claims, lease renewals):
    one is shown at a time, and once apply's progress is on screen a note goes through it, so
    a note neither splits a progress line nor lands inside the live in-flight area."""

    rerun = "run deploy again to apply the rest"  # how the rest of an interrupted apply gets applied, run this way

    def __init__(self, app: AppContext, fmt: str | None, locate=None):
        self.app, self.fmt, self.locate = app, fmt, locate  # locate: Session.locate, the gpu.jsonc key of each changed field
        self.progress = None
        self._showing = threading.RLock()

    def __call__(self, event: Event) -> None:
        with self._showing:
            match event:
                case PlanReady(plan, _) if self.fmt is not None:
                    planning.write_plan(self.app, plan, "text" if self.fmt == "json" else self.fmt, self.locate)
                case PlanReady():
                    pass
                case Note(message, level) if self.progress is not None:
                    self.progress.note(_PREFIX.get(level, "") + message)
                case Note(message, level):
                    self.app.note(_PREFIX.get(level, "") + message)
                case _:
                    self._progress()(event)

    def stopped(self, failure: ApplyFailed) -> GpuctlError:
        """The error an apply that stopped part-way ends with: its cause, with `advice`."""
        return self.advice(failure.cause)

    def advice(self, error: GpuctlError) -> GpuctlError:
        """`error` as this command ends with it: deploy keeps its cause's own hint, and for an
        interrupt (which has none) says how to apply the rest, as this command is run. A view
        for another way of running the flow (a GitHub apply job) says what to do there."""
        if isinstance(error, Interrupted) and error.hint is None:
            return error.with_hint(self.rerun)
        return error

    def _progress(self):
        if self.progress is None:
            from gpuctl.render.progress import LiveProgressView, ProgressView

            console = self.app.console(stderr=True)
            self.progress = LiveProgressView(console) if self.app.stderr_live else ProgressView(console)
        return self.progress
