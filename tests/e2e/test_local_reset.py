"""`gpu local reset` deletes every endpoint, template, volume, job and log of the local
provider. Like every other destructive gpu command (delete, deploy with deletions), it asks on
a terminal and, where nobody can answer (a pipe, CI), refuses unless told -y/--yes."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project
from tests.support.terminal import run_on_terminal

pytestmark = pytest.mark.e2e


def _deployed(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    assert len(account.endpoints()) == 1
    return proj


def test_reset_without_a_terminal_refuses_unless_told_yes(account, tmp_path):
    """It deleted all the state without asking when run from a script or CI."""
    proj = _deployed(account, tmp_path)
    refused = account.gpu("local", "reset", cwd=proj)
    assert refused.code == 1, refused.err
    assert refused.err.startswith("error: ") and "no terminal to ask on" in refused.err and "hint: pass -y" in refused.err, refused.err
    assert len(account.endpoints()) == 1  # nothing was deleted
    done = account.gpu("local", "reset", "--yes", cwd=proj)
    assert done.code == 0, done.err
    assert account.endpoints() == []


def test_reset_asks_on_a_terminal_and_no_keeps_everything(account, tmp_path):
    proj = _deployed(account, tmp_path)
    code, out = run_on_terminal(["local", "reset"], proj, account.env, [("Delete every endpoint", "n")])
    assert code == 1 and "cancelled: nothing was deleted" in out, out
    assert len(account.endpoints()) == 1
    code, out = run_on_terminal(["local", "reset"], proj, account.env, [("Delete every endpoint", "y")])
    assert code == 0 and "local provider state emptied" in out, out
    assert account.endpoints() == []
