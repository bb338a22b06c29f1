"""Whether this checkout descends from a commit a last-applied record names (ADR 52, amended
after review 7, R7-2): the proof that another gpu.jsonc missing from the working tree left the
repository, rather than being added after the commit checked out. Git is asked once per distinct
commit (`git merge-base --is-ancestor <commit> HEAD`), and only when the planner asks: for an
owned endpoint that left gpu.jsonc and whose record names another gpu.jsonc missing here."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

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
