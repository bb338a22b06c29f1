"""The files GitHub Actions names for a step to write, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY,
when they cannot be written (a directory, a read-only file): a user error naming the variable
and the path, and what is lost, never an internal error."""

from __future__ import annotations

import pytest

from tests.github.conftest import config, tree

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("variable, lost", [
    ("GITHUB_OUTPUT", "the step's outputs (exit_code, summary, has_changes and the rest) are lost"),
    ("GITHUB_STEP_SUMMARY", "this part of the job summary is lost"),
])
def test_a_step_file_that_cannot_be_written_is_a_user_error_naming_it(account, tmp_path, variable, lost):
    checkout = tree(tmp_path / "repo", config("api"))
    unwritable = tmp_path / "a-directory"
    unwritable.mkdir()
    files = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")} | {variable: str(unwritable)}
    planned = account.gpu("github", "plan", "--plan-dir", "plans", cwd=checkout, env=files)
    assert planned.code == 1, planned.out + planned.err
    assert "internal error" not in planned.err and "Traceback" not in planned.err, planned.err
    assert f"error: cannot write {variable} ({unwritable}): Is a directory; {lost}" in planned.err, planned.err
    assert f"hint: {variable} must name a file the step may append to" in planned.err
