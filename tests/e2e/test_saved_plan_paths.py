"""Saving a plan and applying it as a user types it: `--out` never writes over what the run
reads and never fails as an internal error; the command `--out` prints applies the plan; a
`--from-plan` run with other flags names them; flags that only plan do not mix with
`--from-plan`; a JSON value that is not a plan says what it is."""

from __future__ import annotations

import json
import shlex

import pytest

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project

pytestmark = pytest.mark.e2e


def _clean(result) -> None:
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err


def test_out_never_writes_over_the_config_it_reads(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    before = (proj / "gpu.jsonc").read_text()
    result = account.gpu("serverless", "deploy", "--plan", "--out", "gpu.jsonc", cwd=proj)
    assert result.code == 1 and "--out gpu.jsonc would write over gpu.jsonc, which this run reads" in result.err
    assert "hint: give --out a file of its own" in result.err
    assert (proj / "gpu.jsonc").read_text() == before
    _clean(result)


@pytest.mark.parametrize("command", [("serverless", "deploy", "--plan"), ("serverless", "snapshot")], ids=["deploy", "snapshot"])
def test_out_into_a_directory_that_does_not_exist_is_a_user_error(account, tmp_path, command):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    result = account.gpu(*command, "--out", "missing/plan.json", cwd=proj)
    assert result.code == 1 and "cannot write --out missing/plan.json: No such file or directory" in result.err
    assert "hint: create missing first" in result.err
    _clean(result)


def test_the_command_out_prints_applies_the_saved_plan_with_its_config_and_flags(account, tmp_path):
    proj = project(tmp_path / "repo" / "svc", echo_config(), {"handler.py": ECHO_HANDLER})
    saved = account.gpu("serverless", "deploy", "--plan", "--config", "svc/gpu.jsonc", "--max-workers", "3", "--out", "plan.json", cwd=proj.parent)
    assert saved.code == 0, saved.err
    (line,) = [ln for ln in saved.err.splitlines() if "apply exactly it with: " in ln]
    words = shlex.split(line.split("apply exactly it with: ", 1)[1])
    assert words[:5] == ["gpu", "serverless", "deploy", "--from-plan", "plan.json"]
    assert "--config" in words and "--max-workers" in words

    without_flags = account.gpu("serverless", "deploy", "--from-plan", "plan.json", "--config", "svc/gpu.jsonc", cwd=proj.parent)
    assert without_flags.code == 1
    assert "the plan was made with --max-workers 3, and this run has no per-run flags" in without_flags.err
    assert account.endpoints() == []

    applied = account.gpu(*words[1:], cwd=proj.parent)
    assert applied.code == 0, applied.err
    (endpoint,) = account.endpoints()
    assert endpoint["workers"]["max"] == 3



def test_a_plan_applied_with_another_config_of_the_project_names_both_configs(account, tmp_path):
    """A saved plan records the gpu.jsonc it was made from; applied with another config of the
    same project_id, the refusal said "gpu.jsonc or the environment changed" although neither
    had (review 6, R6-9)."""
    both = echo_config(name="a", project_id="p1")
    both["serverless"] = [both["serverless"], echo_config(name="b", project_id="p1")["serverless"]]
    proj = project(tmp_path / "p", both, {"handler.py": ECHO_HANDLER, "only-a.jsonc": json.dumps(echo_config(name="a", project_id="p1"))})
    saved = account.gpu("serverless", "deploy", "--plan", "--out", "plan.json", cwd=proj)
    assert saved.code == 0, saved.err
    result = account.gpu("serverless", "deploy", "--from-plan", "plan.json", "-y", "--config", "only-a.jsonc", cwd=proj)
    assert result.code == 1, result.err
    assert "the plan was made from gpu.jsonc, and this run reads only-a.jsonc; refusing to apply it" in result.err, result.err
    assert "--config gpu.jsonc" in result.err and "gpu.jsonc or the environment changed" not in result.err, result.err
    assert account.endpoints() == []
    _clean(result)


@pytest.mark.parametrize("flag", [("--plan",), ("--out", "other.json")], ids=["plan", "out"])
def test_flags_that_only_plan_do_not_mix_with_from_plan(account, tmp_path, flag):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "--plan", "--out", "plan.json", cwd=proj).code == 0
    result = account.gpu("serverless", "deploy", "--from-plan", "plan.json", *flag, cwd=proj)
    assert result.code == 1 and f"--from-plan applies a saved plan, and {flag[0]} only plans" in result.err
    assert not (proj / "other.json").exists() and account.writes() == 0


@pytest.mark.parametrize(("value", "kind"), [([], "array"), ("plan", "string"), (None, "null")])
def test_a_json_value_that_is_not_an_object_is_named_for_what_it_is(account, tmp_path, value, kind):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER, "plan.json": json.dumps(value)})
    result = account.gpu("serverless", "deploy", "--from-plan", "plan.json", cwd=proj)
    assert result.code == 1 and f"plan.json is not a saved plan: it holds a JSON {kind}, and a plan is an object" in result.err
    assert "--plan --out plan.json" in result.err
    _clean(result)


BAD_FILES = {  # what the file holds -> the words the error says about it
    "not JSON": ("{nope", "it is not a saved plan"),
    "another format": ('{"format_version": "0"}', "is plan format"),
    "a list": ("[]", "is not a saved plan"),
    "a plan missing its keys": ('{"format_version": "1"}', "is not a saved plan"),
}


@pytest.mark.parametrize("given", ["bad.json", "../elsewhere/bad.json"], ids=["inside-cwd", "outside-cwd"])
@pytest.mark.parametrize("holds", list(BAD_FILES), ids=list(BAD_FILES))
def test_a_bad_from_plan_file_is_named_as_the_user_typed_it(account, tmp_path, given, holds):
    """`--from-plan bad.json` named the file by its absolute path (/tmp/.../bad.json) in the
    error: every path the user gives is named as typed, as `--config` and `--out` already were."""
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    text, said = BAD_FILES[holds]
    (proj / given).parent.mkdir(parents=True, exist_ok=True)
    (proj / given).write_text(text)
    result = account.gpu("serverless", "deploy", "--from-plan", given, cwd=proj)
    assert result.code == 1 and said in result.err, result.err
    assert given in result.err and str(tmp_path) not in result.err, result.err
    _clean(result)


@pytest.mark.parametrize("option", ["--observed", "--input"])
def test_a_bad_snapshot_or_input_file_is_named_as_the_user_typed_it(account, tmp_path, option):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "bad.json").write_text("{nope")
    given = "../elsewhere/bad.json"
    if option == "--observed":
        result = account.gpu("serverless", "deploy", "--plan", "--observed", given, cwd=proj)
    else:
        result = account.gpu("serverless", "invoke", "echo", "--input", "@" + given, cwd=proj)
    assert result.code != 0 and given + ":1:2" in result.err, result.err
    assert str(tmp_path) not in result.err, result.err
    _clean(result)
