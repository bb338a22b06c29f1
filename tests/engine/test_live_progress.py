"""The live progress view of a terminal shows the changes in flight, and stops redrawing when
none is left; finished steps are printed as lines."""

from __future__ import annotations

from io import StringIO

from rich.console import Console

from gpuctl.events import Finished, Started
from gpuctl.render.progress import LiveProgressView


def test_the_changes_in_flight_are_shown_with_how_long_each_has_run():
    now = [10.0]
    view = LiveProgressView(Console(file=StringIO(), width=100, color_system=None, force_terminal=True), clock=lambda: now[0])
    view(Started("endpoint.a", "create"))
    now[0] = 13.0
    view(Started("network_volume.models", "update"))
    shown = Console(file=StringIO(), width=100, color_system=None)
    shown.print(view.render())
    lines = shown.file.getvalue().splitlines()
    assert lines == ["2 in flight", "+ endpoint.a: creating… 3s", "~ network_volume.models: updating… 0s"]
    view(Finished("endpoint.a", "create", "ep1", 4.0))
    assert list(view.in_flight) == ["network_volume.models"] and view.live is not None
    view(Finished("network_volume.models", "update", "vol1", 1.0))
    assert view.live is None and view.in_flight == {}
    printed = view.console.file.getvalue()
    assert "endpoint.a: create complete after 4.0s [id=ep1]" in printed


def test_the_in_flight_area_is_redrawn_when_a_change_finishes_not_at_the_next_tick():
    view = LiveProgressView(Console(file=StringIO(), width=100, color_system=None, force_terminal=True))
    for name in "abc":
        view(Started(f"endpoint.{name}", "create"))
    view(Finished("endpoint.a", "create", "ep1", 1.0))
    try:
        frames = view.console.file.getvalue()
        assert "3 in flight" in frames and "2 in flight" in frames
    finally:
        for name in "bc":
            view(Finished(f"endpoint.{name}", "create", name, 1.0))


class _Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def test_a_note_while_changes_are_in_flight_is_printed_above_the_live_area_not_into_it():
    """A name claim's or a lease's note comes from a worker thread while the in-flight area is
    on screen: written straight to stderr it was glued to the area's last line and then erased
    by the next redraw."""
    from gpuctl.cli.context import AppContext
    from gpuctl.cli.deploy_view import DeployView
    from gpuctl.events import Note

    err = _Terminal()
    view = DeployView(AppContext(environ={"COLUMNS": "100", "NO_COLOR": "1"}, stderr=err), None)
    view(Started("endpoint.a", "create"))
    view(Started("endpoint.b", "create"))  # the area is drawn now
    view(Note("waiting for the name claim held by project 'other'", "plain"))
    view(Finished("endpoint.a", "create", "ep1", 1.0))
    view(Finished("endpoint.b", "create", "ep2", 1.0))
    shown = err.getvalue()
    assert "0swaiting" not in shown
    assert "\x1b[2Kwaiting for the name claim held by project 'other'\n" in shown  # the area was cleared first
