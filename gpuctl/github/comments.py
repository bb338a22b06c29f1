"""The sticky pull-request comment: one per config (and so per project), found again by its
hidden marker and edited in place on every push, never posted anew. A plan longer than one
comment takes several, each marked with its part number; when the plan shrinks, the parts it
no longer needs are deleted, and so is any second copy of a part (a retried create).

The marker also names the config's project. A plan comment left under a config's old path (a
push moved `gpu.jsonc` to `svc/gpu.jsonc`) is edited to say which comment supersedes it
(`supersede`, ADR 43)."""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from gpuctl.errors import GpuctlError
from gpuctl.github.authors import AUTHORED, Author, login
from gpuctl.github.client import GitHub
from gpuctl.github.job import error_markdown
from gpuctl.github.parts import budget, marker, read_marker, split, with_markers
from gpuctl.words import agreeing, counted

if TYPE_CHECKING:
    from gpuctl.github.job import Job

KIND = "plan"
COMMENT = {"id": int, "body": (str, type(None)), "html_url": (str, type(None))} | AUTHORED  # what gpuctl reads of a comment


@dataclass
class Posted:
    """What one upsert did, by comment id."""

    ids: list[int] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    impostors: list[dict] = field(default_factory=list)  # others' comments that carry the marker
    kept: bool = False  # the comment says what an earlier run applied, and this result wrote nothing: left as it is


def ours(gh: GitHub, number: int, key: str, kind: str = KIND, impostors: list[dict] | None = None) -> dict[int, list[dict]]:
    """This key's comments of this kind on the pull request, by part number, oldest first.
    Only comments gpuctl's token wrote count: anyone may comment on a pull request (on a
    public repository, anyone at all), and a comment that merely starts with the marker is
    someone else's text, and so is one by any other bot (another GitHub App, another workflow's
    account): `authors.Author`. Those go to `impostors` and are never edited or deleted: editing
    one would put the real plan under its author's name, for them to edit back."""
    found: dict[int, list[dict]] = {}
    author = Author(gh)
    for comment in gh.paginate(gh.repo("issues", number, "comments"), fields=COMMENT):
        mark = read_marker(comment.get("body"))
        if not (mark and mark.kind == kind and mark.key == key):
            continue
        if author.wrote(comment):
            found.setdefault(mark.part or 1, []).append(comment)
        elif impostors is not None:
            impostors.append(comment)
    return found


def upsert(gh: GitHub, number: int, key: str, markdown: str, kind: str = KIND, wrote: bool | None = None, project: str | None = None) -> Posted:
    """Make the pull request show `markdown` for `key`: edit the parts that are there, add the
    ones missing, delete the ones left over. `kind` keeps the plan and the apply result of one
    config apart ("plan", "apply"). An apply result says whether it `wrote` to the account: one
    that wrote nothing (a re-run refused, or failing before its first write) leaves a comment
    that says what an earlier run wrote as it is (`kept`), so the pull request never reads as
    not applied when it was; the job summary has the new result. One that wrote replaces a
    comment of a run that wrote nothing with that text folded under it (`_earlier`), never
    dropped. `project` (the config's project_id) goes in the markers."""
    posted = Posted()
    existing = ours(gh, number, key, kind, posted.impostors)
    if wrote is False and any(read_marker(c.get("body")).wrote for c in existing.get(1, [])[:1]):
        posted.kept = True
        posted.ids = [copies[0]["id"] for _, copies in sorted(existing.items())]
        return posted
    if wrote:
        markdown += _earlier(existing)
    bodies = with_markers(kind, key, split(_warned(markdown, posted.impostors), budget(kind, key, project)), wrote=bool(wrote), project=project)
    for part, body in enumerate(bodies, 1):
        copies = existing.pop(part, [])
        if not copies:
            created = gh.request("POST", gh.repo("issues", number, "comments"), json={"body": body}, fields=COMMENT)
            Author(gh).check_created(created, f"{kind} comment")
            posted.ids.append(created["id"])
            posted.created += 1
            continue
        first, *extra = copies
        if first.get("body") != body:
            gh.request("PATCH", gh.repo("issues", "comments", first["id"]), json={"body": body})
            posted.updated += 1
        else:
            posted.unchanged += 1
        posted.ids.append(first["id"])
        existing.setdefault(0, []).extend(extra)
    for comment in (c for copies in existing.values() for c in copies):
        gh.request("DELETE", gh.repo("issues", "comments", comment["id"]))
        posted.deleted += 1
    return posted


EARLIER = "<!-- gpuctl:earlier -->"


def _earlier(existing: dict[int, list[dict]]) -> str:
    """What an apply comment that is about to be replaced by a run that wrote said, when that
    was a run that wrote nothing (a refusal, a failure before the first write): folded under
    the new result, so the pull request shows it was applied without losing why the merge's run
    refused. An earlier fold that a writing comment carries is carried on, once."""
    parts = [copies[0].get("body") or "" for _, copies in sorted(existing.items()) if copies]
    if not parts:
        return ""
    if read_marker(parts[0]).wrote:
        whole = "\n".join(_content(body) for body in parts)
        return whole[whole.index(EARLIER):] if EARLIER in whole else ""
    said = "\n".join(_content(body) for body in parts).strip()
    return (f"\n{EARLIER}\n<details><summary>Before this run: what an earlier run said (it wrote nothing)</summary>\n\n"
            f"{said}\n\n</details>\n")


def _content(body: str) -> str:
    """A part's text, less its marker line and its "Part i of n" note."""
    text = body.split("\n", 1)[1] if "\n" in body else ""
    if text.startswith("_Part ") and "._\n\n" in text:
        text = text.split("._\n\n", 1)[1]
    return text


def _warned(markdown: str, impostors: list[dict]) -> str:
    """`markdown` with a warning first when someone else's comment imitates it, so a reviewer
    knows which one to believe."""
    if not impostors:
        return markdown
    n = len(impostors)
    who = ", ".join(sorted({login(c) for c in impostors}))
    links = ", ".join(f"[{c['id']}]({c['html_url']})" if c.get("html_url") else str(c["id"]) for c in impostors)
    return (f"> [!WARNING]\n> {counted(n, 'other comment')} here ({links}, by {who}) {agreeing(n, 'starts', 'start')} with gpuctl's "
            f"hidden marker, but gpuctl did not write {agreeing(n, 'it', 'them')}: do not trust {agreeing(n, 'it', 'them')}. This comment is gpuctl's.\n\n"
            + markdown)


def note_impostors(note, key: str, posted: Posted) -> None:
    """Say in the job's log which comments imitate gpuctl's and were left alone."""
    for c in posted.impostors:
        note(f"warning: {key}: comment {c['id']} by {login(c)} starts with gpuctl's marker but gpuctl did not write it; "
             "it was left alone, and gpuctl's own comment warns reviewers about it")


class Result(Protocol):
    """What a flow knows of one config: its key, exit code, summary line and Markdown."""

    key: str
    code: int
    summary: str
    markdown: str


def post(job: Job, number: int, result: Result, kind: str = KIND) -> bool:
    """Show `result` on pull request `number` as its config's sticky comment. GitHub refusing
    it (a token without `pull-requests: write`, a rate limit longer than gpuctl waits, a 5xx) is
    an error of that config, not the end of the run: it is noted in the log and the job summary,
    `result` becomes a failure (code 1, its summary line saying so), and the caller goes on to
    the next config's comment, then writes the outputs from the results. False when refused."""
    try:
        posted = upsert(job.github, number, result.key, job.clean(result.markdown), kind, wrote=getattr(result, "changed", None) if kind == "apply" else None,
                        project=getattr(result, "project", None))
    except GpuctlError as exc:
        job.app.note(f"{result.key}: the {kind} comment on pull request #{number} could not be written: {exc.format()}")
        job.summary(error_markdown(f"gpuctl could not write the {kind} comment for `{result.key}` on pull request #{number}", exc.format()))
        result.code, result.summary = 1, f"{result.summary}; error: the pull request comment: {exc.summary}"
        return False
    if posted.kept:
        job.app.note(f"{result.key}: pull request #{number} keeps the apply comment of the run that applied it; this run wrote nothing, "
                     "and its result is in the job summary")
        return True
    job.app.note(f"{result.key}: pull request #{number} {kind} comment {'updated' if posted.updated or posted.unchanged else 'posted'}"
                 f" ({counted(len(posted.ids), 'part')}{f', {posted.deleted} stale removed' if posted.deleted else ''})")
    note_impostors(job.app.note, result.key, posted)
    return True


def supersede(job: Job, number: int, results: list[Result], gone: Callable[[str], bool] | None = None) -> None:
    """Edit each plan comment on pull request `number` that a config of this run left under its
    old path into a note naming the comment that supersedes it (ADR 43): a push moved
    `gpu.jsonc` to `svc/gpu.jsonc`, so the plan under `gpu.jsonc` is no longer what merging
    does, and no later run would edit it again. Only a comment gpuctl's token wrote
    (`authors.Author`) whose marker names the project of one of `results` (a result that has its
    comment on the pull request now), under a key none of them has and whose file is gone from
    the checkout (`Job.gone`): another project's plan, a plan of a config still there (two
    configs may name one project in two workflows) and a marker in someone else's comment are
    never touched. A marker an earlier gpuctl wrote names no project: its comment is taken to
    be of the only project gpuctl's plan comments on the pull request name (with `results`),
    and is left alone when they name two (whose it was cannot be told); its note keeps the
    marker as it was, without a project. `gone` says whether nothing is at a key in the pull
    request (default `Job.gone`, the checkout; the fork flow's checkout is the base branch, so it
    asks the pull request's head commit: `fork.gone_at`). A note already there is left as it is; the old plan's other parts are deleted.
    GitHub refusing it is a warning in the log: the comment stays for the next run."""
    from gpuctl.render import md

    projects = {r.project: r.key for r in results if getattr(r, "project", None)}
    if not projects:
        return
    keys = {r.key for r in results}
    gone = gone or job.gone
    gh = job.github
    try:
        listed = list(gh.paginate(gh.repo("issues", number, "comments"), fields=COMMENT))
        author = Author(gh)
        marks = [(c, read_marker(c.get("body"))) for c in listed]
        now = {m.key: c for c, m in marks if m and m.kind == KIND and m.key in keys and (m.part or 1) == 1 and author.wrote(c)}
        planned = {m.project for c, m in marks if m and m.kind == KIND and m.project and author.wrote(c)} | set(projects)
        only = next(iter(planned)) if len(planned) == 1 else None  # whose a plan of an earlier gpuctl (no project in its marker) is
        stale = [(c, m) for c, m in marks if m and m.kind == KIND and m.key not in keys and (m.project or only) in projects
                 and author.wrote(c) and gone(m.key)]
        for comment, mark in stale:
            new = projects[mark.project or only]
            if (mark.part or 1) != 1:
                gh.request("DELETE", gh.repo("issues", "comments", comment["id"]))
                continue
            there = now.get(new, {}).get("html_url")
            where = f"[its plan comment]({there})" if there else "its plan comment"
            body = job.clean(f"{marker(KIND, mark.key, 1, 1, project=mark.project)}\n### Superseded: this plan of {md.code(mark.key)} is out of date\n\n"
                             f"This pull request no longer has {md.code(mark.key)}: project {md.code(mark.project or only)} is planned as "
                             f"{md.code(new)} now, in {where}, which says what merging does. This comment is no longer updated.\n")
            if comment.get("body") != body:
                gh.request("PATCH", gh.repo("issues", "comments", comment["id"]), json={"body": body})
                job.app.note(f"{new}: pull request #{number} plan comment {comment['id']} of {mark.key}, whose file is gone, marked superseded")
    except GpuctlError as exc:
        job.app.note(f"warning: pull request #{number}: a plan comment left under a config's old path could not be marked superseded: "
                     f"{exc.format()}; the next run tries again")
