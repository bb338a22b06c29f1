"""The fork flow's check that the configs it plans are the pull request's (ADR 17).

fork-configs.yml runs the fork's own version of the workflow, so the artifact it uploads can
hold anything: a gpu.jsonc that is not the one in the pull request would get a plan comment a
reviewer takes for the pull request's. Before planning, each file of a config's directory in
the artifact is compared with the same path at the pull request's head commit, which GitHub
(not the fork) named in the `workflow_run` event, by git blob id (`GET .../contents/PATH?ref=SHA`,
which `contents: read` allows).

A config that is the pull request's may still name any project: the plan is made with the
account's key and posted publicly, so a fork could set `project_id` to another team's project
(or `adopt` another team's endpoint) and read its endpoints in the comment. So a config plans
only the project that the same path declares at the pull request's base commit, adopting only
what that config adopts (`check_scope`), checked before the account is read."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from urllib.parse import quote

from gpuctl.config.source import parse_text
from gpuctl.errors import GpuctlError
from gpuctl.github.client import GitHub, GitHubError

MARKER = ".present"  # fork-configs.yml's stand-in for a custom_nodes/ directory


def blob_id(data: bytes) -> str:
    """The git blob id of `data`, as GitHub's contents API gives it (`sha`)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def repository_path(root: Path, config: str) -> str:
    """`config`'s path in the repository: the artifact's top (`root`) is laid out as the
    repository is."""
    root = root.resolve()
    target = (root / config).resolve()
    if not target.is_relative_to(root):
        raise GpuctlError(f"{config} is outside the downloaded configs", hint="give the fork flow's configs relative to the repository root")
    return target.relative_to(root).as_posix()


def verify(gh: GitHub, root: Path, config: str, head_sha: str) -> None:
    """Raise unless the config at `config` (relative to `root`, the artifact's top, laid out as
    the repository is) and every other file the artifact holds in its directory are those files
    of the pull request at `head_sha`."""
    root = root.resolve()
    target = root / repository_path(root, config)
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


NOT_PLANNED_HINT = ("a fork's pull request is planned only against the project its config has on the base branch, since the plan "
                    "reads the account with its key and is posted publicly; to plan it anyway, a maintainer can push the branch to this "
                    "repository, where the pull request workflow (plan.yml) plans it, or land the config's project_id on the base branch first")


def base_config(gh: GitHub, path: str, key: str, base_sha: str | None) -> dict:
    """The config that `path` (its path in the repository) is at the pull request's base
    commit, parsed. Raise, naming why, when there is no such commit or file, or it cannot be
    read or sets no `project_id`."""
    where = f"{path} on the pull request's base" + (f" ({base_sha[:12]})" if base_sha else "")

    def refused(why: str) -> GpuctlError:
        return GpuctlError(f"{key} was not planned: {where} {why}, so the project it may plan is not known", hint=NOT_PLANNED_HINT)

    if not base_sha:
        raise refused("cannot be found: GitHub named no base commit for the pull request")
    try:
        found = _contents(gh, path, base_sha)
    except GitHubError as exc:
        raise refused(f"could not be read ({exc.summary})") from None
    if not isinstance(found, dict) or found.get("type") != "file":
        raise refused("does not exist")
    try:
        if found.get("encoding") != "base64":
            raise ValueError("GitHub did not return its content (a file over 1 MB)")
        text = base64.b64decode(found.get("content") or "", validate=False).decode("utf-8-sig")
        data, _ = parse_text(text, where)
    except (ValueError, GpuctlError) as exc:
        raise refused(f"could not be read ({exc.summary if isinstance(exc, GpuctlError) else exc})") from None
    declared = data.get("project_id") if isinstance(data, dict) else None
    if not isinstance(declared, str) or not declared:
        raise refused("sets no project_id")
    return data


def check_scope(gh: GitHub, path: str, key: str, base_sha: str | None, desired) -> None:
    """Raise unless the pull request's config (`desired`, loaded but not yet planned) reads only
    what the same path on the base commit does: the project it declares, and no endpoint
    adopted (`adopt`, which takes an endpoint of any project over by id, and whose plan shows
    that endpoint's configuration) that the base does not adopt."""
    base = base_config(gh, path, key, base_sha)
    declared, at = base["project_id"], f"{path} on the pull request's base ({str(base_sha)[:12]})"
    if desired.project_id != declared:
        raise GpuctlError(f'{key} was not planned: it plans project "{desired.project_id}", but {at} declares project_id "{declared}"',
                          hint=NOT_PLANNED_HINT)
    blocks = base.get("serverless")
    blocks = blocks if isinstance(blocks, list) else [blocks]
    adopted = {b.get("adopt") for b in blocks if isinstance(b, dict) and isinstance(b.get("adopt"), str)}
    for spec in desired.endpoints:
        if spec.adopt and spec.adopt not in adopted:
            raise GpuctlError(f"{key} was not planned: endpoint.{spec.name} adopts endpoint {spec.adopt}, and {at} does not adopt it",
                              hint=NOT_PLANNED_HINT)


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
