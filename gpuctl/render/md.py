"""Text from a plan or the account placed in Markdown (pull-request comments, job summaries,
issues) so that it shows as written and never as Markdown or HTML. Names, ids, reasons and
messages can come from gpu.jsonc in a pull request or from the account: an endpoint named
``x<details>`` or ``a|b`` must not fold the rest of a comment, add a table column, or open a
code span that swallows what follows, nor, as `@acme/security-team`, make GitHub notify a user or
team: outside code, every `@` is followed by a zero-width space (as Renovate writes mentions it
quotes), which shows nothing and links nobody."""

from __future__ import annotations

import html
import re

_PUNCT = re.compile(r"([\\`*|~]|(?<=\])\()")
_ENTITY = {c: f"&#{ord(c)};" for c in "`|[*_~\\"}
_MENTION = re.compile(r"(?<!\w)@(?=[A-Za-z0-9])")  # where GitHub reads a user or team name (not in ops@acme.io)
_UNLINKED = "@&#8203;"  # the `@` shown, then a zero-width space: no name follows it


def unmentioned(markup: str) -> str:
    """Markdown or HTML with no `@name` that GitHub turns into a mention (and a notification)."""
    return _MENTION.sub(_UNLINKED, markup)


def html_text(value: str) -> str:
    """Plain text inside raw HTML (a `<summary>`, where Markdown is not read): HTML escaped,
    and no mention."""
    return unmentioned(html.escape(str(value), quote=False))


def text(value: str) -> str:
    """Plain text outside code: HTML escaped, and what makes code spans, table cells, links
    (the `(` of `](`), emphasis or strike-through backslash-escaped. `_` is left alone: GitHub never
    reads it inside a word (MODEL_NAME), and around one it can only slant the text."""
    return unmentioned(_PUNCT.sub(r"\\\1", html.escape(str(value), quote=False)))


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
