"""Odd values of the number and duration options never crash `gpu`: each is taken, or refused
as a usage error that names the option and says what it accepts (no traceback, no "internal
error"). Run in-process, with no provider: every value is checked before one is needed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES, run_cli

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
PLAN = ["serverless", "deploy", "--plan", "--observed", "observed.json", "--provider", "runpod"]

# what a person (or a script with a bug) may type: unicode digits, exponents, huge ages, odd signs
_PIECES = ["0", "1", "9", ".", "-", "+", "e", "s", "m", "h", "d", "²", "١", "٣", "½", "Ⅻ", "nan", "inf", "_", " ", "T", ":", "Z", "99999999999"]
values = st.lists(st.sampled_from(_PIECES), min_size=1, max_size=6).map("".join) | st.text(min_size=1, max_size=8)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("options")
    for name in ("gpu.jsonc", "observed.json"):
        shutil.copy(FIXTURES / "plans" / "seed-full-nochange" / name, directory / name)
    return directory


def assert_handled(result, option: str | None = None) -> None:
    """Taken, or refused with an error that names the option and how to fix it: a usage error's
    `hint:`, or the config diagnostic the value made, located at the flag (`--idle-timeout:
    serverless.scaling.idle_timeout: must be ≥ 1, got 0`)."""
    assert result.code in (0, 1, 2), result
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    if result.code == 1:
        assert result.err.startswith("error: "), result.err
        if option is not None:
            assert option in result.err, result.err
        assert "hint: " in result.err or (option is not None and f"\n{option}: serverless." in result.err), result.err


@pytest.mark.parametrize("typed", ["²", "²s", "١m", "½h"])
def test_a_unicode_digit_is_no_duration(project, typed):
    """str.isdigit() is true of "²", which float() then refused: an internal error."""
    result = run_cli([*PLAN, "--lock-timeout", typed], project)
    assert result.code == 1 and "invalid value for --lock-timeout" in result.err and "must be a duration" in result.err, result.err


@pytest.mark.parametrize("typed", ["99999999999d", "3000000d"])
def test_an_age_older_than_1970_asks_for_every_log_line(typed):
    """timedelta and datetime stop at year 1: an age that reached past it was an OverflowError."""
    from gpuctl.cli.logs_cmd import since_timestamp

    assert since_timestamp(typed) == "1970-01-01T00:00:00.000000Z"


@pytest.mark.parametrize("typed", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "²s"])
def test_a_since_outside_the_calendar_is_a_usage_error(tmp_path, typed):
    result = run_cli(["serverless", "logs", "echo", "--since", typed, "--provider", "local"], tmp_path, {"GPUCTL_LOCAL_DIR": str(tmp_path / "none")})
    assert result.code == 1 and "invalid value for --since" in result.err and "hint: " in result.err, result.err


@SETTINGS
@given(typed=values, option=st.sampled_from(["--lock-timeout", "--parallelism", "--min-workers", "--max-workers", "--idle-timeout"]))
@example(typed="1e9999", option="--lock-timeout").via("a float that is infinite")
def test_deploy_options_take_or_refuse_any_value(project, typed, option):
    assert_handled(run_cli([*PLAN, option, typed], project), option)


@SETTINGS
@given(typed=values)
def test_wait_healthy_timeout_takes_or_refuses_any_value(project, typed):
    # --observed cannot apply, so a timeout that is taken ends in that usage error
    assert_handled(run_cli([*PLAN[:2], "--observed", "observed.json", "--provider", "runpod", "--wait-healthy", "--timeout", typed], project))


@SETTINGS
@given(typed=values)
def test_logs_since_takes_or_refuses_any_value(tmp_path_factory, typed):
    directory = tmp_path_factory.getbasetemp()
    result = run_cli(["serverless", "logs", "echo", "--since", typed, "--provider", "local"], directory, {"GPUCTL_LOCAL_DIR": str(directory / "no-provider")})
    assert_handled(result)
    assert result.code == 1  # refused, or taken and then: the local provider is not running


@pytest.mark.parametrize("args, option", [
    (["serverless", "status", "echo", "--watch", "--interval", "1e300"], "--interval"),
    (["serverless", "invoke", "echo", "--timeout", "1e300"], "--timeout"),
    (["serverless", "deploy", "--lock-timeout", "99999999999d"], "--lock-timeout"),
    (["serverless", "warm", "echo", "--timeout", "1e300"], "--timeout"),
])
def test_a_wait_longer_than_time_t_is_a_usage_error(tmp_path, args, option):
    """1e300 seconds is finite, and time.sleep()/Event.wait() raise OverflowError past the
    platform's time_t: `status --watch --interval 1e300` crashed after its first screen."""
    result = run_cli([*args, "--provider", "local"], tmp_path, {"GPUCTL_LOCAL_DIR": str(tmp_path / "none")})
    assert result.code == 1 and f"invalid value for {option}" in result.err and ("315360000" in result.err or "3650d" in result.err), result.err
    assert "at most" in result.err and "\nhint: " in result.err, result.err
