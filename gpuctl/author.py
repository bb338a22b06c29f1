"""Who applies: the name a deploy records with each apply, so `gpu serverless history` can say
who made a release (docs/history.md). Never an email and never a token: a GitHub login in
GitHub Actions (GITHUB_ACTOR), else the git author's name (GIT_AUTHOR_NAME, else git's
`user.name`), else the login name ($USER, $LOGNAME, $USERNAME); a value that looks like an
email address is skipped, and the name kept is printable and at most MAX_CHARS long."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from pathlib import Path

MAX_CHARS = 64
_EMAIL = re.compile(r"\S+@\S+")


def clean(name: object) -> str | None:
    """`name` as a record may keep it: printable, one line, at most MAX_CHARS; None for nothing
    usable or anything with an email address in it."""
    if not isinstance(name, str):
        return None
    text = " ".join("".join(c for c in name if c.isprintable()).split())
    if not text or _EMAIL.search(text) or "<" in text:
        return None
    return text[:MAX_CHARS]


def applier(environ: Mapping[str, str], cwd: Path | None = None) -> str | None:
    """The name of whoever applies now, by the rules above; None when nothing tells."""
    if environ.get("GITHUB_ACTIONS") == "true" and clean(environ.get("GITHUB_ACTOR")):
        return clean(environ.get("GITHUB_ACTOR"))
    for name in (environ.get("GIT_AUTHOR_NAME"), _git_user_name(environ, cwd), environ.get("USER"), environ.get("LOGNAME"), environ.get("USERNAME")):
        if clean(name):
            return clean(name)
    return None


def _git_user_name(environ: Mapping[str, str], cwd: Path | None) -> str | None:
    try:
        done = subprocess.run(["git", "config", "--get", "user.name"], cwd=cwd, env=dict(environ), capture_output=True, text=True,
                              timeout=5, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None
