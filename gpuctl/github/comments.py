"""The sticky pull-request comment: one per config (and so per project), found again by its
hidden marker and edited in place on every push, never posted anew. A plan longer than one
comment takes several, each marked with its part number; when the plan shrinks, the parts it
no longer needs are deleted, and so is any second copy of a part (a retried create)."""

from __future__ import annotations

from dataclasses import dataclass, field

from gpuctl.github.client import GitHub
from gpuctl.github.parts import read_marker, split, with_markers

KIND = "plan"


@dataclass
class Posted:
    """What one upsert did, by comment id."""

    ids: list[int] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0


def ours(gh: GitHub, number: int, key: str, kind: str = KIND) -> dict[int, list[dict]]:
    """This key's comments of this kind on the pull request, by part number, oldest first."""
    found: dict[int, list[dict]] = {}
    for comment in gh.paginate(gh.repo(f"/issues/{number}/comments")):
        mark = read_marker(comment.get("body"))
        if mark and mark.kind == kind and mark.key == key:
            found.setdefault(mark.part or 1, []).append(comment)
    return found


def upsert(gh: GitHub, number: int, key: str, markdown: str, kind: str = KIND) -> Posted:
    """Make the pull request show `markdown` for `key`: edit the parts that are there, add the
    ones missing, delete the ones left over. `kind` keeps the plan and the apply result of one
    config apart ("plan", "apply")."""
    bodies = with_markers(kind, key, split(markdown))
    existing = ours(gh, number, key, kind)
    posted = Posted()
    for part, body in enumerate(bodies, 1):
        copies = existing.pop(part, [])
        if not copies:
            created = gh.request("POST", gh.repo(f"/issues/{number}/comments"), json={"body": body})
            posted.ids.append(created["id"])
            posted.created += 1
            continue
        first, *extra = copies
        if first.get("body") != body:
            gh.request("PATCH", gh.repo(f"/issues/comments/{first['id']}"), json={"body": body})
            posted.updated += 1
        else:
            posted.unchanged += 1
        posted.ids.append(first["id"])
        existing.setdefault(0, []).extend(extra)
    for comment in (c for copies in existing.values() for c in copies):
        gh.request("DELETE", gh.repo(f"/issues/comments/{comment['id']}"))
        posted.deleted += 1
    return posted
