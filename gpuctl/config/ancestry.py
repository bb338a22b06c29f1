"""Whether this checkout descends from a commit a last-applied record names (ADR 52, amended
after review 7, R7-2): the proof that another gpu.jsonc missing from the working tree left the
repository, rather than being added after the commit checked out; and whether HEAD's tree still
has that gpu.jsonc (review 8: a file deleted by hand, not in a commit, left nothing). Git is asked
once per distinct commit (`git merge-base --is-ancestor <commit> HEAD`) and once per distinct
path (`git ls-tree HEAD -- <path>`), and only when the planner asks: for an owned endpoint that
left gpu.jsonc and whose record names another gpu.jsonc missing here."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from gpuctl.model import repository_path

_COMMIT = re.compile(r"[0-9a-f]{7,40}")
TIMEOUT = 20  # seconds; git on a local repository answers at once, a hung one proves nothing


class Ancestry:
    """`ancestry(commit)`: True only when git says `commit` is an ancestor of HEAD (or HEAD
    itself) in the repository at `root`. False for anything else, so that nothing is pruned on
    a guess: git missing, not a commit name, a shallow clone or another repository lacking it
    (git exits 128), a commit HEAD does not descend from (exit 1), a timeout."""

    def __init__(self, root: str | Path) -> None:
        self.root = str(root)
        self._known: dict[str, bool] = {}
        self._in_head: dict[str, bool | None] = {}

    def __call__(self, commit: str | None) -> bool:
        if not isinstance(commit, str) or not _COMMIT.fullmatch(commit):
            return False
        if commit not in self._known:
            self._known[commit] = self._ask(commit)
        return self._known[commit]

    def _ask(self, commit: str) -> bool:
        try:
            done = subprocess.run(["git", "-C", self.root, "merge-base", "--is-ancestor", f"{commit}^{{commit}}", "HEAD"],
                                  stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT, check=False)
        except (OSError, subprocess.SubprocessError):
            return False
        return done.returncode == 0

    def in_head(self, path: str) -> bool | None:
        """Whether HEAD's tree has a file at `path` (from the repository root): None when git
        cannot tell (no commit yet, git missing or failing), so that nothing is proven gone, and
        for a path not in normal form (gpuctl.model.repository_path, which callers apply): a
        spelling git would not match against its tree is no proof HEAD lacks the file (R10-5)."""
        if repository_path(path) != path:
            return None
        if path not in self._in_head:
            self._in_head[path] = self._ls_tree(path)
        return self._in_head[path]

    def _ls_tree(self, path: str) -> bool | None:
        try:  # literal pathspecs: a recorded name with `*` or `:(...)` is a name, never a pattern
            done = subprocess.run(["git", "--literal-pathspecs", "-C", self.root, "ls-tree", "-z", "--name-only", "HEAD", "--", path],
                                  stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        if done.returncode != 0:
            return None
        return path.encode() in done.stdout.split(b"\0")
