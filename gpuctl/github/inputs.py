"""Every file of the checkout a config's plan reads, and whether the branch's head commit has
each of them as the checkout does (the apply's "newer commit" check, reviewed.superseded).

gpu.jsonc is not all a plan reads: `template: auto` chooses the template from the files beside
it (gpuctl.config.templates.reads), and a `policy` input file decides whether the plan may be
applied at all. A newer commit that changed only one of those changes the plan as much as one
that changed gpu.jsonc. Each is compared by git blob id (a directory that is only looked for,
custom_nodes/, by its being there) with the contents API's listing of its directory at the
head commit: one call for gpu.jsonc's directory, one more for src/ and workflows/ each when
`template: auto` is used and either side has them, one for a policy file in another
directory. A directory GitHub lists only in part (1,000 entries) is read from the recursive
trees API instead."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gpuctl.config import templates
from gpuctl.errors import GpuctlError
from gpuctl.github.client import GitHub, GitHubError, path_of

# What gpuctl reads of a file or of each entry of a directory (GET /contents/PATH), checked by the client.
CONTENTS = {"name": str, "type": str, "sha": (str, type(None)), "encoding": (str, type(None)), "content": (str, type(None))}
LISTING_LIMIT = 1000  # the contents API lists at most this many entries of a directory

Identity = tuple[str, str | None]  # ("blob", its git blob id) for a file or a symlink (the link itself), ("dir", None) for a directory or submodule


@dataclass(frozen=True)
class Input:
    path: str  # from the repository root
    why: str  # "" for the config itself; else what reads it ("which template auto reads for gpu.jsonc")


@dataclass(frozen=True)
class Inputs:
    """What a config's plan reads: `wanted[folder]` says which names of each folder (from the
    repository root; "" the root) count, `local` is what the checkout (at `root`) has of them."""

    key: str
    wanted: dict[str, dict[str, str]]  # folder -> {name: why}, or {"*": why} for every name templates.reads names there
    root: Path

    def local(self) -> dict[str, Identity]:
        found: dict[str, Identity] = {}
        for folder in self.wanted:
            directory = self.root / folder
            if not directory.is_dir() or directory.is_symlink():
                continue  # a symlink is compared as itself, in its parent: the branch's listing does not follow it either
            for entry in directory.iterdir():
                path = _join(folder, entry.name)
                if self.why(path) is not None:
                    found[path] = _identity(entry)
        return found

    def why(self, path: str) -> str | None:
        """Why `path` (from the repository root) is an input: "" the config, else what reads it; None: it is not one."""
        p = PurePosixPath(path)
        folder = "" if str(p.parent) == "." else p.parent.as_posix()
        names = self.wanted.get(folder, {})
        if p.name in names:
            return names[p.name]
        if "*" in names and templates.reads(_from(self._project(), path)):
            return names["*"]
        return None

    def _project(self) -> str:
        parent = PurePosixPath(self.key).parent
        return "" if str(parent) == "." else parent.as_posix()


def of(root: Path, key: str, auto: bool, policy: str | None, through: Sequence[str] = ()) -> Inputs:
    """The inputs of the config `key` (its path from the repository root, checked out under
    `root`): the config itself; with `auto` (a block's template is `auto`) what templates.reads
    names in its directory; `policy`, a policy file's path from the repository root as the
    workflow names it, if any; `through`, the paths the checkout reads it through when a symbolic
    link is at or above it (each link, compared as itself, and the file it leads to)."""
    project = PurePosixPath(key).parent
    base = "" if str(project) == "." else project.as_posix()
    wanted: dict[str, dict[str, str]] = {base: {PurePosixPath(key).name: ""}}
    if auto:
        for folder in templates.FOLDERS:
            wanted.setdefault(_join(base, folder), {})["*"] = f"which template auto reads for {key}"
    if policy:
        p = PurePosixPath(policy)
        wanted.setdefault("" if str(p.parent) == "." else p.parent.as_posix(), {})[p.name] = f"the policy file {key} is planned with"
        for path in through:
            p = PurePosixPath(path)
            wanted.setdefault("" if str(p.parent) == "." else p.parent.as_posix(), {})[p.name] = f"read for the policy file {key} is planned with"
    return Inputs(key, wanted, root)


def changed(gh: GitHub, inputs: Inputs, head: str) -> list[tuple[str, str, str]]:
    """The inputs that the commit `head` has otherwise than the checkout, each as (path, what
    became of it: changed | deleted | added, why it is an input), in path order."""
    local = inputs.local()
    remote = _remote(gh, inputs, head)
    found = []
    for path in sorted(local.keys() | remote.keys()):
        if local.get(path) == remote.get(path):
            continue
        what = "added" if path not in local else "deleted" if path not in remote else "changed"
        found.append((path, what, inputs.why(path) or ""))
    return found


def _remote(gh: GitHub, inputs: Inputs, head: str) -> dict[str, Identity]:
    found: dict[str, Identity] = {}
    listed: dict[str, dict[str, Identity] | None] = {}
    tree: list[dict] | None = None
    for folder in sorted(inputs.wanted, key=lambda f: (f.count("/") + bool(f), f)):  # a folder after its parent
        parent = str(PurePosixPath(folder).parent) if folder else None
        parent = "" if parent == "." else parent
        if parent is not None and parent in listed:
            above = listed[parent] or {}
            if above.get(_join(parent, PurePosixPath(folder).name), ("",))[0] != "dir":
                listed[folder] = None  # the head commit has no such directory: nothing to ask
                continue
        entries = listing(gh, folder, head)
        if entries is not None and len(entries) >= LISTING_LIMIT:
            if tree is None:
                tree = _tree(gh, head, inputs.key)
            entries = {e["path"]: _typed(e) for e in tree if _parent(e["path"]) == folder}
        listed[folder] = entries
        for path, identity in (entries or {}).items():
            if inputs.why(path) is not None:
                found[path] = identity
    return found


def listing(gh: GitHub, folder: str, head: str) -> dict[str, Identity] | None:
    """The entries of `folder` at `head` ({path: identity}); None when it has no such directory."""
    try:
        found = gh.request("GET", gh.repo("contents", *path_of(folder)), params={"ref": head}, answer=(dict, list), fields=CONTENTS)
    except GitHubError as exc:
        if exc.status == 404:
            return None
        raise
    if not isinstance(found, list):
        return None  # a file (or a symlink) where the checkout has a directory
    return {_join(folder, e["name"]): ("dir", None) if e["type"] in ("dir", "submodule") else ("blob", e.get("sha")) for e in found}


def _tree(gh: GitHub, head: str, key: str) -> list[dict]:
    found = gh.request("GET", gh.repo("git", "trees", head), params={"recursive": "1"}, fields={"tree": list, "truncated": (bool, type(None))})
    if found.get("truncated"):
        raise GpuctlError(f"cannot tell whether a newer commit changed what {key}'s plan reads: GitHub lists only part of the repository at {head[:12]}",
                          hint="nothing was written; run the apply workflow by hand (workflow_dispatch) on the branch, which applies it as it is now")
    return [e for e in found["tree"] if isinstance(e, dict) and isinstance(e.get("path"), str)]


def _typed(entry: dict) -> Identity:
    """A trees API entry as `listing` names one (a tree or a submodule's commit: a directory)."""
    return ("dir", None) if entry.get("type") in ("tree", "commit") else ("blob", entry.get("sha"))


def _identity(entry: Path) -> Identity:
    from gpuctl.github.fork import blob_id, file_blob_id

    try:
        if entry.is_symlink():  # git keeps the link, not what it points at
            return ("blob", blob_id(os.fsencode(os.readlink(entry))))
        if entry.is_dir():
            return ("dir", None)
        return ("blob", file_blob_id(entry))  # streamed: never the whole file in memory
    except OSError as exc:
        return ("unreadable", str(exc))  # never the head's: compared, it reads as changed


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder and name else folder or name


def _parent(path: str) -> str:
    parent = str(PurePosixPath(path).parent)
    return "" if parent == "." else parent


def _from(project: str, path: str) -> str:
    return path[len(project) + 1:] if project else path
