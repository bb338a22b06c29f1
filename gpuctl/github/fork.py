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
what that config adopts (`check_scope`), checked before the account is read. Within that
project a fork could still name another team's endpoint, or any volume of the account, in
its config and learn from the plan that it exists (and its id, owner, size): so the plan sees
the account only through `Scope.view`."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from gpuctl.config.source import CONFIG, parse_text
from gpuctl.errors import DiagnosticsError, GpuctlError
from gpuctl.files import FileRefused, read_bytes
from gpuctl.github.client import GitHub, GitHubError, path_of
from gpuctl.github.inputs import CONTENTS
from gpuctl.model import Observed
from gpuctl.plan.drift import records_of
from gpuctl.v2 import owner, volume_ids
from gpuctl.words import counted

MARKER = ".present"  # fork-configs.yml's stand-in for a custom_nodes/ directory
MAX_FILES = 200  # files of one config's directory checked against the pull request, one API call each
READ_CHUNK = 1024 * 1024  # file_blob_id's bite
MAX_FILE_BYTES = 100 * 1024 * 1024  # GitHub refuses a file over 100 MiB in a repository: a larger upload is not the pull request's


def blob_id(data: bytes) -> str:
    """The git blob id of `data`, as GitHub's contents API gives it (`sha`)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def file_blob_id(path: Path | str) -> str:
    """The git blob id of the regular file at `path`, read into the hash a chunk at a time: a
    checkout file of gigabytes is hashed in constant memory (read whole before). git's header
    holds the size first, so the size is the open file's; a file that grows or shrinks while
    it is read is an OSError, as is anything but a regular file (a FIFO is opened without
    blocking and refused, where reading it waited for ever)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(path, "it is not a regular file")
        digest, left = hashlib.sha1(b"blob %d\0" % info.st_size), info.st_size
        while chunk := os.read(fd, min(READ_CHUNK, left + 1)):
            left -= len(chunk)
            if left < 0:
                break
            digest.update(chunk)
        if left != 0:
            raise FileRefused(path, "it changed while it was read")
        return digest.hexdigest()
    finally:
        os.close(fd)


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
    files = {p for p in target.parent.rglob("*") if p.is_file() and p.relative_to(root).as_posix() != "pr-number"}  # a config missing here fails to plan
    if len(files) > MAX_FILES:  # one call each, on the token's hourly limit, which is the whole repository's
        raise GpuctlError(f"the uploaded configs hold {counted(len(files), 'file')} in the directory of {config}, more than the {MAX_FILES} gpuctl checks against the "
                          f"pull request; {config} was not planned",
                          hint="fork-configs.yml copies a config, its Dockerfile, handler and requirements files and workflow JSON; keep the directory "
                               "of each config to those, or plan the pull request from a branch of this repository (plan.yml)")
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
        try:
            data = read_bytes(path, MAX_FILE_BYTES)
        except OSError as exc:
            why = exc.problem if isinstance(exc, FileRefused) else f"it cannot be read ({exc.strerror or exc})"
            raise _differs(relative, config, head_sha, why) from None
        if found.get("sha") != blob_id(data):
            raise _differs(relative, config, head_sha, "its content is not the pull request's")


NOT_PLANNED_HINT = ("a fork's pull request is planned only against the project its config has on the base branch, since the plan "
                    "reads the account with its key and is posted publicly; to plan it anyway, a maintainer can push the branch to this "
                    "repository, where the pull request workflow (plan.yml) plans it, or land the config's project_id on the base branch first")


def base_config(gh: GitHub, path: str, key: str, base_sha: str | None) -> dict:
    """The config that `path` (its path in the repository) is at the pull request's base
    commit, parsed. Raise, naming why, when there is no such commit or file, or it cannot be
    read or sets no `project_id`."""
    where = f"{path} on the pull request's base" + (f" ({base_sha[:12]})" if base_sha else "")

    def refused(why: str, hint: str = NOT_PLANNED_HINT) -> GpuctlError:
        return GpuctlError(f"{key} was not planned: {where} {why}, so the project it may plan is not known", hint=hint)

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
        data, _ = parse_text(text, f"{path}@{base_sha[:12]}", CONFIG)
    except DiagnosticsError as exc:  # name the place and the problem, not the error's summary again
        problem = exc.diagnostics[0]
        fix = f"fix {path} on the base branch" + (f" ({problem.hint})" if problem.hint else "")
        raise refused(f"could not be read: {problem.location()}: {problem.message}", f"{fix}; until then {NOT_PLANNED_HINT}") from None
    except (ValueError, GpuctlError) as exc:
        raise refused(f"could not be read ({exc.summary if isinstance(exc, GpuctlError) else exc})") from None
    declared = data.get("project_id") if isinstance(data, dict) else None
    if not isinstance(declared, str) or not declared:
        raise refused("sets no project_id")
    return data


@dataclass(frozen=True)
class Scope:
    """What a fork's config may see of the account: its base config's project, and the names and
    ids that base config already shows in its own plans."""

    project_id: str
    names: frozenset[str]  # the base config's endpoint block names
    adopted: frozenset[str]  # the endpoint ids it adopts
    volumes: frozenset[str]  # the volume names it declares

    def view(self, observed: Observed) -> Observed:
        """The account as the fork's plan sees it: this project's endpoints (by marker, or by
        its last-applied record when the marker was removed), the endpoints the base adopts,
        any endpoint named like a block of the base config (whose plan already names it), the
        volumes those endpoints of the project attach or the base config names, and this
        project's records. Everything else reads as absent: a fork that names another team's
        endpoint or an account's volume in its config gets a plan to create it, not that it
        exists, its id, owner, data center or size. Such a plan is never applied: on merge
        the plan against the whole account differs from it, and is refused as not reviewed."""
        project = self.project_id
        records = records_of(observed.templates, project)

        def mine(e: dict) -> bool:
            eid = str(e.get("id"))
            return owner(e) == project or (not owner(e) and eid in records) or eid in self.adopted

        endpoints = tuple(e for e in observed.endpoints if mine(e) or e.get("name") in self.names)
        attached = {v for e in observed.endpoints if mine(e) for v in volume_ids(e)}
        volumes = tuple(v for v in observed.network_volumes if str(v.get("id")) in attached or v.get("name") in self.volumes)
        templates = tuple(t for t in observed.templates if owner(t) == project)
        return Observed(endpoints, volumes, templates, registries=observed.registries)  # names and ids, no credential: a fork's plan resolves registry_auth


def check_scope(gh: GitHub, path: str, key: str, base_sha: str | None, desired) -> Scope:
    """Raise unless the pull request's config (`desired`, loaded but not yet planned) reads only
    what the same path on the base commit does: the project it declares, and no endpoint
    adopted (`adopt`, which takes an endpoint of any project over by id, and whose plan shows
    that endpoint's configuration) that the base does not adopt. Returns the scope whose
    `view` narrows the account the plan is made against."""
    base = base_config(gh, path, key, base_sha)
    declared, at = base["project_id"], f"{path} on the pull request's base ({str(base_sha)[:12]})"
    if desired.project_id != declared:
        raise GpuctlError(f'{key} was not planned: it plans project "{desired.project_id}", but {at} declares project_id "{declared}"',
                          hint=NOT_PLANNED_HINT)
    blocks = base.get("serverless")
    blocks = [b for b in (blocks if isinstance(blocks, list) else [blocks]) if isinstance(b, dict)]
    adopted = {b.get("adopt") for b in blocks if isinstance(b.get("adopt"), str)}
    for spec in desired.endpoints:
        if spec.adopt and spec.adopt not in adopted:
            raise GpuctlError(f"{key} was not planned: endpoint.{spec.name} adopts endpoint {spec.adopt}, and {at} does not adopt it",
                              hint=NOT_PLANNED_HINT)
    names = {b.get("name") for b in blocks if isinstance(b.get("name"), str)}
    volumes = {b["volume"].get("name") for b in blocks if isinstance(b.get("volume"), dict) and isinstance(b["volume"].get("name"), str)}
    return Scope(declared, frozenset(names), frozenset(adopted), frozenset(volumes))


def gone_at(gh: GitHub, head_sha: str, key: str) -> bool:
    """Whether nothing is at `key` (a config's path in the repository, as a marker names it) in
    the pull request's head commit `head_sha`, as GitHub has it: the fork flow's own checkout is
    the base branch, which still has a config the pull request moved away (comments.supersede).
    A directory, a symbolic link, anything there is not gone; a key that could name a path
    outside the repository (absolute, `..`) is never gone. GitHub failing to answer raises."""
    from pathlib import PurePosixPath

    path = PurePosixPath(key)
    if not key or path.is_absolute() or ".." in path.parts or "\\" in key:
        return False
    return _contents(gh, key, head_sha) is None


def _contents(gh: GitHub, path: str, ref: str):
    try:
        return gh.request("GET", gh.repo("contents", *path_of(path)), params={"ref": ref}, answer=(dict, list), fields=CONTENTS)
    except GitHubError as exc:
        if exc.status == 404:
            return None
        raise


def _differs(relative: str, key: str, head_sha: str, why: str) -> GpuctlError:
    return GpuctlError(f"the uploaded {relative} is not the pull request's at {head_sha[:12]}: {why}; {key} was not planned",
                       hint="the configs artifact came from the fork's own run of fork-configs.yml, which the fork can change; "
                            "a plan is shown only for the pull request's own files")
