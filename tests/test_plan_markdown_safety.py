"""The Markdown plan (pull-request comment, job summary) shows names and messages as written:
an endpoint name from a pull request's gpu.jsonc cannot fold the rest of the comment, add a
table column, or open a code span or link (names may hold any printable character)."""

from __future__ import annotations

import json
import re

from markdown_it import MarkdownIt

from gpuctl.render.md import code, text
from tests.conftest import ROOT

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


def test_a_thousand_endpoints_sharing_a_warning_and_breaking_a_policy_stay_under_the_comment_limit(cli, tmp_path):
    """`deploy --format markdown` is what a workflow without the action posts: it must fit one
    GitHub comment (65,536 characters) and say what it left out, even when one warning concerns
    every endpoint and every endpoint breaks a policy rule."""
    names = [f"transcription-service-for-customer-region-{i:04d}-production" for i in range(1000)]
    blocks = [{"name": n, "template": "vllm", "gpu_type": "NVIDIA L4", "gpu_types": ["NVIDIA A40"]} for n in names]
    (tmp_path / "gpu.jsonc").write_text(json.dumps({"project_id": "big", "serverless": blocks, "policy": {"max_max_workers": 1}}))
    (tmp_path / "observed.json").write_text('{"provider": "runpod"}')
    result = cli(PLAN, tmp_path)
    assert result.code == 4, result.err
    assert len(result.out) <= 65_536
    assert "and 990 more: no model is set" in result.out  # the warning names ten endpoints and counts the rest
    assert "… and 950 more in the JSON plan" in result.out  # violations past the first 50
    assert "> **Truncated:**" in result.out and "more resources not shown" in result.out
    from gpuctl.render.markdown import render_markdown

    doc = json.loads(cli([*PLAN[:-2], "--format", "json"], tmp_path).out)
    small = render_markdown(doc, limit=6_000)  # the summary alone is over: cut, and said
    assert len(small) <= 6_000 and "the summary above is cut" in small and small.count("```") % 2 == 0


MENTIONS = ("@octocat", "@acme/security-team")


def _outside_code(markdown: str, pattern: str, flags: int = 0) -> list[str]:
    """The matches of `pattern` in the text of the rendered comment outside code, preformatted
    text and links: where GitHub makes mentions and issue links."""
    from html.parser import HTMLParser

    found: list[str] = []

    class Text(HTMLParser):
        inside = 0

        def handle_starttag(self, tag, attrs):
            self.inside += tag in ("code", "pre", "a")

        def handle_endtag(self, tag):
            self.inside -= tag in ("code", "pre", "a")

        def handle_data(self, data):
            if not self.inside:
                found.extend(re.findall(pattern, data, flags))

    Text(convert_charrefs=True).feed(_html(markdown))
    return found


def _linked_mentions(markdown: str) -> list[str]:
    """What GitHub would turn into a mention (a notification to that user or team): an `@name`
    not right after a word character (GitHub's mention filter)."""
    return _outside_code(markdown, r"(?<![\w`])@[A-Za-z0-9][\w/-]*")


def test_an_at_name_in_a_pull_request_s_config_mentions_nobody(cli, tmp_path):
    """GitHub notifies every user or team an `@name` in a comment names: a pull request whose
    endpoint is named `@acme/security-team` must not make gpuctl's comment page that team (or,
    from a fork, anyone the fork's author chooses). Headings, warnings, notes and policy
    violations are outside code; each `@` there is shown but links nobody."""
    blocks = [{"name": name, "template": "vllm", "gpu_type": "NVIDIA L4", "gpu_types": ["NVIDIA A40"], "scaling": {"max_workers": 3}}
              for name in ("api", *MENTIONS)]
    (tmp_path / "gpu.jsonc").write_text(json.dumps({"project_id": "p", "serverless": blocks, "policy": {"max_max_workers": 1}}))
    (tmp_path / "observed.json").write_text('{"provider": "runpod"}')
    result = cli(PLAN, tmp_path)
    assert result.code == 4, result.err
    assert all(f"endpoint.{m}" in result.out.replace("\u200b", "").replace("&#8203;", "") for m in MENTIONS)  # still shown
    assert _linked_mentions(result.out) == []


REFERENCES = ("#123", "gh-7", "acme/app#9")


def _linked_references(markdown: str) -> list[str]:
    """What GitHub would turn into a link to an issue or pull request (and a cross-reference on
    its timeline): `#N`, `owner/repo#N` or `GH-N`."""
    return _outside_code(markdown, r"#[0-9]+|(?<![A-Za-z0-9])GH-[0-9]+", re.IGNORECASE)


def test_an_issue_number_in_a_name_links_no_issue(cli, tmp_path):
    """GitHub links `#123`, `GH-7` and `acme/app#9` outside code to that issue or pull request
    and adds a cross-reference to its timeline. A name from a pull request's gpu.jsonc, or
    from the account (an orphan), must do neither: shown as written, it links nothing."""
    blocks = [{"name": f"api {ref}", "template": "vllm", "gpu_type": "NVIDIA L4", "gpu_types": ["NVIDIA A40"], "scaling": {"max_workers": 3}}
              for ref in REFERENCES]
    observed = json.loads((ROOT / "fixtures" / "plans" / "prune-delete" / "observed.json").read_text())
    old, observed["networkVolumes"] = observed["endpoints"][0], []
    observed["endpoints"] = [old | {"name": f"retired {ref}", "id": f"old{i:011d}", "env": {"GPUCTL_PROJECT": "p"}, "networkVolumes": []}
                             for i, ref in enumerate(REFERENCES)]
    (tmp_path / "gpu.jsonc").write_text(json.dumps({"project_id": "p", "serverless": blocks, "policy": {"max_max_workers": 1}}))
    (tmp_path / "observed.json").write_text(json.dumps(observed))
    plan = cli(PLAN, tmp_path)
    assert plan.code == 4, plan.err
    drift = cli(["serverless", "drift", "--observed", "observed.json", "--provider", "runpod", "--format", "markdown"], tmp_path)
    assert drift.out, drift.err
    for markdown in (plan.out, drift.out):
        shown = markdown.replace("&#8203;", "")
        assert all(f"retired {ref}" in shown for ref in REFERENCES)  # still shown, as written
        assert _linked_references(markdown) == [] and _linked_mentions(markdown) == []
    assert all(f"api {ref}" in plan.out.replace("&#8203;", "") for ref in REFERENCES)


def test_unlinked_leaves_entities_and_plain_hashes_alone():
    from gpuctl.render.md import unlinked

    assert unlinked("&#96; and &#8203;") == "&#96; and &#8203;"
    assert unlinked("a #b, GHz-1, ops@acme.io") == "a #b, GHz-1, ops@acme.io"
    assert unlinked("#1 acme/app#2 gh-3 @x") == "#&#8203;1 acme/app#&#8203;2 gh-&#8203;3 @&#8203;x"


def test_a_truncated_comment_says_what_it_left_out_and_names_every_deletion(cli, tmp_path):
    """Past GitHub's limit the comment stops listing resources. Deletions come last in a plan,
    so they are the first to be cut: the note counts what is left out by action and names the
    endpoints that would be deleted or replaced, so a reviewer never approves a deletion the
    comment does not show."""
    observed = json.loads((ROOT / "fixtures" / "plans" / "prune-delete" / "observed.json").read_text())
    old, observed["networkVolumes"] = observed["endpoints"][0], []
    observed["endpoints"] = [old | {"name": f"retired-{i}", "id": f"old{i:011d}", "env": {"GPUCTL_PROJECT": "big"}, "networkVolumes": []} for i in range(3)]
    blocks = [{"name": f"service-{i:03d}", "template": "vllm", "gpu_type": "NVIDIA L4"} for i in range(300)]
    (tmp_path / "gpu.jsonc").write_text(json.dumps({"project_id": "big", "serverless": blocks}))
    (tmp_path / "observed.json").write_text(json.dumps(observed))
    result = cli([*PLAN, "--prune"], tmp_path)
    assert result.code == 0, result.err
    assert len(result.out) <= 65_536
    shown = result.out.count("<details")
    note = result.out[result.out.index("> **Truncated:**"):]
    assert f"{300 + 3 - shown} more resources not shown" in note
    assert f"{300 - shown} to create, 3 to delete" in note
    assert all(f"`endpoint.retired-{i}`" in note for i in range(3))


def test_a_gpu_jsonc_key_links_to_its_line_and_its_name_stays_text():
    """The comment links each gpu.jsonc key to its line at the planned commit. A key holds an
    env name and the file name a pull request chose: shown as written, neither may end the
    link, make another, add a table column, mention anyone or link an issue."""
    from gpuctl.render.markdown import render_markdown

    doc = json.loads((ROOT / "fixtures" / "plans" / "drift-update" / "expected.json").read_text())
    (endpoint,) = [r for r in doc["resource_changes"] if r["action"] == "update"]
    hostile_key, hostile_file = "serverless.runpod.env.A`]b|(x)@acme/team#12", "@octocat/x](https://x.example)|#9.jsonc"
    endpoint["changes"][0]["config_keys"] = [{"key": hostile_key, "file": hostile_file, "line": 3}]
    endpoint["changes"][1]["config_keys"] = [{"key": "serverless.scaling.idle_timeout", "file": "gpu.jsonc", "line": None, "flag": "--idle-timeout"}]
    for change in endpoint["changes"][2:]:
        change["config_keys"] = []  # gpuctl sets it: no key, no link
    url = "https://github.com/acme/ml-api/blob/" + "a" * 40 + "/services/asr/gpu.jsonc"
    markdown = render_markdown(doc, source_url=url)
    html = _html(markdown)
    assert re.findall(r'href="([^"]*)"', html) == [f"{url}#L3"]  # the key's line, and no link from a name
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    assert rows and all(row.count("<td>") + row.count("<th>") in (2, 3) for row in rows)  # the keys' table has 2 columns, the cost 3
    link = re.search(r'<a href="[^"]*">(.*?)</a>', html, re.S).group(1)
    assert link == "<code>" + hostile_key.replace("&", "&amp;") + "</code>", link  # the whole key, as written, is the link's text
    assert _linked_mentions(markdown) == [] and _linked_references(markdown) == []
    assert "set by <code>--idle-timeout</code> for this run" in html  # a flag's key links to no line
    assert render_markdown(doc).count("https://github.com") == 0  # no URL known: keys and lines as text


def test_a_key_links_only_to_a_page_of_the_repository_at_a_commit():
    """The link is built from GitHub's variables and the config's path from the repository
    root; a path GitHub would read otherwise is escaped, and without a repository, a commit or
    a path inside the repository there is no link (the key and line are shown as text)."""
    from gpuctl.cli.context import AppContext
    from gpuctl.github.env import Actions
    from gpuctl.github.job import Job

    sha = "AB" * 20
    job = Job(AppContext(environ={}), Actions(repository="acme/ml-api"))
    assert job.source_url("services/asr/gpu.jsonc", sha) == f"https://github.com/acme/ml-api/blob/{sha.lower()}/services/asr/gpu.jsonc"
    assert job.source_url("a b/#1 (x)@y.jsonc", sha) == f"https://github.com/acme/ml-api/blob/{sha.lower()}/a%20b/%231%20%28x%29%40y.jsonc"
    for key, commit in (("/abs/gpu.jsonc", sha), ("../gpu.jsonc", sha), ("gpu.jsonc", None), ("gpu.jsonc", "main) [x](y")):
        assert job.source_url(key, commit) is None, (key, commit)
    assert Job(AppContext(environ={}), Actions()).source_url("gpu.jsonc", sha) is None
    assert Job(AppContext(environ={}), Actions(repository="acme/ml-api", server_url="https://x.example/a) b")).source_url("gpu.jsonc", sha) is None


UNSEEN = {"\u202e": "\\u202e", "\u2066": "\\u2066", "\u200b": "\\u200b", "\u00a0": "\\xa0", "\u3164": "\\u3164", "\ufeff": "\\ufeff"}


def _hidden(output: str) -> list[str]:
    import unicodedata

    return sorted({hex(ord(c)) for c in output if unicodedata.category(c) in ("Cf", "Zl", "Zp") or (unicodedata.category(c) == "Zs" and c != " ") or c in UNSEEN})


def test_invisible_and_reordering_characters_are_shown_not_obeyed(cli, tmp_path):
    """A name of a pull request's gpu.jsonc (or of the account) with a bidi override reverses
    the rest of its line as a reviewer sees it ("Trojan source"), and a zero-width or no-break
    space makes `api\u200b` look like the existing `api`: every view of the plan writes each
    such character as an escape, as it does a control character."""
    blocks = [{"name": "api\u200b", "template": "custom-image", "gpu_type": "NVIDIA L4", "runpod": {"image_name": "a/b:1"}},
              {"name": "x\u202edeteled eb lliw\u2066\u00a0\u3164", "template": "custom-image", "gpu_type": "NVIDIA L4",
               "runpod": {"image_name": "a/b:1\ufeff", "env": {"NOTE": "ok\u202e\u2066 then"}}}]
    (tmp_path / "gpu.jsonc").write_text(json.dumps({"project_id": "ml-api", "serverless": blocks}))
    (tmp_path / "observed.json").write_text('{"provider": "runpod"}')
    for fmt in ("markdown", "text"):
        result = cli(PLAN[:-1] + [fmt], tmp_path)
        assert result.code == 0, result.err
        assert _hidden(result.out) == [], (fmt, _hidden(result.out))
        assert "endpoint.api\\u200b" in result.out and "x\\u202edeteled eb lliw\\u2066\\xa0\\u3164" in result.out, result.out


def _fixture_plan() -> dict:
    return json.loads((ROOT / "fixtures" / "plans" / "recipe-whisper-create" / "expected.json").read_text())


def test_a_warning_shows_its_backticked_commands_as_code_and_the_rest_as_text():
    """Warnings went through `md.text`, so gpuctl's own `gpu serverless deploy -y` showed as
    escaped backticks; the lease note already used `md.prose`. A name in the message still
    shows as written: no HTML, no table cell, no mention."""
    from gpuctl.render.markdown import render_markdown

    doc = _fixture_plan()
    doc["warnings"] = [{"code": "x", "address": "endpoint.transcribe",
                        "message": 'endpoint "<b>@acme/team|x" is gone: run `gpu serverless deploy -y` or set `"renamed_from": "a|b"`'},
                       {"code": "y", "address": None, "message": "an odd ` backtick stays text <i>"}]
    doc["notes"] = [{"code": "z", "address": None, "message": "see `gpu serverless drift`"}]
    out = render_markdown(doc)
    html = _html(out)
    assert "<code>gpu serverless deploy -y</code>" in html and "<code>gpu serverless drift</code>" in html, out
    assert "<code>&quot;renamed_from&quot;: &quot;a|b&quot;</code>" in html, html
    assert "\\`" not in out.split("**Warnings**")[1].split("\n\n")[1].replace("an odd \\` backtick", ""), out
    assert "<b>" not in html and "<i>" not in html and "&lt;b&gt;" in html and "an odd ` backtick" in html
    assert not re.search(r"(?<![\w&])@acme", out.replace("@&#8203;", "")), out


URLS = ("https://evil.example/login", "http://x.example", "www.evil.example")


def _linked_urls(markdown: str) -> list[str]:
    """What GitHub turns into a link outside code without any Markdown link syntax (its
    autolinks): `http://`, `https://` and `www.` followed by a domain."""
    return _outside_code(markdown, r"(?:https?://|www\.)[A-Za-z0-9]", re.IGNORECASE)


def test_a_url_in_a_name_or_a_warning_is_shown_but_links_nowhere(cli, tmp_path):
    """An endpoint named `https://evil.example/login` made gpuctl's own comment carry a link
    there (GitHub autolinks a bare URL outside code): in the heading, a warning, a policy
    violation. Shown as written, it links nowhere; in code it was never a link."""
    from gpuctl.render.markdown import render_markdown

    blocks = [{"name": f"api {url}", "template": "vllm", "gpu_type": "NVIDIA L4", "gpu_types": ["NVIDIA A40"], "scaling": {"max_workers": 3}}
              for url in URLS]
    (tmp_path / "gpu.jsonc").write_text(json.dumps({"project_id": "p", "serverless": blocks, "policy": {"max_max_workers": 1}}))
    (tmp_path / "observed.json").write_text('{"provider": "runpod"}')
    plan = cli(PLAN, tmp_path)
    assert plan.code == 4, plan.err
    doc = _fixture_plan()
    doc["warnings"] = [{"code": "x", "address": None, "message": f'endpoint "{url}" @bob: see `gpu serverless drift`'} for url in URLS]
    for markdown in (plan.out, render_markdown(doc)):
        assert _linked_urls(markdown) == [] and _linked_mentions(markdown) == [], markdown
        assert all(url in markdown.replace("&#8203;", "") for url in URLS)  # still shown, as written


def test_a_cut_plan_says_how_to_see_it_whole_for_its_own_config(cli, tmp_path):
    """The cut comment's "Run `gpu serverless deploy --plan`" planned ./gpu.jsonc, another
    project's when the plan was of services/asr/gpu.jsonc (review 5, R5-6): it names the config."""
    from gpuctl.render.markdown import render_markdown

    blocks = [{"name": f"endpoint-{i:03d}", "template": "vllm", "gpu_type": "NVIDIA L4"} for i in range(60)]
    (tmp_path / "services" / "asr").mkdir(parents=True)
    (tmp_path / "services" / "asr" / "gpu.jsonc").write_text(json.dumps({"project_id": "asr", "serverless": blocks}))
    (tmp_path / "observed.json").write_text('{"provider": "runpod"}')
    planned = cli(["serverless", "deploy", "--plan", "--observed", "observed.json", "--config", "services/asr/gpu.jsonc", "--format", "json"], tmp_path)
    doc = json.loads(planned.out)
    for cut in (render_markdown(doc, limit=12_000), render_markdown(doc, limit=3_000)):
        assert "**Truncated:**" in cut
        assert "`gpu serverless deploy --plan --config services/asr/gpu.jsonc`" in cut, cut[-600:]
