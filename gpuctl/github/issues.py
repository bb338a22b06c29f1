"""The drift issue: one open issue per config while the account differs from it. A run that
finds drift opens it (labelled, the label created if the repository lacks it) or edits the
one already open; a run that finds none closes it with a comment saying so. The issue is
found by its hidden marker and its author (gpuctl's token), not by its label, which people may
take off.

An edit notifies nobody, so when what drifts changes (a resource or field is new in the drift,
or gone from it; not a value that moved again) the run also posts one short comment, marked
`<!-- gpuctl:driftchange ... -->`, saying what is new and what is gone. What drifted at the
last run is kept in the issue body, behind the marker (`<!-- gpuctl:drift-items ... -->`);
the issue is gpuctl's only by its author (ADR 27), so its body is gpuctl's text.

The marker also names the config's project. A config moved to another path (a pull request
moved `old/gpu.jsonc` to `new/gpu.jsonc`) gets a new key and so a new issue; the run for it
closes the issue its project left under a key whose file is gone from the checkout (`Moved`,
ADR 43), so none is left open for ever."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import quote, unquote

from gpuctl.github.authors import AUTHORED, Author
from gpuctl.errors import GpuctlError
from gpuctl.github.client import GitHub, GitHubError
from gpuctl.github.parts import COMMENT_LIMIT, marker, read_marker
from gpuctl.files import json_in
from gpuctl.words import agreeing, first_of

KIND = "drift"
CHANGE_KIND = "driftchange"
LABEL_COLOR = "d93f0b"
ISSUE = {"number": int, "title": (str, type(None)), "body": (str, type(None))} | AUTHORED  # what gpuctl reads of an issue
ITEMS_ROOM = 20_000  # bytes of the issue body for the list of what drifts; a longer list is kept as its digest
SHOWN = 30  # items named per side in a change comment
_ITEMS = re.compile(r"<!-- gpuctl:drift-items (?P<items>[^\s<>]*) -->")
_AT = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC")
_RUN = re.compile(r"(\[run \d+\]\(https?://[^\s()<>]+\))?")
_SINCE = re.compile(r"<!-- gpuctl:drift-since (?P<since>[^\s<>]*) -->")


def ensure_label(gh: GitHub, label: str) -> None:
    """Create `label` unless the repository has it (a 422 means another run just made it)."""
    try:
        gh.request("GET", gh.repo("labels", label))
        return
    except GitHubError as exc:
        if exc.status != 404:
            raise
    try:
        gh.request("POST", gh.repo("labels"), json={"name": label, "color": LABEL_COLOR,
                                                    "description": "gpuctl: the account no longer matches gpu.jsonc"})
    except GitHubError as exc:
        if exc.status != 422:
            raise


def find_open(gh: GitHub, key: str, label: str, impostors: list[dict] | None = None) -> dict | None:
    """The open drift issue for `key` (the oldest, when runs that overlapped opened more)."""
    found = find_all_open(gh, key, label, impostors)
    return found[0] if found else None


def find_all_open(gh: GitHub, key: str, label: str, impostors: list[dict] | None = None, others: list[dict] | None = None) -> list[dict]:
    """The open drift issues for `key`, oldest first: those gpuctl's token opened (`authors.Author`)
    whose body starts with the key's marker. One, unless two runs overlapped and each opened
    one. The label is a convenience for people, not what makes an issue gpuctl's: the labelled
    issues are looked at first, then, when a person took the label off (or renamed it), every
    open issue. Pull requests, which the issues listing includes, are passed over; issues someone
    else wrote with the marker go to `impostors` and are never edited or closed. `others` gets
    gpuctl's open drift issues of other keys among those listed (for `Moved`)."""
    author = Author(gh)
    seen: set[int] = set()
    ours: list[dict] = []
    for query in ({"state": "open", "labels": label}, {"state": "open"}):
        for issue in gh.paginate(gh.repo("issues"), query, fields=ISSUE):
            if issue["number"] in seen:
                continue
            seen.add(issue["number"])
            mark = read_marker(issue.get("body"))
            if "pull_request" in issue or not (mark and mark.kind == KIND):
                continue
            if mark.key != key:
                if others is not None and author.wrote(issue):
                    others.append(issue)
                continue
            if author.wrote(issue):
                ours.append(issue)
            elif impostors is not None:
                impostors.append(issue)
        if ours:
            break
    return sorted(ours, key=lambda i: i["number"])


_TITLE = "gpuctl drift: project {project} ({key}) no longer matches the account"


def issue_title(project: str, key: str) -> str:
    """The drift issue's title, which names the project and the config."""
    return _TITLE.format(project=project, key=key)


def project_of(issue: dict) -> str | None:
    """The project of a gpuctl drift issue: its marker's, or, for an issue an earlier gpuctl
    opened (a marker without it), the one its title names, when the title is still the one
    gpuctl gave it (with the marker's key). None when neither says."""
    mark = read_marker(issue.get("body"))
    if mark is None:
        return None
    if mark.project:
        return mark.project
    head, tail = _TITLE.split("{project}")
    tail = tail.format(key=mark.key)
    said = issue.get("title") or ""
    if said.startswith(head) and said.endswith(tail) and len(said) > len(head) + len(tail):
        return said[len(head):-len(tail)]
    return None


@dataclass
class Moved:
    """What lets a run for a config close the drift issues its project left under another key
    (the config moved, ADR 43): the run's `project`, `gone` (whether a key's file is gone from
    the checkout: `Job.gone`), `clean` for the note's text and `link` (the run). An issue is
    closed only when gpuctl's token opened it, its marker (or, from an earlier gpuctl, its
    title) names this project, and its key's file is gone: another project's issue, or one of
    a config still there (two configs may name one project in two workflows), is never touched.
    `closed` gets (number, key) of each closed; `errors` what GitHub refused, which leaves that
    issue open for the next run and fails nothing."""

    project: str
    gone: Callable[[str], bool]
    clean: Callable[[str], str] = str
    link: str = ""
    closed: list[tuple[int, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def close(self, gh: GitHub, others: list[dict], key: str, number: int | None) -> None:
        """Close the issues of `others` this run's config left under its old key; `number` is
        the issue the drift of `key` is reported in now (None: the account matches it)."""
        from gpuctl.render import md

        for issue in sorted(others, key=lambda i: i["number"]):
            old = read_marker(issue.get("body")).key
            if project_of(issue) != self.project or not self.gone(old):
                continue
            where = f" ({self.link})" if self.link else ""
            now = (f"its drift is reported in #{number}" if number is not None
                   else f"the account matches it{where}")
            note = (f"{md.code(old)}, the config of this issue, is no longer in the repository: project {md.code(self.project)} is checked "
                    f"as {md.code(key)} now, and {now}. Closing this one, which no run would update again.")
            try:
                _close(gh, issue["number"], self.clean(note), "not_planned" if number is not None else "completed")
            except GpuctlError as exc:
                self.errors.append(f"issue #{issue['number']} ({old}): {exc.summary}")
                continue
            self.closed.append((issue["number"], old))

    def said(self) -> str:
        """What the run's summary line adds: the issues closed."""
        return "".join(f"; closed #{n} of {old}, whose file is gone (moved here)" for n, old in self.closed)


def _items_comment(items: list[str]) -> str:
    """What drifts, hidden in the body: percent-encoded JSON (no `-->` or `<` survives), or its
    digest when the list would crowd out the report."""
    text = quote(json.dumps(sorted(set(items)), ensure_ascii=False), safe="")
    if len(text) > ITEMS_ROOM:
        text = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    return f"<!-- gpuctl:drift-items {text} -->"


def _kept_items(body: str | None) -> list[str] | str | None:
    """What drifted when the body was written: the list, its digest, or None (an issue an
    earlier gpuctl wrote, or a body someone edited)."""
    found = _ITEMS.search(body or "")
    if not found:
        return None
    text = found["items"]
    if text.startswith("sha256:"):
        return text
    read, items = json_in(unquote(text))  # anyone who may edit the issue writes its body: `[` nested 100,000 deep is no RecursionError here
    return [i for i in items if isinstance(i, str)] if read and isinstance(items, list) else None


def _since_comment(since: dict[str, dict]) -> str:
    """When each thing that drifts was first seen, hidden in the body (as the list of what
    drifts); nothing when it would crowd out the report."""
    text = quote(json.dumps(since, ensure_ascii=False, sort_keys=True), safe="")
    return "" if len(text) > ITEMS_ROOM else f"<!-- gpuctl:drift-since {text} -->\n"


def _kept_since(body: str | None) -> dict[str, dict]:
    """What the body says about when each thing that drifts was first seen (nothing for a body
    an earlier gpuctl wrote)."""
    found = _SINCE.search(body or "")
    read, since = json_in(unquote(found["since"])) if found else (True, {})  # as `_kept_items`: a body anyone may edit
    if not read or not isinstance(since, dict):
        return {}
    # Shown as Markdown: only what gpuctl writes there (a time, a link to a run) is taken back.
    return {k: {"at": v["at"], "run": v.get("run", "")} for k, v in since.items()
            if isinstance(v, dict) and _AT.fullmatch(str(v.get("at"))) and _RUN.fullmatch(str(v.get("run", "")))}


def first_seen(items: list[str], before: dict[str, dict], at: str, link: str) -> dict[str, dict]:
    """When each of `items` was first seen: as `before` says, else now (`at`, by the run `link`)."""
    return {i: before.get(i) or {"at": at, "run": link} for i in sorted(set(items))}


def since_section(since: dict[str, dict]) -> str:
    """The "Since when" table of the issue: what drifts, and the run that first saw it."""
    from gpuctl.render import md

    if not since:
        return ""
    rows = [f"| {md.code_html(item)} | {', '.join(filter(None, (when['at'], when.get('run'))))} |" for item, when in sorted(since.items())]
    return "### Since when\n\n| what drifts | first seen |\n|---|---|\n" + first_of(rows, SHOWN, sep="\n", more="\n\n… and {} more.") + "\n\n"


def change_note(key: str, before: list[str] | str, after: list[str], link: str = "", project: str | None = None) -> str:
    """The comment that tells the issue's watchers what is new in the drift and what is gone.
    Its marker names the key and the project, as every marker does (ADR 43); a note an earlier
    gpuctl wrote (no project) still reads (`parts.read_marker`)."""
    from gpuctl.render import md

    head = f"{marker(CHANGE_KIND, key, project=project)}\n**The drift of {md.code_html(key)} changed**{f' ({link})' if link else ''}; the issue above is up to date.\n"
    if isinstance(before, str):  # a list too long to keep: only its digest
        return head + f"\n{len(set(after))} {agreeing(len(set(after)), 'resource or field drifts', 'resources and fields drift')} now.\n"

    def listed(word: str, items: list[str]) -> str:
        if not items:
            return ""
        return f"\n**{word}:**\n" + first_of(items, SHOWN, sep="", more="\n- … and {} more", each=lambda i: f"\n- {md.code_html(i)}") + "\n"

    new, gone = sorted(set(after) - set(before)), sorted(set(before) - set(after))
    return head + listed("New", new) + listed("Gone", gone)


def report(gh: GitHub, key: str, label: str, title: str, markdown: str, impostors: list[dict] | None = None,
           items: list[str] | None = None, link: str = "", footer: str = "", moved: Moved | None = None,
           project: str | None = None) -> tuple[int, str]:
    """(issue number, what was done: "opened issue #N", "updated issue #N", "updated and commented on issue #N" or
    "unchanged issue #N", with " (closed duplicate #M)" when runs that overlapped had opened more) for drift described by `markdown`.
    An open issue is updated with its labels as people left them. An issue a person closed
    while the drift persists is not reopened: the run opens a new one. `items` names what
    drifts (`drift_items`); when it differs from what the issue last said, the update also
    posts a comment saying what is new and what is gone (`link`: the run). `footer` (which run
    wrote the body, `job.footer`) ends the body but is not compared: a run that finds the same
    drift as the body says leaves the issue as it is, instead of editing it every night only to
    name another run. `project` goes in the marker; `moved`: close what the project left under
    a key whose file is gone, once this drift's issue is written."""
    others: list[dict] = []
    found = find_all_open(gh, key, label, impostors, others)
    number, what = _report(gh, key, label, title, markdown, found, items, link, footer, project)
    if moved is not None:
        moved.close(gh, others, key, number)
    return number, what


def _report(gh: GitHub, key: str, label: str, title: str, markdown: str, found: list[dict], items: list[str] | None, link: str,
            footer: str, project: str | None) -> tuple[int, str]:
    issue, duplicates = (found[0], found[1:]) if found else (None, [])
    since = None
    if items is not None:
        at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        since = first_seen(items, _kept_since(issue.get("body")) if issue else {}, at, link)
    stable = _body(key, markdown, items, since, room_after=len(footer.encode()), project=project)
    body = stable + footer
    if issue is None:
        ensure_label(gh, label)
        created = gh.request("POST", gh.repo("issues"), json={"title": title, "body": body, "labels": [label]}, fields=ISSUE)
        Author(gh).check_created(created, "drift issue")
        return created["number"], f"opened issue #{created['number']}"
    number = issue["number"]
    for duplicate in duplicates:  # runs that overlapped each opened one: keep the oldest
        _close(gh, duplicate["number"], f"Duplicate of #{number}, which reports this drift (two drift runs overlapped); closing.", "not_planned")
    numbers = ", ".join("#" + str(d["number"]) for d in duplicates)
    closed = f" (closed duplicate {numbers})" if duplicates else ""
    if _same_report(issue.get("body"), stable) and issue.get("title") == title:
        return number, f"unchanged issue #{number}{closed}"
    gh.request("PATCH", gh.repo("issues", number), json={"title": title, "body": body})
    before, after = _kept_items(issue.get("body")), _kept_items(body)
    if items is not None and before is not None and after is not None and before != after:
        gh.request("POST", gh.repo("issues", number, "comments"), json={"body": change_note(key, before, items, link, project)})
        return number, f"updated and commented on issue #{number}{closed}"
    return number, f"updated issue #{number}{closed}"


def resolve(gh: GitHub, key: str, label: str, note: str, impostors: list[dict] | None = None, moved: Moved | None = None) -> list[int]:
    """Close every open drift issue for `key` (one, unless runs overlapped) with `note` as its
    last comment; their numbers. `moved`: and those the project left under a key whose file is
    gone."""
    others: list[dict] = []
    found = find_all_open(gh, key, label, impostors, others)
    for issue in found:
        _close(gh, issue["number"], note, "completed")
    if moved is not None:
        moved.close(gh, others, key, None)
    return [i["number"] for i in found]


def _close(gh: GitHub, number: int, note: str, reason: str) -> None:
    gh.request("POST", gh.repo("issues", number, "comments"), json={"body": note})
    gh.request("PATCH", gh.repo("issues", number), json={"state": "closed", "state_reason": reason})


_FOOTER = re.compile(r"(\n<sub>[^\n]*</sub>\n)?")
_AT_COMMIT = re.compile(r"/blob/[0-9a-fA-F]{7,64}/")


def _same_report(body: str | None, stable: str) -> bool:
    """Whether `body` is the report `stable`, whichever run's footer ends it and whichever commit
    its links name: a merge that moved no line the report names only moves the links (each
    key's line is in the text beside its link, so a key that moved makes another report)."""
    if body is None:
        return False
    body, stable = _AT_COMMIT.sub("/blob/-/", body), _AT_COMMIT.sub("/blob/-/", stable)
    return body.startswith(stable) and _FOOTER.fullmatch(body[len(stable):]) is not None


def _body(key: str, markdown: str, items: list[str] | None = None, since: dict[str, dict] | None = None, room_after: int = 0,
          project: str | None = None) -> str:
    """The issue body: the markers, then `markdown` with the "Since when" table before its first
    section (after the title and the summary); `room_after` bytes are left for what follows it."""
    head = marker(KIND, key, project=project) + "\n" + (_items_comment(items) + "\n" if items is not None else "") + (_since_comment(since) if since else "")
    if since:
        cut = markdown.find("\n### ") + 1 or len(markdown)
        markdown = markdown[:cut] + since_section(since) + markdown[cut:]
    room = COMMENT_LIMIT - len(head.encode()) - 300 - room_after
    if len(markdown.encode()) > room:
        markdown = markdown.encode()[:room].decode(errors="ignore") + "\n\n> **Truncated**: the job summary of the run has the full report.\n"
    return head + markdown
