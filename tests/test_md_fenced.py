"""Text from outside in a fenced code block (`gpuctl.render.md.fenced`): whatever it holds, a
CommonMark reader sees one code block holding it, and what follows the block is read as
Markdown again, never the text's own lines."""

from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from gpuctl.render.md import FENCE_LOOKALIKE, fenced

_PARSER = MarkdownIt("commonmark", {"html": True})
# Backticks and tildes in runs, the line breaks CommonMark knows, indentation, and Markdown and
# HTML that must stay text: a fence that closed early would make them a heading, a link, a tag.
_PIECES = st.sampled_from(["`", "``", "```", "````", "~", "~~~", "~~~~", "\n", "\r\n", "\r", " ", "   ", "\t", "# h", "@acme/team",
                           "[x](https://evil.example)", "</details>", "<!--", "a", ">"])


def _blocks(markdown: str) -> list:
    return [t for t in _PARSER.parse(markdown) if t.level == 0 and not t.type.endswith("_close") and t.type != "inline"]


@given(st.lists(_PIECES, max_size=30).map("".join), st.sampled_from(["", "text", "diff"]))
def test_no_text_breaks_out_of_its_fence(text, info):
    blocks = _blocks(fenced(text, info) + "\nAFTER\n")
    assert [b.type for b in blocks] == ["fence", "paragraph_open"]
    shown = (text + "\n").replace("\r\n", "\n").replace("\r", "\n")  # CommonMark's line endings (a last \r and the fence's \n are one)
    assert blocks[0].content == shown.replace("```", FENCE_LOOKALIKE) and blocks[0].info == info
    assert blocks[0].content.replace(FENCE_LOOKALIKE, "```") == shown  # as written, but for the look-alike


def test_the_fenced_form_is_the_one_the_views_wrote():
    assert fenced("a ``` b\n~~~", "text") == "```text\na ˋˋˋ b\n~~~\n```\n"


def test_a_health_gate_failure_in_the_apply_comment_stays_in_its_code_block(monkeypatch):
    """The apply comment put what failed the health gate (a smoke job's error, text a worker
    wrote) in a ``` block unescaped: a ``` line in it closed the block, and the lines after it
    were read as Markdown, here a mention and a link in a comment gpuctl posts."""
    from gpuctl.github import apply_flow, runner

    failed = "endpoint.api: smoke failed: worker said\n```\n@acme/security-team see [the fix](https://evil.example)"
    monkeypatch.setattr(runner, "unhealthy_lines", lambda health: failed)
    monkeypatch.setattr(runner, "plan_summary", lambda doc: "No changes.")
    job = SimpleNamespace(app=SimpleNamespace(note=lambda text: None), footer=lambda what, key: "\n_footer_\n")
    applied = apply_flow._checked(job, "gpu.jsonc", {}, {"health": {"healthy": False}, "endpoints": []})
    blocks = _blocks(applied.markdown)
    assert [b.type for b in blocks] == ["heading_open", "fence", "paragraph_open"], applied.markdown
    assert "@acme/security-team" in blocks[1].content and "evil.example" in blocks[1].content


def test_only_md_fenced_writes_a_code_fence():
    """The apply comment's health-gate block was a second, hand-written fence, and it forgot
    the escape: every fenced block is `md.fenced` (the comment splitter, `github/parts.py`,
    reopens a fence it cut)."""
    from tests.conftest import ROOT

    found = [f"{p.relative_to(ROOT)}:{n}" for p in sorted((ROOT / "gpuctl").rglob("*.py")) if p.relative_to(ROOT).as_posix() not in ("gpuctl/render/md.py", "gpuctl/github/parts.py")
             for n, line in enumerate(p.read_text().splitlines(), 1) if "```" in line and not line.lstrip().startswith(("#", '"""')) and "`````" not in line]
    assert found == []
