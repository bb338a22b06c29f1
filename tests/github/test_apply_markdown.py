"""The apply comment's list of what was done, failed and not attempted shows names and errors
as written: an endpoint name or an error message (RunPod's, quoting gpu.jsonc) cannot end a
code span, fold the comment or mention anyone."""

from __future__ import annotations

from types import SimpleNamespace

from gpuctl.errors import GpuctlError
from gpuctl.github import apply_flow, runner
from tests.test_plan_markdown_safety import _html, _linked_mentions

NAME = "x`@acme/security-team</details>"
ERROR = "RunPod refused endpoint @octocat: <details><summary>free credits</summary>"


def test_a_stopped_apply_lists_hostile_names_and_errors_as_text():
    job = SimpleNamespace(app=SimpleNamespace(note=lambda message: None), footer=lambda *args: "")
    result = {"outcome": {"done": [{"action": "create", "address": f"endpoint.{NAME}", "id": "abc"}],
                          "failed": [{"action": "update", "address": f"endpoint.{NAME}2", "error": ERROR}],
                          "not_attempted": [{"action": "delete", "address": f"endpoint.{NAME}3"}]},
              "endpoints": []}
    applied = apply_flow._stopped(job, "gpu.jsonc", runner.Stopped(GpuctlError("stopped"), result))
    listed = applied.markdown.split("```text")[0]  # the error block is code: safe as it is
    html = _html(listed)
    assert "<details" not in html and "<summary" not in html
    assert _linked_mentions(listed) == []
    assert all(f"endpoint.{NAME}{n}" in html.replace("&#96;", "`").replace("&lt;", "<").replace("&gt;", ">").replace("@&#8203;", "@")
               for n in ("", "2", "3"))
