"""`--debug` is the global flag only where click reads it as an option: every literal `--debug`
token was removed from the command line, also after `--` and as an option's value, so the
command got other arguments than typed (and tracebacks were turned on)."""

from __future__ import annotations

import pytest

from gpuctl.cli import _debug_flag
from tests.e2e.conftest import ECHO_HANDLER, echo_config, project


def test_a_debug_after_double_dash_is_an_argument(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    done = account.gpu("serverless", "delete", "-y", "--", "--debug", cwd=proj)
    # it was `gpu serverless delete -y --`: no endpoint named, so the picker's "no terminal" error
    assert done.code == 1 and 'named or with id "--debug"' in done.err and "no terminal" not in done.err, done.err


def test_a_debug_that_is_an_options_value_is_that_value(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    done = account.gpu("serverless", "invoke", "echo", "--input", "--debug", cwd=proj)
    # it was `--input` with no value: click's "requires an argument"; now --input's text is read as JSON
    assert done.code == 1 and "--input" in done.err and "requires an argument" not in done.err, done.err
    assert "JSON" in done.err, done.err


@pytest.mark.parametrize(("argv", "debug", "kept"), [
    (["--debug", "serverless", "list"], True, ["serverless", "list"]),
    (["serverless", "list", "--debug"], True, ["serverless", "list"]),
    (["serverless", "deploy", "-y", "--debug", "--max-workers", "3"], True, ["serverless", "deploy", "-y", "--max-workers", "3"]),
    (["serverless", "delete", "--", "--debug"], False, ["serverless", "delete", "--", "--debug"]),
    (["serverless", "invoke", "x", "--input", "--debug"], False, ["serverless", "invoke", "x", "--input", "--debug"]),
    (["serverless", "invoke", "x", "--input=--debug", "--debug"], True, ["serverless", "invoke", "x", "--input=--debug"]),
    (["serverless", "deploy", "--config", "--debug"], False, ["serverless", "deploy", "--config", "--debug"]),
    (["serverless", "template", "delete", "--", "--debug"], False, ["serverless", "template", "delete", "--", "--debug"]),
])
def test_debug_is_taken_only_where_click_reads_an_option(argv, debug, kept):
    assert _debug_flag(argv) == (debug, kept)
