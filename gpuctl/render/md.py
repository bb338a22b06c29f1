"""Text from a plan or the account placed in Markdown (pull-request comments, job summaries,
issues) so that it shows as written and never as Markdown or HTML. Names, ids, reasons and
messages can come from gpu.jsonc in a pull request or from the account: an endpoint named
``x<details>`` or ``a|b`` must not fold the rest of a comment, add a table column, or open a
code span that swallows what follows."""

from __future__ import annotations

import html
import re

_PUNCT = re.compile(r"([\\`*|~]|(?<=\])\()")
_ENTITY = {c: f"&#{ord(c)};" for c in "`|[*_~\\"}


def text(value: str) -> str:
    """Plain text outside code: HTML escaped, and what makes code spans, table cells, links
    (the `(` of `](`), emphasis or strike-through backslash-escaped. `_` is left alone: GitHub never
    reads it inside a word (MODEL_NAME), and around one it can only slant the text."""
    return _PUNCT.sub(r"\\\1", html.escape(str(value), quote=False))


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
