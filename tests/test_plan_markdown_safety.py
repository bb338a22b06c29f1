"""The Markdown plan (pull-request comment, job summary) shows names and messages as written:
an endpoint name from a pull request's gpu.jsonc cannot fold the rest of the comment, add a
table column, or open a code span or link (names may hold any printable character)."""

from __future__ import annotations

import json
import re

from markdown_it import MarkdownIt

from gpuctl.render.md import code, text

HOSTILE = "evil`|$0.00/h|<details><summary>No changes</summary>[ok](https://x.example)"
PLAN = ["serverless", "deploy", "--plan", "--observed", "observed.json", "--provider", "runpod", "--format", "markdown"]


def _html(markdown: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)


def test_a_hostile_endpoint_name_renders_as_text(cli, tmp_path):
    blocks = [{"name": name, "template": "vllm", "gpu_type": "NVIDIA L4", "gpu_types": ["NVIDIA A40"]} for name in ("api", HOSTILE)]
    (tmp_path / "gpu.jsonc").write_text(json.dumps({"project_id": "p`<!--", "serverless": blocks}))
    (tmp_path / "observed.json").write_text('{"provider": "runpod"}')
    result = cli(PLAN, tmp_path)
    assert result.code == 0, result.err
    html = _html(result.out)
    assert "<summary>No changes" not in html and "<!--" not in html and 'href="https://x.example"' not in html
    assert len(re.findall(r"<details", html)) == 2  # one per resource: none from the name
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    assert rows and all(row.count("<td>") + row.count("<th>") == 3 for row in rows)  # no column from a `|`
    assert html.count(HOSTILE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")) >= 3  # shown, as written


def test_code_and_text_render_what_they_are_given():
    for value in ("plain", "a|b", "tick`s", "<b>&amp;</b>", "x\\|y"):
        rendered = _html(f"| h |\n|---|\n| {code(value)} {text(value)} |\n")
        cell = re.search(r"<td>(.*?)</td>", rendered, re.S).group(1)
        assert cell.count(value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")) == 2, (value, cell)
