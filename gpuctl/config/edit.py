"""Edit gpu.jsonc as text, at the spans the loader's scanner records, so that everything an edit
does not touch (comments, key order, indentation, quoting, trailing commas) stays byte for byte.

Each operation takes the text and returns new text; it re-scans first, so operations compose
without tracking offsets. A value replaced or removed that holds comments leaves them where
they were (only its tokens go), so no edit ever deletes a comment; `comments_kept` is the
final proof of that for a series of edits. Lines an operation adds end as the file's lines
do (`_file_line_endings`): a file written on Windows stays CRLF throughout.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from gpuctl.config.sourcemap import _TOKEN, Path, Span, scan
from gpuctl.errors import GpuctlError

_SPACE = re.compile(r"[ \t]*")


class EditError(GpuctlError):
    """This edit cannot be made without removing a comment or guessing at the layout."""


def comments(text: str) -> Counter:
    """Every comment in the text (strings that merely contain `//` are not comments)."""
    return Counter(m.group() for m in _TOKEN.finditer(text) if m.lastgroup == "comment")


def comments_kept(before: str, after: str) -> bool:
    return not (comments(before) - comments(after))


def render(value: Any, indent: str, step: str) -> str:
    """`value` as JSON text whose first line continues a line indented by `indent`: objects one
    member a line, one `step` deeper; lists of plain values, and an object of one plain value
    (`{"secret": "name"}`), on one line."""
    if isinstance(value, dict) and len(value) == 1 and not isinstance(next(iter(value.values())), (dict, list)):
        (key, item), = value.items()
        return "{" + f"{json.dumps(key, ensure_ascii=False)}: {json.dumps(item, ensure_ascii=False)}" + "}"
    if isinstance(value, dict) and value:
        inner = indent + step
        members = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {render(v, inner, step)}" for k, v in value.items()]
        return "{\n" + ",\n".join(members) + "\n" + indent + "}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        inner = indent + step
        return "[\n" + ",\n".join(inner + render(v, inner, step) for v in value) + "\n" + indent + "]"
    return json.dumps(value, ensure_ascii=False)


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _indent_at(text: str, offset: int) -> str:
    start = _line_start(text, offset)
    return _SPACE.match(text, start).group()


def indent_step(text: str) -> str:
    """The file's indentation unit: the smallest indentation of any line, else two spaces."""
    found = [m.group(1) for m in re.finditer(r"\n([ \t]+)\S", text)]
    if any(f.startswith("\t") for f in found):
        return "\t"
    return min(found, key=len) if found else "  "


def _splice(text: str, *cuts: tuple[int, int, str]) -> str:
    """Replace each (start, end) with its text; cuts must not overlap."""
    for start, end, new in sorted(cuts, key=lambda c: c[0], reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _has_comment(text: str, start: int, end: int) -> bool:
    """Whether text[start:end], which begins at a token boundary, holds a comment."""
    return any(m.lastgroup == "comment" for m in _TOKEN.finditer(text[start:end]))


def _next_token(text: str, offset: int) -> re.Match | None:
    for m in _TOKEN.finditer(text, offset):
        if m.lastgroup not in ("ws", "comment"):
            return m
    return None


def _children(spans: dict[Path, Span], path: Path) -> list[tuple[Path, Span]]:
    """The members (or items) directly inside the object or list at `path`, in text order."""
    kids = [(p, s) for p, s in spans.items() if len(p) == len(path) + 1 and p[: len(path)] == path]
    return sorted(kids, key=lambda kid: kid[1].start)


def _begin(span: Span) -> int:
    return span.key if span.key is not None else span.start


def _span(text: str, path: Path) -> Span:
    found = scan(text).spans.get(path)
    if found is None:
        raise EditError(f"{_dotted(path)} is not in the file")
    return found


def _dotted(path: Path) -> str:
    from gpuctl.config.sourcemap import dotted

    return dotted(path) or "the top-level value"


def _value(text: str, span: Span) -> Any:
    import pyjson5

    return pyjson5.decode(text[span.start:span.end])


# -- the operations ------------------------------------------------------------------------------


def _file_line_endings(operation: Callable[..., str]) -> Callable[..., str]:
    """`operation` on a text whose every line ends in CRLF, made on its LF form and turned back:
    the lines it adds end in CRLF too (they ended in LF, and a file written on Windows came back
    with mixed line endings). A text with any LF-only line is edited as it is."""
    @functools.wraps(operation)
    def edited(text: str, *args, **kwargs) -> str:
        if "\r\n" not in text or text.count("\n") != text.count("\r\n"):
            return operation(text, *args, **kwargs)
        return operation(text.replace("\r\n", "\n"), *args, **kwargs).replace("\n", "\r\n")
    return edited


@_file_line_endings
def set_value(text: str, path: Path, value: Any, after: tuple[str, ...] = ()) -> str:
    """Declare `value` at `path`: replace a value in place (a list item by item, an object key
    by key), or insert the missing key, creating missing parent objects. A key inserted goes
    after the last of the sibling keys `after` names that the object has, else last."""
    spans = scan(text).spans
    span = spans.get(path)
    if span is None:
        return _insert_member(text, path, value, after)
    current = _value(text, span)
    if isinstance(value, list) and isinstance(current, list):
        return _edit_list(text, path, current, value)
    if isinstance(value, dict) and isinstance(current, dict) and value:
        for key, item in value.items():
            text = set_value(text, path + (key,), item)
        return text
    if current == value and type(current) is type(value):
        return text
    return _cut(text, span.start, span.end, render(value, _indent_at(text, _begin(span)), indent_step(text)))


@_file_line_endings
def remove(text: str, path: Path) -> str:
    """Delete the member or list item at `path` with one adjacent comma; a line left blank goes
    too. Comments inside what is deleted stay where they were."""
    spans = scan(text).spans
    span = spans.get(path)
    if span is None:
        return text
    begin = _begin(span)
    follower = _next_token(text, span.end)
    if follower is not None and follower.group() == ",":
        start, end = begin, follower.end()
    else:
        siblings = [s for p, s in _children(spans, path[:-1]) if p != path and s.end <= begin]
        start, end = (siblings[-1].end, span.end) if siblings else (begin, span.end)
    return _cut(text, start, end, "")


def _keep_comments(segment: str, replacement: str) -> str:
    """`segment` (which starts at a token boundary) with its first token replaced by
    `replacement` and every other token deleted, but its comments and the line breaks that end
    them kept in place."""
    out, placed = [], False
    for m in _TOKEN.finditer(segment):
        if m.lastgroup in ("ws", "comment"):
            out.append(m.group())
        elif not placed:
            out.append(replacement)
            placed = True
    return "".join(out) if placed else replacement + "".join(out)


def _cut(text: str, start: int, end: int, replacement: str) -> str:
    """Replace text[start:end] by `replacement`, keeping any comment in it; then drop the lines
    the cut left blank, and a run of spaces it left doubled (`"a",  "c"` becomes `"a", "c"`)."""
    segment = text[start:end]
    new = _keep_comments(segment, replacement) if _has_comment(text, start, end) else replacement
    text = text[:start] + new + text[end:]
    first = _line_start(text, start)
    last = text.find("\n", start + len(new))
    last = len(text) if last < 0 else last
    lines = text[first:last].split("\n")
    kept = [line for line in lines if line.strip()]
    region = "\n".join(kept)
    if not kept:
        return text[:first] + text[last + 1:]
    if len(kept) == 1 and start - first < len(region):
        at = start - first
        spaces = _SPACE.match(region, at).end()
        if at > 0 and region[at - 1] in " \t" and spaces > at:
            region = region[:at] + region[spaces:]
    return text[:first] + region + text[last:]


def _edit_list(text: str, path: Path, current: list, wanted: list) -> str:
    """Make the list at `path` hold `wanted` by deleting and appending items, so comments
    between items stay next to theirs. When the surviving items would change order, the list is
    written anew (its comments kept, before the first item)."""
    kept = [item for item in current if item in wanted]
    added = [item for item in wanted if item not in current]
    if kept + added != wanted:
        span = _span(text, path)
        return _cut(text, span.start, span.end, render(wanted, _indent_at(text, span.start), indent_step(text)))
    for index in reversed(range(len(current))):
        if current[index] not in wanted:
            text = remove(text, path + (index,))
    for item in added:
        text = _append(text, path, item)
    return text


def _insert_member(text: str, path: Path, value: Any, after: tuple[str, ...] = ()) -> str:
    parent, key = path[:-1], path[-1]
    box = scan(text).spans.get(parent)
    if box is None or text[box.start] != "{":  # missing, or a value such as `false` that becomes an object
        return set_value(text, parent, {key: value})
    member = f"{json.dumps(key, ensure_ascii=False)}: "
    return _add(text, parent, member, value, after)


def _append(text: str, path: Path, item: Any) -> str:
    return _add(text, path, "", item)


def _add(text: str, container: Path, prefix: str, value: Any, after: tuple[str, ...] = ()) -> str:
    """Add `prefix + value` to the object (or list) at `container`, after the member `after`
    names or else last, laid out like its siblings: one a line with their indentation, or inline."""
    spans = scan(text).spans
    box = spans[container]
    kids = _children(spans, container)
    anchors = [s for p, s in kids if p[-1] in after]
    if anchors:
        kids = [(p, s) for p, s in kids if s.start <= anchors[-1].start]
    step = indent_step(text)
    if not kids:
        inner = text[box.start + 1:box.end - 1]
        indent = _indent_at(text, _begin(box))
        body = prefix + render(value, indent + step, step)
        if not inner.strip() and text[box.start] == "[" and not isinstance(value, (dict, list)):
            return _splice(text, (box.start, box.end, f"[{body}]"))
        kept = inner.rstrip()  # nothing, or only comments (`[ /* none yet */ ]`): they stay before the new item
        return _splice(text, (box.start, box.end, text[box.start] + kept + "\n" + indent + step + body + "\n" + indent + text[box.end - 1]))
    first, last = kids[0][1], kids[-1][1]
    multiline = "\n" in text[box.start:_begin(first)]
    indent = _indent_at(text, _begin(first)) if multiline else _indent_at(text, _begin(box))
    body = prefix + render(value, indent if multiline else _indent_at(text, _begin(last)), step)
    follower = _next_token(text, last.end)
    trailing = follower is not None and follower.group() == ","  # a comma follows: another member, or a trailing comma
    if not multiline:
        return _splice(text, (follower.end(), follower.end(), f" {body},")) if trailing else _splice(text, (last.end, last.end, f", {body}"))
    anchor = follower.end() if trailing else last.end
    line_end = text.find("\n", anchor)
    rest_is_comment = line_end >= 0 and all(m.lastgroup in ("ws", "comment") for m in _TOKEN.finditer(text[anchor:line_end]))
    at = line_end if rest_is_comment else anchor
    new_line = "\n" + indent + body + ("," if trailing else "")
    return _splice(text, (at, at, new_line), *([] if trailing else [(last.end, last.end, ",")]))


@_file_line_endings
def add_block(text: str, block: dict) -> str:
    """Add a `serverless` block: appended to the list of blocks (an empty one too), or, when
    `serverless` is one object, that object becomes the first item of a list, its text kept as
    it is; a file without `serverless` (a GPU CLI user's pod config) gets the member, last in
    its top-level object, and so does one whose `serverless` is null, in its place."""
    spans = scan(text).spans
    step = indent_step(text)
    box = spans.get(("serverless",))
    if box is None or text[box.start] == "n":
        return set_value(text, ("serverless",), block)
    if text[box.start] == "{":
        indent = _indent_at(text, box.end - 1)
        return _splice(text, (box.start, box.start, "["), (box.end, box.end, ", " + render(block, indent, step) + "]"))
    return _append(text, ("serverless",), block)


BOM = "\ufeff"


class ChangedMeanwhile(GpuctlError):
    """The file an edit was made from is no longer what it read: another command or a person
    wrote it meanwhile, and writing the edit would undo their change."""


def save(path, text: str, *, read: str | None, by: str, shown: str | None = None) -> None:
    """Replace the file at `path` with `text` in one step (a crash leaves the old file or the
    new one, never half of it), keeping its permissions and its BOM; create it when it is
    missing. A `path` that is a symbolic link (gpu.jsonc linked into a shared directory) has
    the file it names replaced, and stays a link: replacing the link itself left the shared
    file as it was and the link gone.

    `read`: the text the edit was made from (None: the file did not exist). When the file no
    longer holds it, nothing is written (ChangedMeanwhile, naming `by`, the command): a block
    `import --write` added, or an editor's save, while `pull --write` asked the account was
    lost, and both said they wrote (review 4, R4-3)."""
    import os
    from pathlib import Path

    from gpuctl.files import read_bytes, replace_text

    path = Path(os.path.realpath(path))
    had_bom = False
    try:
        raw = read_bytes(path)
        now: str | None = raw.decode("utf-8-sig")
        had_bom = raw.startswith(BOM.encode())
    except FileNotFoundError:
        now = None
    except (OSError, ValueError):
        now = ""  # unreadable now: not what was read
    if (now if now is None else now.removeprefix(BOM)) != (read if read is None else read.removeprefix(BOM)):
        name = shown or path.name
        raise ChangedMeanwhile(f"{name} changed while {by} ran (another command or an editor wrote it); nothing was written, so that change stands",
                               hint=f"run the same `{by}` command again: it starts from {name} as it is now")
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    if had_bom and not text.startswith(BOM):
        text = BOM + text
    replace_text(path, text, mode=mode)


def new_file(project_id: str, block: dict) -> str:
    """A gpu.jsonc holding one block, for a directory that has none."""
    return render({"project_id": project_id, "serverless": block}, "", "  ") + "\n"
