"""Usage errors exit 1, name the command and the fix, and never repeat what was typed: an API
key pasted into the wrong place must not be printed back (docs/errors.md, "Usage errors")."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from gpuctl.cli import cli
from tests.conftest import ROOT, run_cli

CANARY = "sk_canary_1234567890"


def _gpu(*args: str, cwd) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "NO_COLOR": "1", "GPU_PROVIDER": "local", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "gpuctl", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)


def test_an_extra_argument_shaped_like_a_key_is_not_printed_back(tmp_path):
    done = _gpu("serverless", "list", CANARY, cwd=tmp_path)
    assert done.returncode == 1
    assert CANARY not in done.stdout and CANARY not in done.stderr
    assert done.stderr.startswith("error: unexpected extra argument for `gpu serverless list` (1 given;")
    assert "hint: it takes no arguments; see `gpu serverless list --help`" in done.stderr


@pytest.mark.parametrize("args, says", [
    (["serverless", "list", f"--{CANARY}"], "unknown option for `gpu serverless list`"),
    (["serverless", "list", f"--api-key={CANARY}"], "unknown option for `gpu serverless list`"),
    (["serverless", "deploy", "--format", CANARY], "invalid value for --format of `gpu serverless deploy`: must be one of text, markdown, json"),
    (["serverless", "deploy", "--min-workers", CANARY], "invalid value for --min-workers of `gpu serverless deploy`: must be a whole number"),
    (["serverless", "warm", "x", "--timeout", CANARY], "invalid value for --timeout of `gpu serverless warm`: must be a duration of more than 0, such as 30s, 5m, 1h or 1h30m"),
    (["serverless", "deploy", "--lock-timeout", CANARY], "invalid value for --lock-timeout of `gpu serverless deploy`: must be a duration"),
    (["serverless", "deploy", "--wait-healthy", "--timeout", CANARY], "invalid value for --timeout of `gpu serverless deploy`: must be a duration"),
    (["serverless", "rollback", "x", "--to", "1", "--lock-timeout", CANARY], "invalid value for --lock-timeout of `gpu serverless rollback`: must be a duration"),
    (["github", "apply", "--lock-timeout", CANARY], "invalid value for --lock-timeout of `gpu github apply`: must be a duration"),
    (["serverless", "logs", "x", "--since", CANARY], "invalid value for --since of `gpu serverless logs`: the value given is neither"),
    # Not --from-plan: a file a flag names is named in the error about it, as the place to fix
    # (tests/e2e/test_named_json_files.py), the way git and terraform name a path they cannot open.
    (["serverless", "list", f"--json={CANARY}"], "option '--json' does not take a value"),
    (["serverless", CANARY], "unknown command for `gpu serverless`"),
])
def test_other_usage_errors_exit_1_and_never_echo_the_value(tmp_path, args, says):
    done = _gpu(*args, cwd=tmp_path)
    assert done.returncode == 1
    assert CANARY not in done.stdout + done.stderr
    assert says in done.stderr and "--help`" in done.stderr and "Traceback" not in done.stderr


def test_close_names_of_gpuctl_s_own_options_and_commands_are_suggested(tmp_path):
    option = run_cli(["serverless", "list", "--jsno"], tmp_path)
    assert option.code == 1 and "did you mean --json?" in option.err and "jsno" not in option.err
    command = run_cli(["serverless", "delpoy"], tmp_path)
    assert command.code == 1 and "did you mean deploy?" in command.err and "delpoy" not in command.err


@pytest.mark.parametrize("args, meant", [
    (["serverless", "deploy", "--dry-run"], "--plan"),  # was "did you mean --prune?"
    (["serverless", "rollback", "echo", "--to", "1", "--dry-run"], "--plan"),
    (["serverless", "deploy", "-f", "gpu.jsonc"], "--config"),  # kubectl's -f
    (["serverless", "list", "--file", "gpu.jsonc"], "--config"),
])
def test_another_tool_s_name_for_an_option_points_to_gpuctl_s(tmp_path, args, meant):
    """A newcomer types what kubectl, helm or terraform call it; close spellings alone missed it."""
    result = run_cli(args, tmp_path)
    assert result.code == 1 and f"did you mean {meant}?" in result.err, result.err


@pytest.mark.parametrize("args, meant", [
    (["init"], "no init command: write gpu.jsonc"),  # a newcomer's first command
    (["serverless", "init"], "no init command: write gpu.jsonc"),
    (["serverless", "apply"], "did you mean deploy?"),  # terraform, kubectl
    (["serverless", "plan"], "did you mean deploy --plan?"),
    (["serverless", "ls"], "did you mean list?"),
    (["serverless", "rm", "x"], "did you mean delete?"),
    (["serverless", "destroy"], "did you mean delete?"),
    (["login"], "did you mean auth login?"),
])
def test_another_tool_s_name_for_a_command_points_to_gpuctl_s(tmp_path, args, meant):
    """`gpu init` said only "unknown command for `gpu`" and listed the commands, none of which
    creates gpu.jsonc; `apply` or `ls` got no suggestion (not close in spelling)."""
    result = run_cli(args, tmp_path)
    assert result.code == 1 and meant in result.err and "Traceback" not in result.err, result.err


def test_a_synonym_is_not_offered_where_the_command_has_no_such_option(tmp_path):
    result = run_cli(["serverless", "list", "--dry-run"], tmp_path)  # list has no --plan
    assert result.code == 1 and "--plan" not in result.err, result.err


def _commands(command: click.Command, path: list[str]):
    yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command, info_name=(path or ["gpu"])[-1])
        for name in command.list_commands(ctx):
            yield from _commands(command.get_command(ctx, name), [*path, name])


def _wrong_lines():
    """For every command: one extra word, an unknown option, and a rejected value for each option
    whose type rejects the canary; each line fails while parsing, so no command runs."""
    for path, command in _commands(cli, []):
        arguments = [p for p in command.params if isinstance(p, click.Argument)]
        if isinstance(command, click.Group):
            yield [*path, CANARY]
        elif all(a.nargs == 1 for a in arguments):
            yield [*path, *(["word"] * len(arguments)), CANARY]
        yield [*path, f"--{CANARY}"]
        for option in command.params:
            if isinstance(option, click.Option) and isinstance(option.type, (click.Choice, click.types.IntParamType, click.types.FloatParamType)):
                yield [*path, option.opts[-1], CANARY]


@pytest.mark.parametrize("args", list(_wrong_lines()), ids=" ".join)
def test_no_usage_error_of_any_command_repeats_what_was_typed(tmp_path, args):
    result = run_cli(args, tmp_path)
    assert result.code == 1, result
    assert CANARY not in result.out + result.err
    assert result.err.startswith("error: ") and "\nhint: " in result.err


@pytest.mark.parametrize("typed, seconds", [("30", 30.0), ("30s", 30.0), ("1.5m", 90.0), ("2h", 7200.0), ("1d", 86400.0),
                                            ("1h30m", 5400.0), ("2m30s", 150.0), ("1d12h", 129600.0), ("1h0.5m", 3630.0)])
def test_every_duration_flag_reads_durations_the_same_way(typed, seconds):
    from gpuctl.cli.durations import seconds_of

    assert seconds_of(typed) == seconds


@pytest.mark.parametrize("typed", ["", "s", "-5", "5x", "1e3", "five", "5 m", "1h30", "30m1h", "1h1h", "h30m", "1h 30m", "1h-30m"])
def test_what_is_not_a_duration_is_refused(typed):
    from gpuctl.cli.durations import seconds_of

    assert seconds_of(typed) is None


def _number_options():
    """Every option of every command whose value is a number of seconds or a float."""
    from gpuctl.cli.durations import Duration

    for path, command in _commands(cli, []):
        arguments = ["word"] * sum(1 for p in command.params if isinstance(p, click.Argument) and p.required)
        for option in command.params:
            if isinstance(option, click.Option) and isinstance(option.type, (click.types.FloatParamType, Duration)):
                yield [*path, *arguments, option.opts[-1]]


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "Infinity"])
@pytest.mark.parametrize("args", list(_number_options()), ids=" ".join)
def test_no_number_option_takes_nan_or_infinity(tmp_path, args, value):
    """float() reads "nan" and "inf", which pass every range check (NaN compares false both
    ways): `status --watch --interval nan` was an internal error after the first refresh, and
    `invoke --timeout nan` waited with no limit. They are refused while parsing."""
    result = run_cli([*args, value], tmp_path)
    assert result.code == 1 and result.err.startswith(f"error: invalid value for {args[-1]} of `gpu "), result
    assert "internal error" not in result.err


def test_a_duration_that_must_be_positive_says_so(tmp_path):
    for typed in ("0", "0s"):
        result = run_cli(["serverless", "warm", "x", "--timeout", typed], tmp_path)
        assert result.code == 1 and "must be a duration of more than 0" in result.err, result


@pytest.mark.parametrize("columns", ["-5", "abc", "0", " ", "80x"])
def test_a_columns_value_that_is_no_width_is_ignored_not_fatal(columns):
    """COLUMNS=abc was an internal error (int() on it) and COLUMNS=-5 made every table and plan
    print nothing at all, exit 0; neither is gpuctl's variable to refuse."""
    args = ["serverless", "deploy", "--plan", "--observed", str(ROOT / "examples" / "empty-account.json"), "--config", "examples/echo/gpu.jsonc"]
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    plain, result = (subprocess.run([sys.executable, "-m", "gpuctl", *args], cwd=ROOT, env=env | extra, capture_output=True, text=True,
                                    timeout=60, stdin=subprocess.DEVNULL) for extra in ({}, {"COLUMNS": columns}))
    assert plain.returncode == 0 and "to create" in plain.stdout, plain.stderr
    assert (result.returncode, result.stdout) == (plain.returncode, plain.stdout), result.stderr


@pytest.mark.parametrize("typed, meant", [("delet", "delete"), ("stats", "status"), ("histroy", "history"), ("invok", "invoke")])
def test_a_close_name_of_a_command_not_yet_imported_is_suggested(tmp_path, typed, meant):
    """The serverless group imports its commands lazily, and click's own suggestions looked
    only at the ones already imported: `delpoy` got "did you mean deploy?", `delet` nothing."""
    result = run_cli(["serverless", typed, "my-app"], tmp_path)
    assert result.code == 1 and f"did you mean {meant}?" in result.err and typed not in result.err.replace(meant, ""), result.err


def test_every_duration_option_says_duration_in_its_help():
    """`warm --timeout` showed `S` where every other duration option shows `DURATION`, though it
    takes the same 30s, 15m, 1h forms."""
    from gpuctl.cli.durations import Duration

    odd = []
    for path, command in _commands(cli, []):
        ctx = click.Context(command, info_name=(path or ["gpu"])[-1])
        for option in command.params:
            if isinstance(option, click.Option) and isinstance(option.type, Duration):
                shown = option.get_help_record(ctx)[0]
                if not shown.endswith(" DURATION"):
                    odd.append(f"gpu {' '.join(path)} {shown}")
    assert not odd, odd


def test_an_environment_variable_of_seconds_that_is_wrong_is_named_and_not_echoed(tmp_path):
    """`GPU_HTTP_TIMEOUT=<a key pasted into the wrong variable>` quoted the value back, unlike
    every flag's error: the variable is named, its value is not."""
    done = run_cli(["serverless", "list", "--provider", "runpod"], tmp_path, {"RUNPOD_API_KEY": "rpa_x", "GPU_HTTP_TIMEOUT": CANARY})
    assert done.code == 1 and "GPU_HTTP_TIMEOUT" in done.err and CANARY not in done.out + done.err, done.err
