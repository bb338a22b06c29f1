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
