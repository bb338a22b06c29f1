"""Every JSON file the user names is read alike (gpuctl.files.read_json): a file of invalid
UTF-8, JSON nested 100,000 deep, a number of 5,000 digits, a directory, a named pipe and a
missing file each end as a user error naming the file (and its line:col where known) with a
fix, never `internal error`. The five readers: a saved plan (--from-plan), a snapshot
(--observed), a job input (--input @file), the key file (GPUCTL_CONFIG_DIR) and the GitHub
event payload (GITHUB_EVENT_PATH)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.conftest import echo_config, project
from tests.github.conftest import REPO, TOKEN, config, tree

pytestmark = pytest.mark.e2e

CASES = {
    "not-utf8": b'{"a": "\xff\xfe"}',
    "deep": b"[" * 100_000 + b"]" * 100_000,
    "huge-number": b'{"a": 1' + b"0" * 5000 + b"}",
    "not-json": b'{"a": 1,\n  oops}',
}
# what the error says of each case, whichever reader
SAYS = {"not-utf8": "UTF-8", "deep": "nested", "huge-number": "digits", "not-json": ":2:3", "directory": "directory",
        "missing": "does not exist", "fifo": "named pipe"}


def _run(reader: str, account, tmp_path: Path, file: Path):
    """`gpu` run so that it reads `file` as `reader`'s file."""
    if reader == "plan":
        proj = project(tmp_path / "proj", echo_config())
        return account.gpu("serverless", "deploy", "-y", "--provider", "local", "--from-plan", str(file), cwd=proj)
    if reader == "observed":
        proj = project(tmp_path / "proj", echo_config())
        return account.gpu("serverless", "deploy", "--plan", "--provider", "local", "--observed", str(file), cwd=proj)
    if reader == "input":
        return account.gpu("serverless", "invoke", "echo", "--provider", "local", "--input", f"@{file}", cwd=tmp_path)
    if reader == "key":
        return account.gpu("auth", "status", cwd=tmp_path, env={"GPUCTL_CONFIG_DIR": str(file.parent)})
    checkout = tree(tmp_path / "repo", config("api"))
    github = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(file), "GITHUB_API_URL": "http://127.0.0.1:9",
              "GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO, "GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    return account.gpu("github", "plan", "--plan-dir", "plans", cwd=checkout, env=github)


@pytest.mark.parametrize("case", [*CASES, "directory", "missing", "fifo"])
@pytest.mark.parametrize("reader", ["plan", "observed", "input", "key", "event"])
def test_a_named_json_file_that_cannot_be_read_is_a_user_error_naming_it(account, tmp_path, reader, case):
    folder = tmp_path / "files"
    folder.mkdir()
    file = folder / ("credentials.json" if reader == "key" else "doc.json")
    if case == "missing" and reader == "key":
        pytest.skip("no key file is no key, not an error")
    if case in CASES:
        file.write_bytes(CASES[case])
    elif case == "directory":
        file.mkdir()
    elif case == "fifo":  # refused unopened, with a writer or not (tests/e2e/test_named_pipes.py)
        os.mkfifo(file)
    result = _run(reader, account, tmp_path, file)
    assert result.code in (1, 2), result.out + result.err
    assert "internal error" not in result.err and "Traceback" not in result.err, result.err
    assert "hint:" in result.err, result.err
    assert file.name in result.err, result.err
    says = {("key", "deep"): "larger than 65,536 bytes",  # a key file is read up to 64 KiB
            ("key", "not-json"): "(line 2, column 3)"}.get((reader, case), SAYS[case])
    assert says in result.err, result.err
