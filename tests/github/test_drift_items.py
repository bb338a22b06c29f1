"""What drifts, kept in the drift issue's body so the next run can say what is new and gone."""

from __future__ import annotations

from gpuctl.github import issues
from gpuctl.github.parts import read_marker


def test_what_drifts_survives_the_body_whatever_the_names_hold():
    items = ["endpoint.x --> <b>@team</b>: workers.min", "endpoint.y: orphan"]
    body = issues._body("gpu.jsonc", "report", items)
    assert read_marker(body).kind == "drift"
    hidden = body.splitlines()[1]
    assert hidden.startswith("<!-- gpuctl:drift-items ") and hidden.count("-->") == 1 and "<b>" not in hidden
    assert issues._kept_items(body) == sorted(items)


def test_a_body_without_the_list_says_nothing_is_known_and_a_long_list_keeps_its_digest():
    assert issues._kept_items("<!-- gpuctl:drift key=\"gpu.jsonc\" -->\nreport") is None
    many = [f"endpoint.e{i}: env.VARIABLE_{i}" for i in range(2000)]
    kept = issues._kept_items(issues._body("gpu.jsonc", "report", many))
    assert isinstance(kept, str) and kept.startswith("sha256:")
    assert issues._kept_items(issues._body("gpu.jsonc", "report", many[:-1])) != kept


def test_the_note_names_what_is_new_and_gone_as_code():
    note = issues.change_note("gpu.jsonc", ["endpoint.a: workers.min"], ["endpoint.a: workers.max", "endpoint.@team: orphan"], "[run 7](u)")
    assert read_marker(note).kind == "driftchange" and "[run 7](u)" in note
    new, gone = note.split("**Gone:**")
    assert "<code>endpoint.a: workers.max</code>" in new and "<code>endpoint.a: workers.min</code>" in gone
    assert "<code>endpoint.@team: orphan</code>" in new  # code: GitHub mentions no one in it


def test_the_note_s_marker_names_the_project_and_an_older_one_without_it_still_reads():
    note = issues.change_note("gpu.jsonc", ["endpoint.a: workers.min"], ["endpoint.a: workers.max"], project="api")
    assert (read_marker(note).kind, read_marker(note).key, read_marker(note).project) == ("driftchange", "gpu.jsonc", "api")
    old = read_marker('<!-- gpuctl:driftchange key="gpu.jsonc" -->\n**The drift of <code>gpu.jsonc</code> changed**')
    assert (old.kind, old.key, old.project) == ("driftchange", "gpu.jsonc", None)


def test_when_each_thing_drifts_is_kept_and_only_gpuctl_s_own_words_are_taken_back():
    since = issues.first_seen(["endpoint.a: workers.min"], {}, "2026-12-06 06:17 UTC", "[run 7](https://github.com/o/r/actions/runs/7)")
    body = issues._body("gpu.jsonc", "## title\n\nsummary\n\n### endpoint.a\n", ["endpoint.a: workers.min"], since)
    assert issues._kept_since(body) == since
    assert body.index("### Since when") < body.index("### endpoint.a") and "| <code>endpoint.a: workers.min</code> | 2026-12-06 06:17 UTC, [run 7](" in body
    later = issues.first_seen(["endpoint.a: workers.min", "endpoint.a: workers.max"], since, "2026-12-07 06:17 UTC", "")
    assert later["endpoint.a: workers.min"] == since["endpoint.a: workers.min"] and later["endpoint.a: workers.max"]["at"].startswith("2026-12-07")
    edited = body.replace("%5Brun%207%5D", "%5Bclick%20me%5D")  # someone edited the hidden marker: the value is dropped, not shown
    assert issues._kept_since(edited) == {}
