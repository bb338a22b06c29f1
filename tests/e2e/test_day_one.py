"""A newcomer's first hour, by the real CLI against the local provider: the mistakes people make
on day one (a gpu.json, a command run from a subdirectory, a handler file misnamed in
local.command, a trailing comma in --input), each answered with the problem, where it is and
the fix, before anything runs that would only fail later."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project

pytestmark = pytest.mark.e2e


def test_a_gpu_json_beside_the_missing_gpu_jsonc_is_named_with_the_fix(account, tmp_path):
    proj = tmp_path / "app"
    proj.mkdir()
    (proj / "gpu.json").write_text(json.dumps(echo_config()))
    for args in (("serverless", "deploy", "--plan"), ("config", "validate"), ("serverless", "list")):
        result = account.gpu(*args, cwd=proj)
        assert result.code == 1 and "Traceback" not in result.err, result.err
        assert "gpu.json is here" in result.err and "--config gpu.json" in result.err and "mv gpu.json gpu.jsonc" in result.err, (args, result.err)


def test_a_command_run_from_a_subdirectory_names_the_parent_gpu_jsonc(account, tmp_path):
    proj = project(tmp_path / "app", echo_config(), {"handler.py": ECHO_HANDLER})
    sub = proj / "src" / "models"
    sub.mkdir(parents=True)
    for args in (("serverless", "deploy", "--plan"), ("serverless", "list"), ("serverless", "pull")):
        result = account.gpu(*args, cwd=sub)
        assert result.code == 1 and "Traceback" not in result.err, result.err
        assert f"{proj / 'gpu.jsonc'} is in a parent directory" in result.err, (args, result.err)
        assert "--config ../../gpu.jsonc" in result.err, (args, result.err)
    # the hint is right: following it works
    assert account.gpu("serverless", "deploy", "--plan", "--config", "../../gpu.jsonc", cwd=sub).code == 0


def test_without_any_gpu_jsonc_near_the_hint_stays_the_plain_one(account, tmp_path):
    result = account.gpu("serverless", "deploy", "--plan", cwd=tmp_path)
    assert result.code == 1
    assert "create gpu.jsonc in the project directory, or pass --config PATH, or deploy without one: --template NAME --gpu-type TYPE" in result.err
    assert "parent directory" not in result.err


def test_a_local_command_naming_a_missing_script_is_a_warning_before_deploy(account, tmp_path):
    config = echo_config()
    config["serverless"]["local"]["command"] = ["python", "handlr.py"]
    proj = project(tmp_path / "app", config, {"handler.py": ECHO_HANDLER})
    for args in (("config", "validate"), ("serverless", "deploy", "--plan")):
        result = account.gpu(*args, cwd=proj)
        assert result.code == 0, result.err
        said = result.out + result.err
        assert "local.command" in said and "handlr.py" in said and f"not in {proj}" in said, (args, said)
        assert 'did you mean "handler.py"' in said, said


def test_a_local_command_whose_script_is_there_draws_no_warning(account, tmp_path):
    proj = project(tmp_path / "app", echo_config(), {"handler.py": ECHO_HANDLER})
    result = account.gpu("config", "validate", cwd=proj)
    assert result.code == 0 and "local.command" not in result.out + result.err


def test_a_trailing_comma_in_input_is_named_as_one(account, tmp_path):
    proj = project(tmp_path / "app", echo_config(), {"handler.py": ECHO_HANDLER})
    result = account.gpu("serverless", "invoke", "echo", "--input", '{"prompt": "hi",}', cwd=proj)
    assert result.code == 1 and "Traceback" not in result.err
    assert "trailing comma" in result.err and "remove the comma" in result.err, result.err
    assert "double-quoted" not in result.err, result.err


def test_list_in_a_pipe_keeps_each_url_and_id_whole_on_its_row(account, tmp_path):
    """`gpu serverless list | grep`, or a CI log: the table was folded at the width (100, or
    COLUMNS), so the URL came out in pieces on three lines, which no one can paste."""
    name = "a-rather-long-endpoint-name-for-the-image-pipeline-of-the-team"
    proj = project(tmp_path / "app", echo_config(name=name), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    live = next(e for e in account.endpoints() if e["name"] == name)
    for env in ({}, {"COLUMNS": "80"}):
        for args in (("serverless", "list"), ("serverless", "list", "--all")):
            result = account.gpu(*args, cwd=proj, env=env)
            assert result.code == 0, result.err
            row = next(line for line in result.out.splitlines() if line.startswith(name))
            assert live["id"] in row and f"/{live['id']}/runsync" in row, (args, env, result.out)
            assert row.split()[-1].startswith("http://127.0.0.1:") and row.split()[-1].endswith("/runsync"), result.out


def test_ctrl_c_before_the_apply_says_that_nothing_was_changed(account, tmp_path):
    """Ctrl-C while deploy waited (here for another deploy's lock) printed a bare "interrupted":
    a newcomer could not tell whether half of the plan had been applied."""
    import signal
    import subprocess
    import sys

    from tests.test_lock import HOLD

    proj = project(tmp_path / "app", echo_config(), {"handler.py": ECHO_HANDLER})
    (proj / ".gpu").mkdir()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(proj / ".gpu" / "deploy.lock")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        writes = account.writes()
        deploy = account.popen("serverless", "deploy", "-y", "--lock-timeout", "10m", cwd=proj)
        for line in deploy.stderr:
            if "waiting for the lock" in line:
                break
        deploy.send_signal(signal.SIGINT)
        out, err = deploy.communicate(timeout=60)
    finally:
        holder.kill()
        holder.wait()
    assert deploy.returncode == 130, err
    assert "interrupted before the apply: nothing was changed in the account" in err and "Traceback" not in err, err
    assert account.writes() == writes and account.endpoints() == []


def test_status_of_an_endpoint_scaled_to_zero_does_not_report_a_stuck_rollout(account, tmp_path):
    """Right after the first deploy, status said "release v1, rollout 0% on latest (0/0)": it
    read as a deploy that never rolled out, where there is simply no worker yet."""
    proj = project(tmp_path / "app", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    result = account.gpu("serverless", "status", "echo", cwd=proj)
    assert result.code == 0, result.err
    release = next(line for line in result.out.splitlines() if "release" in line)
    assert "0%" not in release and "v1" in release and "no workers running" in release, result.out


@pytest.mark.parametrize("given, says", [
    (["--input", ""], "the job input is empty: --input was given no text"),  # --input "$INPUT" with INPUT unset
    (["--input", "@empty.json"], "the job input is empty: empty.json holds no text"),
])
def test_an_empty_job_input_is_named_as_empty(account, tmp_path, given, says):
    """An empty input was "not valid JSON: Expecting value" at 1:1, pointing at nothing."""
    proj = project(tmp_path / "app", echo_config(), {"handler.py": ECHO_HANDLER, "empty.json": "\n"})
    result = account.gpu("serverless", "invoke", "echo", *given, cwd=proj)
    assert result.code == 1 and "Traceback" not in result.err, result.err
    assert says in result.err and "Expecting value" not in result.err, result.err
    assert "leave out --input to send {}" in result.err, result.err
