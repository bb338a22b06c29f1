"""The policy file a same-repository pull request is planned against (ADR 33).

plan.yml's `policy` input names a file of the pull request's own checkout, so the pull request
that breaks a rule could also rewrite the rule, and its plan would pass. So the file is compared
(by git blob id) with the base branch's version, read through the contents API
(`GET /contents/PATH?ref=BRANCH`, which `contents: read` allows):

- the same: the plan is checked against it, and the comment says nothing more;
- changed by the pull request: the plan is checked against the base branch's version, the rules
  reviewed before this pull request, and the comment says first that the pull request changes
  the policy file and what its version would report (the same plan checked again: no second
  read of the account). The apply on merge reads the merged file, by then the reviewed one;
- absent on the base branch (new in the pull request): the base's rules were gpu.jsonc's own
  `policy` block alone, and a file can only make each rule stricter (merge: the stricter of the
  two), so the plan is checked against the pull request's file and the comment says it is new.
  Believed only when the path is shown to be the repository's (a config is on the base at its
  key, or the head commit has this very file at the key); else nothing is planned (ADR 50).

"In the checkout" is decided from the path as the workflow names it (`.` and `..` folded, no
link followed: Job.in_checkout), and the base's version is looked up at that path from the
repository root (the directory holding `.git`: Job.root, ADR 50). A symbolic
link at or above it in the checkout is a change by the pull request unless what it leads to
(in the checkout) is the base's file byte for byte: the plan is checked against the base's
version, and the pull request's is checked too only when the link stays in the checkout (a file
of the runner is never read). A link where the base branch has no file is refused: nothing
says what rules it replaced. A policy file outside the checkout (the runner's, another
checkout's) is the workflow's choice and is used as it is; one missing from the checkout fails
every plan, as before. When
the base's version cannot be read (GitHub refused, a file over 1 MB), nothing is planned: a plan
shown as keeping the rules it might have rewritten is the thing this check prevents."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gpuctl.errors import GpuctlError
from gpuctl.github.client import GitHubError
from gpuctl.github.env import BRANCH
from gpuctl.github.job import Job
from gpuctl.render.md import code as md_code
from gpuctl.words import counted


@dataclass(frozen=True)
class PolicyChoice:
    """What the plans are checked against: `path` (None: --policy as given), shown as `shown`;
    `also`, the pull request's own version, checked too; `note`, Markdown for the top of each
    comment ("" for none)."""

    path: str | None = None
    shown: str | None = None
    also: str | None = None
    note: str = ""


def choose(job: Job, policy: str | None, scratch: Path, configs: tuple[str, ...] = ("gpu.jsonc",)) -> PolicyChoice:
    """The policy to plan a same-repository pull request's `configs` against. The base's
    version, when one is needed, is written under `scratch` (never the checkout or the plan
    artifact). The checkout is the one holding the configs (Job.root: the git work tree, not
    GITHUB_WORKSPACE, ADR 50), the first that holds the policy file."""
    from gpuctl.github.fork import _contents, file_blob_id

    if policy is None or job.actions.pull_request() is None or not configs:
        return PolicyChoice()
    named = next((n for n in (job.in_checkout(policy, config) for config in configs) if n.key is not None), None)
    if named is None:
        return PolicyChoice()  # not a file of the pull request's checkout: the workflow's own choice
    key, local = named.key, named.root / named.key
    if not named.links and not local.is_file():
        return PolicyChoice()  # the plan names it as missing
    branch = job.actions.event_field("pull_request.base.ref", BRANCH)
    where = f"{key}@{branch}"
    hint = "re-run this workflow job; if it fails again, check the workflow's `permissions:` grants `contents: read`"
    try:
        found = _contents(job.github, key, branch)
    except GitHubError as exc:
        raise GpuctlError(f"the policy file {key} was not compared with the base branch's version ({where}): GitHub answered {exc.summary}; "
                          "nothing was planned, since this pull request may have changed the rules its plan is checked against", hint=hint) from None
    if found is None and named.links:
        raise GpuctlError(f"the policy file {key} was not compared with the base branch's version ({where}): in this pull request's checkout it "
                          f"{_through(named)}, and the base branch has no file at {key}; nothing was planned, since a link can lead to "
                          "rules no one reviewed", hint=f"give the action's `policy` input the path of the file itself, not of a link to it, or make {key} a file")
    if found is None:
        _new_or_misplaced(job, named, key, branch, [c for c in configs if job.placed(c)[0] == named.root], hint)
        return PolicyChoice(note=f"> [!NOTE]\n> This pull request adds the policy file {md_code(key)}: the base branch ({md_code(branch)}) has none, "
                                 "so its rules were gpu.jsonc's own `policy` block alone, which the new file can only make stricter. "
                                 "The plan is checked against the pull request's version. Review the new rules like code.\n\n")
    if not isinstance(found, dict) or found.get("type") != "file" or found.get("encoding") != "base64":
        raise GpuctlError(f"the policy file {key} was not compared with the base branch's version ({where}): it is not a file GitHub returns "
                          "the content of (a directory, a link, or over 1 MB); nothing was planned",
                          hint=f"keep {key} a policy file under 1 MB on the base branch, or give the action's `policy` input the file's path")
    mine = None
    if named.target is not None:
        try:
            mine = file_blob_id(named.root / named.target)
        except OSError:
            if not named.links:
                return PolicyChoice()  # the plan names it as unreadable
    if mine is not None and found.get("sha") == mine:
        return PolicyChoice()
    copy = scratch / PurePosixPath(key).name
    copy.write_bytes(base64.b64decode(found.get("content") or "", validate=False))
    changes = f"This pull request changes the policy file {md_code(key)}"
    if named.links:
        changes += f": in its checkout it {_through(named, md_code)}"
    also = "{also}" if named.target is not None else "this pull request's version was not checked, as gpuctl never reads a file outside the checkout"
    return PolicyChoice(str(copy), where, policy if named.target is not None else None,
                        f"> [!WARNING]\n> {changes}. The plan is checked against the base branch's "
                        f"version ({md_code(branch)}), the rules reviewed before this pull request; {also}. The new rules apply to the plans "
                        "made after the merge: review the change to them like code.\n\n")


def _new_or_misplaced(job: Job, named, key: str, branch: str, configs: list[str], hint: str) -> None:
    """Return when the base branch's lack of a policy file at `key` means the pull request
    adds it; raise when it may mean that `key` is not the file's path in the repository (a
    checkout gpuctl took the wrong root of): then the base's rules are unknown, and a loosened
    file would pass as new (ADR 50). The path is right when the base branch has one of the
    configs at its key (the same root names both), or when the pull request's head commit has
    this very file at `key` (a pull request that adds a config and its policy file)."""
    from gpuctl.github.fork import _contents, file_blob_id

    keys = [job.key(c) for c in configs]
    where = f"{key}@{branch}"
    try:
        if any(_contents(job.github, k, branch) is not None for k in keys):
            return
        pull = job.actions.pull_request()
        head = _contents(job.github, key, pull[1]) if pull is not None else None
    except GitHubError as exc:
        raise GpuctlError(f"the policy file {key} was not compared with the base branch's version ({where}): GitHub answered {exc.summary}; "
                          "nothing was planned, since this pull request may have changed the rules its plan is checked against", hint=hint) from None
    try:
        if isinstance(head, dict) and head.get("type") == "file" and head.get("sha") == file_blob_id(named.root / key):
            return
    except OSError:
        pass
    shown = ", ".join(keys) or "no config"
    raise GpuctlError(f"the policy file {key} was not compared with the base branch's version: the base branch ({branch}) has neither {key} nor "
                      f"the config ({shown}) at those paths, and the pull request's head commit has no such {key}, so these are not the files' paths "
                      "in the repository and the base's rules could not be read; nothing was planned, since a loosened policy file would pass as a new one",
                      hint="gpuctl takes paths from the repository root, the directory holding .git: keep the checkout's .git (actions/checkout "
                           "does), and give the action's `working-directory` the checkout's `path:` when it checks out into a subdirectory")


def _through(named, shown=lambda text: text) -> str:
    """How the checkout's path `named` goes through its symbolic links, and where they lead."""
    link = named.links[0]
    what = "is a symbolic link" if link == named.key else f"goes through the symbolic link {shown(link)}"
    return f"{what}, to {shown(named.target)}" if named.target is not None else f"{what}, to a file outside the checkout"


def note(choice: PolicyChoice, doc: dict | None) -> str:
    """The Markdown for the top of a config's comment, with what the pull request's version of
    the policy file would report of the plan `doc` (its `also_policy`, taken out here)."""
    also = doc.pop("also_policy", None) if doc is not None else None
    if not choice.note or choice.also is None:
        return choice.note
    if also is None:
        said = "this pull request's version was not checked"
    elif "error" in also:
        said = f"this pull request's version could not be read ({also['error']})"
    else:
        n = len(also.get("violations") or [])
        said = f"this pull request's version would report {counted(n, 'violation') if n else 'no violation'}"
    return choice.note.replace("{also}", said)
