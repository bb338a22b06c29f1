"""Markdown for GitHub comments and issues: the hidden markers that let gpuctl find its own
comment again, and the split of a long plan into comments that each fit GitHub's limit.

GitHub refuses a comment or issue body over 65,536 characters. Parts are measured in UTF-8
bytes, which is never fewer than characters, and packed to `BUDGET` so that the marker and the
"part i of n" note always fit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from gpuctl.words import counted

COMMENT_LIMIT = 65_536
BUDGET = 60_000
# A pull request's gpu.jsonc may be 5 MiB, and its whole plan a hundred comments: each one a
# notification and a write on the repository's rate limit (GitHub allows some 80 a minute). A
# plan is shown in at most MAX_PARTS comments; `plan_markdown` renders at most MARKDOWN_LIMIT
# characters, cut with a note naming what it leaves out (each deletion by name), which splits
# into at most MAX_PARTS parts (a cut between blocks leaves a part no less than half full, one
# part with another); `split` still stops at MAX_PARTS for text that is not a plan.
MAX_PARTS = 10
MARKDOWN_LIMIT = (MAX_PARTS - 1) * BUDGET // 2
_MARKER = re.compile(r'\A<!-- gpuctl:(?P<kind>[a-z]+) key="(?P<key>[^"]*)"(?: project="(?P<project>[^"]*)")?'
                     r'(?: part=(?P<part>\d+)/(?P<of>\d+))?(?P<wrote> wrote=true)? -->')


def marker(kind: str, key: str, part: int | None = None, of: int | None = None, wrote: bool = False, project: str | None = None) -> str:
    """A hidden HTML comment naming what a comment or issue is for: the config's key and its
    `project` (the project_id; a run for the config's new path finds what the project left
    under the old one: ADR 43). Key and project are percent-encoded, so neither can end the
    comment (`-->`) or the attribute. `wrote`: the comment says what an apply wrote to the
    account (comments.upsert keeps such a comment). A marker an earlier gpuctl wrote has no
    project, and still reads."""
    where = f" part={part}/{of}" if part is not None else ""
    owner = f' project="{quote(project, safe="/:@ ")}"' if project else ""
    return f'<!-- gpuctl:{kind} key="{quote(key, safe="/:@ ")}"{owner}{where}{" wrote=true" if wrote else ""} -->'


@dataclass(frozen=True)
class Marked:
    kind: str
    key: str
    part: int | None
    wrote: bool = False  # an apply comment saying what was written to the account
    project: str | None = None  # the config's project_id; None in a marker an earlier gpuctl wrote


def read_marker(body: str | None) -> Marked | None:
    """The marker a body starts with, or None for anybody else's text."""
    found = _MARKER.match(body or "")
    if not found:
        return None
    part = int(found["part"]) if found["part"] else None
    project = unquote(found["project"]) if found["project"] else None
    return Marked(found["kind"], unquote(found["key"]), part, bool(found["wrote"]), project)


NOTE_ROOM = 200  # the "Part i of n" note with_markers adds, and to spare


def budget(kind: str, key: str, project: str | None = None) -> int:
    """How many UTF-8 bytes of Markdown a part of `key`'s comments may hold: BUDGET, less
    what a marker longer than BUDGET's slack takes (a deep path of non-ASCII directories is
    some 12,000 characters percent-encoded), so marker, note and part fit COMMENT_LIMIT."""
    return min(BUDGET, COMMENT_LIMIT - len(marker(kind, key, MAX_PARTS, MAX_PARTS, True, project).encode()) - NOTE_ROOM)


def with_markers(kind: str, key: str, parts: list[str], wrote: bool = False, project: str | None = None) -> list[str]:
    """Each part behind its marker, with a note saying which part it is when there are several."""
    n = len(parts)
    if n == 1:
        return [f"{marker(kind, key, 1, 1, wrote, project)}\n{parts[0]}"]
    return [f"{marker(kind, key, i, n, wrote, project)}\n_Part {i} of {n}: this plan is longer than one GitHub comment; "
            f"{'it continues in the next comment' if i < n else 'this is the last part'}._\n\n{part}"
            for i, part in enumerate(parts, 1)]


@dataclass
class _Open:
    """What is open at a line: the <details> blocks, outermost first (an apply comment folds an
    earlier result, its own sections folded, under one: comments._earlier), and a code fence
    (their opening lines)."""

    details: tuple[str, ...] = ()
    fence: str | None = None

    def after(self, line: str) -> _Open:
        stripped = line.strip()
        if stripped.startswith("```"):
            return _Open(self.details, None if self.fence else line)
        if self.fence is None and stripped.startswith("<details"):
            return _Open((*self.details, line), None)
        if self.fence is None and stripped == "</details>":
            return _Open(self.details[:-1], None)
        return self

    def closers(self) -> str:
        return ("```\n" if self.fence else "") + "</details>\n" * len(self.details)

    def openers(self) -> str:
        return "".join(d + "\n" for d in self.details) + (self.fence or "")

    @property
    def clean(self) -> bool:
        return not self.details and self.fence is None


def split(markdown: str, budget: int = BUDGET, most: int = MAX_PARTS) -> list[str]:
    """Markdown cut into at most `most` parts of at most `budget` UTF-8 bytes (and a note). A
    cut falls between blocks where it can; inside a block (one resource larger than a part) the
    open code fence and <details> are closed before the cut and opened again after it, so each
    part renders. Parts past `most` are left out, and the last part says so."""
    parts = _split(markdown, budget)
    if len(parts) > most:
        parts = parts[:most - 1] + [parts[most - 1] + f"\n> **Truncated:** {counted(len(parts) - most, 'more part')} of this text "
                                                    f"not shown, to post at most {most} comments; the job summary and the plan file have more.\n"]
    return parts


def _split(markdown: str, budget: int) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    size = 0
    clean_at = 0  # how many lines of `current` end at a point where nothing is open
    state = _Open()
    for line in _short_lines(markdown, budget // 4):
        need = len(line.encode()) + len(state.closers().encode())
        if current and size + need > budget and 0 < clean_at < len(current):
            parts.append("".join(current[:clean_at]))
            current = current[clean_at:]
            size, clean_at = sum(len(x.encode()) for x in current), 0
        if current and size + need > budget:
            parts.append("".join(current) + state.closers())
            current, clean_at = [state.openers()], 0
            size = len(current[0].encode())
        current.append(line)
        size += len(line.encode())
        state = state.after(line)
        if state.clean:
            clean_at = len(current)
    if current:
        parts.append("".join(current))
    return parts or [""]


def _short_lines(markdown: str, longest: int) -> list[str]:
    """The lines of `markdown`, a line longer than `longest` bytes cut into pieces (a value
    that long is cut anyway; this keeps every piece under a part's budget)."""
    lines = []
    for line in markdown.splitlines(keepends=True):
        while len(line.encode()) > longest:
            head = line.encode()[:longest].decode(errors="ignore")
            lines.append(head + "\n")
            line = line[len(head):]
        lines.append(line)
    return lines
