"""`deploy` on a terminal draws the changes in flight below the finished steps and redraws
them in place while they run (gpuctl.render.progress.LiveProgressView). A fault rule holds the
endpoint's create on the local provider until the test has seen a later frame drawn over the
first (a fixed 2 s hang could end before that on a loaded machine); the test reads what the
terminal shows, frame by frame, as it comes."""

from __future__ import annotations

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project
from tests.support.terminal import Terminal

CURSOR_UP = "\x1b[1A"  # how a redraw in place moves back over the last frame
HOLD = {"op": "create", "kind": "endpoint", "action": "hang", "seconds": 3600, "times": 1}  # until the test clears the rules


def test_deploy_on_a_terminal_shows_the_change_in_flight_until_it_completes(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    account.faults(HOLD)
    deploying = Terminal(["serverless", "deploy", "-y"], proj, account.env)
    deploying.wait_for("Plan: 1 to create")
    deploying.wait_for("1 in flight")
    deploying.wait_for("+ endpoint.echo: creating… 0s")
    try:
        later = deploying.wait_for_match(r"\+ endpoint\.echo: creating… [1-9][0-9]*s")
        assert account.server.admin("GET", "faults")["rules"][0]["fired"] == 1, "the provider never held the endpoint's create"
    finally:
        account.clear_faults()
    assert CURSOR_UP in later and "1 in flight" in later, f"the later frame was not drawn over the first: {later!r}"
    deploying.wait_for("+ endpoint.echo: create complete after")
    deploying.wait_for("Apply complete: 1 created")
    assert deploying.exit_code() == 0, deploying.transcript
