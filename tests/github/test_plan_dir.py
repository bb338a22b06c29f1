"""Where `gpu github plan` writes its plan files (--plan-dir, the plan artifact)."""

from __future__ import annotations

from tests.github.conftest import config, tree


def test_a_plan_dir_that_cannot_be_written_is_a_user_error_naming_it(account, tmp_path):
    """`--plan-dir` naming a file (or a directory the job cannot write) raised OSError out of
    the plan job: an internal error with no summary. It is now the config's failure, named with
    the path, in the log and the job summary, and the job fails with exit 1."""
    checkout = tree(tmp_path / "repo", config("api"))
    (checkout / "plans").write_text("a file, not a directory\n")  # so plans/out, the --plan-dir given, cannot be made
    github = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    result = account.gpu("github", "plan", "--no-comment", "--plan-dir", "plans/out", cwd=checkout, env=github)
    assert result.code == 1, result.err
    assert "internal error" not in result.err and "Traceback" not in result.err, result.err
    assert "cannot write the plan file" in result.err and "plans/out" in result.err and "hint: give --plan-dir a directory" in result.err, result.err
    assert "cannot write the plan file" in (tmp_path / "summary").read_text()
    assert (checkout / "plans").read_text() == "a file, not a directory\n"


def test_apply_names_a_plan_dir_that_does_not_exist(account, tmp_path):
    """review 2 L4: `gpu github apply --plan-dir nonexist` (a typo) said "no plan artifact for
    the merged pull request", as a run given no --plan-dir does: the directory is now named,
    with the fix, and nothing is written."""
    checkout = tree(tmp_path / "repo", config("api"))
    github = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    typo = account.gpu("github", "apply", "--no-comment", "--plan-dir", "revewed", cwd=checkout, env=github)
    assert typo.code == 1, typo.err
    said = "no reviewed plan was read: the plan directory revewed (--plan-dir) does not exist; give --plan-dir the directory the plan artifact was downloaded to"
    assert said in typo.err and said in (tmp_path / "summary").read_text(), typo.err
    assert "no plan artifact for the merged pull request" not in typo.err
    assert "Traceback" not in typo.err and account.endpoints() == []

    none = account.gpu("github", "apply", "--no-comment", cwd=checkout, env=github)
    assert none.code == 1 and "no reviewed plan was found for this config (no plan artifact for the merged pull request" in none.err, none.err
    assert "does not exist" not in none.err and account.endpoints() == []
