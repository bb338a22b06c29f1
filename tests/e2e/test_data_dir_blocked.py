"""A file where the local provider keeps a directory of its own (`logs/`, `homes/`): every
worker start failed with a traceback in server.log only, and jobs stayed IN_QUEUE for ever
while invoke hinted they were waiting for a worker (review 4, R4-7). The start now fails the
queued jobs with the path in the way and the fix, as a missing local.command does."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ECHO_HANDLER, STAYS, echo_config, project


@pytest.mark.parametrize("where", ["logs", "homes"])
def test_a_file_in_place_of_a_directory_of_the_data_dir_fails_the_job_naming_it(account, tmp_path, where):
    proj = project(tmp_path / "p", echo_config(idle_timeout=STAYS), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    blocked = account.server.data_dir / where
    if blocked.is_dir():
        blocked.rename(blocked.with_name(f"{where}.bak"))
    blocked.write_text("junk\n")

    run = account.gpu("serverless", "invoke", "echo", "--input", '{"prompt": "hi"}', "--timeout", "600s", cwd=proj)
    assert run.code != 0, run.out
    assert f"{blocked} is not a directory" in run.err and "move it away" in run.err, run.err
    assert "Traceback" not in run.err and "IN_QUEUE" not in run.err
    assert blocked.read_text() == "junk\n"  # left as it was: it may be someone's
