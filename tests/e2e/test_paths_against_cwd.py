"""Every path the user names is relative to the command's working directory (`AppContext.cwd`,
through `planning.user_path`), never the process's: `deploy --from-plan` and `local --data-dir`
read the process's, so gpu run in-process for another directory (the GitHub runner, a test)
read or wrote another file."""

from __future__ import annotations

import json
import os

from tests.conftest import run_cli
from tests.e2e.conftest import ECHO_HANDLER, echo_config, project


def test_from_plan_is_read_relative_to_the_commands_directory(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    saved = account.gpu("serverless", "deploy", "--plan", "--out", "plan.json", cwd=proj)
    assert saved.code == 0, saved.err
    assert os.getcwd() != str(proj) and not os.path.exists("plan.json")
    applied = run_cli(["serverless", "deploy", "--from-plan", "plan.json"], proj, account.env)
    assert applied.code == 0, applied.err
    assert [e["name"] for e in account.endpoints()] == ["echo"]


def test_local_data_dir_is_relative_to_the_commands_directory(tmp_path):
    (tmp_path / "state").mkdir()
    shown = run_cli(["local", "status", "--json", "--data-dir", "state"], tmp_path, {"HOME": str(tmp_path / "home")})
    assert shown.code == 0, shown.err
    assert json.loads(shown.out)["data_dir"] == str(tmp_path / "state")
