"""The fork flow's check that the configs it plans are the pull request's (ADR 17).

fork-configs.yml runs the fork's own version of the workflow, so the artifact it uploads can
hold anything: a gpu.jsonc that is not the one in the pull request would get a plan comment a
reviewer takes for the pull request's. Before planning, each file of a config's directory in
the artifact is compared with the same path at the pull request's head commit, which GitHub
(not the fork) named in the `workflow_run` event, by git blob id (`GET .../contents/PATH?ref=SHA`,
which `contents: read` allows)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import quote

from gpuctl.errors import GpuctlError
from gpuctl.github.client import GitHub, GitHubError

MARKER = ".present"  # fork-configs.yml's stand-in for a custom_nodes/ directory


def blob_id(data: bytes) -> str:
    """The git blob id of `data`, as GitHub's contents API gives it (`sha`)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def verify(gh: GitHub, root: Path, config: str, head_sha: str) -> None:
    """Raise unless the config at `config` (relative to `root`, the artifact's top, laid out as
    the repository is) and every other file the artifact holds in its directory are those files
    of the pull request at `head_sha`."""
    root = root.resolve()
    target = (root / config).resolve()
    if not target.is_relative_to(root):
        raise GpuctlError(f"{config} is outside the downloaded configs", hint="give the fork flow's configs relative to the repository root")
    files = {p for p in target.parent.rglob("*") if p.is_file()}  # a config missing here fails to plan, as it should
    for path in sorted(files):
        relative = path.relative_to(root).as_posix()
        if relative == "pr-number":
            continue
        if path.name == MARKER and path.parent.name == "custom_nodes":
            found = _contents(gh, path.parent.relative_to(root).as_posix(), head_sha)
            if not isinstance(found, list):
                raise _differs(relative, config, head_sha, "the pull request has no such directory")
            continue
        found = _contents(gh, relative, head_sha)
        if not isinstance(found, dict) or found.get("type") != "file":
            raise _differs(relative, config, head_sha, "the pull request has no such file")
        if not path.is_file() or found.get("sha") != blob_id(path.read_bytes()):
            raise _differs(relative, config, head_sha, "its content is not the pull request's")


def _contents(gh: GitHub, path: str, ref: str):
    try:
        return gh.request("GET", gh.repo(f"/contents/{quote(path)}"), params={"ref": ref})
    except GitHubError as exc:
        if exc.status == 404:
            return None
        raise


def _differs(relative: str, key: str, head_sha: str, why: str) -> GpuctlError:
    return GpuctlError(f"the uploaded {relative} is not the pull request's at {head_sha[:12]}: {why}; {key} was not planned",
                       hint="the configs artifact came from the fork's own run of fork-configs.yml, which the fork can change; "
                            "a plan is shown only for the pull request's own files")
