"""The drift issue: one open issue per config while the account differs from it. A run that
finds drift opens it (labelled, the label created if the repository lacks it) or edits the
one already open; a run that finds none closes it with a comment saying so. The issue is
found by its hidden marker and its author (gpuctl's token), not by its label, which people may
take off."""

from __future__ import annotations

from gpuctl.github.authors import Author
from gpuctl.github.client import GitHub, GitHubError
from gpuctl.github.parts import COMMENT_LIMIT, marker, read_marker

KIND = "drift"
LABEL_COLOR = "d93f0b"


def ensure_label(gh: GitHub, label: str) -> None:
    """Create `label` unless the repository has it (a 422 means another run just made it)."""
    try:
        gh.request("GET", gh.repo(f"/labels/{_segment(label)}"))
        return
    except GitHubError as exc:
        if exc.status != 404:
            raise
    try:
        gh.request("POST", gh.repo("/labels"), json={"name": label, "color": LABEL_COLOR,
                                                    "description": "gpuctl: the account no longer matches gpu.jsonc"})
    except GitHubError as exc:
        if exc.status != 422:
            raise


def find_open(gh: GitHub, key: str, label: str, impostors: list[dict] | None = None) -> dict | None:
    """The open drift issue for `key`: one gpuctl's token opened (`authors.Author`) whose body starts
    with the key's marker. The label is a convenience for people, not what makes the issue
    gpuctl's: the labelled issues are looked at first, then, when a person took the label off
    (or renamed it), every open issue. Pull requests, which the issues listing includes, are
    passed over; issues someone else wrote with the marker go to `impostors` and are never
    edited or closed."""
    author = Author(gh)
    seen: set[int] = set()
    for query in ({"state": "open", "labels": label}, {"state": "open"}):
        for issue in gh.paginate(gh.repo("/issues"), query):
            if issue["number"] in seen:
                continue
            seen.add(issue["number"])
            mark = read_marker(issue.get("body"))
            if "pull_request" in issue or not (mark and mark.kind == KIND and mark.key == key):
                continue
            if author.wrote(issue):
                return issue
            if impostors is not None:
                impostors.append(issue)
    return None


def report(gh: GitHub, key: str, label: str, title: str, markdown: str, impostors: list[dict] | None = None) -> tuple[int, str]:
    """(issue number, "opened" | "updated" | "unchanged") for drift described by `markdown`.
    An open issue is updated with its labels as people left them. An issue a person closed
    while the drift persists is not reopened: the run opens a new one."""
    body = _body(key, markdown)
    issue = find_open(gh, key, label, impostors)
    if issue is None:
        ensure_label(gh, label)
        created = gh.request("POST", gh.repo("/issues"), json={"title": title, "body": body, "labels": [label]})
        Author(gh).check_created(created, "drift issue")
        return created["number"], "opened"
    if issue.get("body") == body and issue.get("title") == title:
        return issue["number"], "unchanged"
    gh.request("PATCH", gh.repo(f"/issues/{issue['number']}"), json={"title": title, "body": body})
    return issue["number"], "updated"


def resolve(gh: GitHub, key: str, label: str, note: str, impostors: list[dict] | None = None) -> int | None:
    """Close the open drift issue for `key` with `note` as its last comment; the issue number,
    or None when none was open."""
    issue = find_open(gh, key, label, impostors)
    if issue is None:
        return None
    number = issue["number"]
    gh.request("POST", gh.repo(f"/issues/{number}/comments"), json={"body": note})
    gh.request("PATCH", gh.repo(f"/issues/{number}"), json={"state": "closed", "state_reason": "completed"})
    return number


def _body(key: str, markdown: str) -> str:
    head = marker(KIND, key) + "\n"
    room = COMMENT_LIMIT - len(head.encode()) - 300
    if len(markdown.encode()) > room:
        markdown = markdown.encode()[:room].decode(errors="ignore") + "\n\n> **Truncated**: the job summary of the run has the full report.\n"
    return head + markdown


def _segment(label: str) -> str:
    from urllib.parse import quote

    return quote(label, safe="")
