"""A damaged or misplaced credentials file is a user error with a way out for every command
that reads or removes it: it names the file and says what to do, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import run_cli

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
COMMANDS = (["auth", "status"], ["auth", "logout"], ["serverless", "list"])


def _env(root: Path) -> dict[str, str]:
    return {"GPUCTL_CONFIG_DIR": str(root / "cfg"), "GPUCTL_LOCAL_DIR": str(root / "no-provider")}


def assert_user_error(result, path: Path) -> None:
    assert result.code == 1, result
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    assert str(path) in result.err and "\nhint: " in result.err, result.err


@pytest.mark.parametrize("place", ["key-file-is-a-directory", "config-dir-is-a-file"])
def test_logout_that_cannot_remove_says_what_to_do(tmp_path, place):
    """It said `cannot remove ...: Is a directory` and stopped, with no hint."""
    cfg = tmp_path / "cfg"
    if place == "key-file-is-a-directory":
        (cfg / "credentials.json").mkdir(parents=True)
    else:
        cfg.write_text("not a directory")
    result = run_cli(["auth", "logout"], tmp_path, _env(tmp_path))
    assert_user_error(result, cfg / "credentials.json")
    assert f"check that {cfg} is a directory you can write to" in result.err, result.err


_contents = st.binary(max_size=40) | st.sampled_from([b"", b"[]", b"null", b'{"api_key": 1}', b'{"api_key": ""}', b'{"api_key": "a b"}',
                                                      b'{"api_key": "\\u0000"}', b'{"api_key": "\\ud800"}', b'{"api_key": NaN}',
                                                      b"\xef\xbb\xbf{}", b"[" * 50_000, b'{"api_key": "' + b"k" * 100_000 + b'"}'])


@SETTINGS
@given(raw=_contents, command=st.sampled_from(COMMANDS))
def test_any_key_file_content_is_read_or_refused_with_a_way_out(tmp_path_factory, raw, command):
    root = tmp_path_factory.mktemp("cred")
    (root / "cfg").mkdir()
    path = root / "cfg" / "credentials.json"
    path.write_bytes(raw)
    result = run_cli(command, root, _env(root))
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    if result.code == 1:  # only `auth status` of no key at all is a report (on stdout, its hint on stderr)
        no_key = command == ["auth", "status"] and result.out == "no RunPod API key is configured\n"
        assert "hint: " in result.err and (result.err.startswith("error: ") or no_key), result.err
