"""`config.ancestry.Ancestry.in_head` (ADR 52, amendment 2): whether HEAD's tree has a recorded
gpu.jsonc path. A name is a name, never a pattern; git that cannot tell proves nothing (None)."""

from __future__ import annotations

import os
import subprocess

from gpuctl.config.ancestry import Ancestry

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_CONFIG_NOSYSTEM": "1", "HOME": os.devnull}


def _git(repo, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], env=os.environ | GIT_ENV, capture_output=True, check=True)


def test_in_head_reads_heads_tree_literally(tmp_path):
    repo = tmp_path / "repo"
    (repo / "svc").mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    assert Ancestry(repo).in_head("svc/gpu.jsonc") is None  # no commit yet: cannot tell
    (repo / "svc" / "gpu.jsonc").write_text("{}")
    (repo / "svc" / "other.jsonc").write_text("{}")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "one")
    (repo / "svc" / "gpu.jsonc").unlink()  # deleted by hand: HEAD still has it
    (repo / "new.jsonc").write_text("{}")  # never committed: HEAD lacks it
    ancestry = Ancestry(repo)
    assert ancestry.in_head("svc/gpu.jsonc") is True
    assert ancestry.in_head("new.jsonc") is False
    assert ancestry.in_head("svc/*.jsonc") is False and ancestry.in_head(":(glob)svc/*") is False  # no pathspec magic
    assert Ancestry(tmp_path / "nowhere").in_head("svc/gpu.jsonc") is None


def test_a_recorded_path_in_any_spelling_is_judged_by_heads_tree(tmp_path):
    """Review 10, R10-5: the missing-file check read a recorded name through its parts while the
    HEAD check gave git the raw text, so `svc-b//gpu.jsonc` or `./svc-b/gpu.jsonc` (a record edited
    in the account, or written by another tool) deleted by hand read as "HEAD lacks it": proven
    gone, and --prune could delete the endpoint. One normal form serves both checks, and a name
    that escapes the repository proves nothing."""
    from gpuctl.model import Desired

    repo = tmp_path / "repo"
    (repo / "svc-b").mkdir(parents=True)
    (repo / "svc-b" / "gpu.jsonc").write_text("{}")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "one")
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    (repo / "svc-b" / "gpu.jsonc").unlink()  # by hand: HEAD still has it
    ancestry = Ancestry(repo)
    desired = Desired("p", "svc-a/gpu.jsonc", (), config_id="svc-a/gpu.jsonc", config_root=str(repo), config_ancestor=ancestry, config_in_head=ancestry.in_head)
    for spelling in ("svc-b/gpu.jsonc", "svc-b//gpu.jsonc", "./svc-b/gpu.jsonc", "svc-b/./gpu.jsonc", "svc-b/gpu.jsonc/"):
        assert desired.config_missing(spelling), spelling
        assert not desired.config_gone(spelling, head), spelling
        assert desired.config_uncommitted(spelling), spelling
    for escaping in ("../repo/svc-b/gpu.jsonc", "svc-b/../svc-b/gpu.jsonc", str(repo / "svc-b" / "gpu.jsonc"), "", "."):
        assert not desired.config_missing(escaping) and not desired.config_gone(escaping, head) and not desired.config_uncommitted(escaping), escaping
    assert ancestry.in_head("./svc-b/gpu.jsonc") is None, "git is given only a name in normal form; any other proves nothing"
