"""How any text is placed in Markdown (pull-request comments, job summaries, issues) so that it
shows as written and never as Markdown or HTML: code spans (`code`, `code_html`), escaped text
(`text`, `prose`, `html_text`), fenced blocks (`fenced`), and `unlinked`. The small rules every
Markdown writer of gpuctl uses (`render/markdown.py`, `render/drift_view.py`, `gpuctl/github`);
no document is laid out here: the plan's comment is `render/markdown.py`.

Names, ids, reasons and messages can come from gpu.jsonc in a pull request or from the account: an endpoint named
``x<details>`` or ``a|b`` must not fold the rest of a comment, add a table column, or open a
code span that swallows what follows, nor, as `@acme/security-team`, make GitHub notify a user or
team, nor, as `#123`, `GH-123` or `acme/app#123`, link an issue or pull request and add a
cross-reference to its timeline, nor, as `https://evil.example/login` or `www.evil.example`, make
the comment gpuctl writes carry a link (GitHub links a bare URL outside code): outside code, every
`@` before a name, `#` before a number, `GH-` before a number and `://` or `www.` before a domain
is followed by a zero-width space (as Renovate writes mentions it quotes), which shows nothing
and links nothing. `unlinked` is the one place that does it. Inside code GitHub links none of
them, so names in code spans, `<code>` and the diff blocks are shown exactly. A bare commit SHA
is left alone: GitHub links it only to a commit of the repository itself (`owner/repo@sha` and
`user@sha` are broken by the `@` rule), which notifies nobody, and an id must copy as written."""

from __future__ import annotations

import html
import re

_PUNCT = re.compile(r"([\\`*|~]|(?<=\])\()")
_ENTITY = {c: f"&#{ord(c)};" for c in "`|[]*_~\\"}  # `]` too: a <code> may be a link's text
_ZWSP = "&#8203;"  # a zero-width space: shows nothing, and no name or number follows what it ends
_MENTION = re.compile(r"(?<!\w)@(?=[A-Za-z0-9])")  # where GitHub reads a user or team name (not in ops@acme.io)
# Where GitHub reads an issue or pull request: `#123`, `acme/app#123` and `acme#123` (every `#`
# before a digit, but the `&#` of an entity), and `GH-123` in any case.
_REFERENCE = re.compile(r"(?<!&)#(?=[0-9])|(?<![A-Za-z0-9])GH-(?=[0-9])", re.IGNORECASE)
# Where GitHub reads a bare URL (its autolinks): a scheme's `://`, or `www.`, before a domain.
_URL = re.compile(r"(?<=[A-Za-z])://(?=[A-Za-z0-9])|(?<![A-Za-z0-9.])www\.(?=[A-Za-z0-9])", re.IGNORECASE)


def unlinked(markup: str) -> str:
    """Markdown or HTML with no `@name` that GitHub turns into a mention (and a notification),
    no `#123`, `GH-123` or `owner/repo#123` that it turns into a link to an issue (and a
    cross-reference on that issue's timeline), and no bare URL it turns into a link. Entities
    already in `markup` are left whole."""
    return _MENTION.sub("@" + _ZWSP, _REFERENCE.sub(lambda m: m.group(0) + _ZWSP, _URL.sub(lambda m: m.group(0) + _ZWSP, markup)))


def html_text(value: str) -> str:
    """Plain text inside raw HTML (a `<summary>`, where Markdown is not read): HTML escaped,
    and no mention or issue link."""
    return unlinked(html.escape(str(value), quote=False))


def text(value: str) -> str:
    """Plain text outside code: HTML escaped, and what makes code spans, table cells, links
    (the `(` of `](`), emphasis or strike-through backslash-escaped. `_` is left alone: GitHub never
    reads it inside a word (MODEL_NAME), and around one it can only slant the text."""
    return unlinked(_PUNCT.sub(r"\\\1", html.escape(str(value), quote=False)))


def code(value: str) -> str:
    """Inline code for any value: a plain code span when the value cannot end it or a table
    cell, else <code> with the value HTML-escaped and Markdown's punctuation as entities
    (Markdown still reads the text between raw HTML tags: links, emphasis, table pipes)."""
    value = str(value)
    if value and "`" not in value and "|" not in value and not value.startswith(" ") and not value.endswith(" "):
        return f"`{value}`"
    return code_html(value)


def code_html(value: str) -> str:
    """<code> that shows any value as written."""
    return "<code>" + "".join(_ENTITY.get(c, c) for c in html.escape(str(value))) + "</code>"


FENCE_LOOKALIKE = "\u02cb" * 3  # ˋˋˋ, three modifier letter grave accents: they look like ``` and close no fence


def fenced(value: str, info: str = "") -> str:
    """`value` as a fenced code block (```` ```info ````), shown as written and ending in a
    newline: the one way gpuctl puts text from outside (an error, a plan's lines, a health
    gate's job output) in a code block. A run of three backticks in it is written as
    `ˋˋˋ` (U+02CB), so no line of it can close the fence and have the rest read as Markdown
    (a mention, a link, a forged heading); a `~~~` closes only a tilde fence, which gpuctl
    never writes, and the comment splitter (`github/parts.py`) looks for ``` fences alone."""
    return f"```{info}\n{str(value).replace('```', FENCE_LOOKALIKE)}\n```\n"


def prose(value: str) -> str:
    """Text whose commands are in backticks (gpuctl's advice, a lease holder's
    `pid 12 on host (`gpu serverless deploy -y`, ...)`): each backticked part as inline code,
    the rest as `text`. `text` alone would escape the backticks, so the commands would show as
    characters. Names and ids from the account may be in it; both renderings show any value as
    written, so a backtick in a name can only shift which part is shown as code, and a backtick
    left open leaves the whole as text."""
    parts = str(value).split("`")
    if len(parts) % 2 == 0:
        return text(value)
    return "".join(code(part) if i % 2 else text(part) for i, part in enumerate(parts))
