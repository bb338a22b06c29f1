"""Counts in what gpu prints are written in words that agree with the number (`1 field`,
`2 fields`), through gpuctl.words.counted; never `field(s)`."""

from __future__ import annotations

import io
import re
import tokenize

from hypothesis import given
from hypothesis import strategies as st

from gpuctl.words import agreeing, counted, first_of, in_seconds, plural
from tests.conftest import ROOT


def test_counted_agrees_with_its_number():
    assert counted(1, "network volume") == "1 network volume"
    assert counted(0, "field") == "0 fields"
    assert counted(2, "difference") == "2 differences"
    assert counted(3, "version", "versions") == "3 versions"
    assert counted(2, "entry", "entries") == "2 entries"


def test_regular_plurals_are_english():
    """`counted(n, "policy")` wrote "2 policys": the default plural was noun + "s" whatever the noun."""
    assert counted(2, "policy") == "2 policies" and counted(1, "policy") == "1 policy"
    assert counted(2, "address") == "2 addresses" and counted(3, "match") == "3 matches" and counted(2, "box") == "2 boxes"
    assert counted(2, "day") == "2 days" and counted(2, "key") == "2 keys" and counted(0, "entry") == "0 entries"
    assert plural("policy rule") == "policy rules"


@given(st.integers(min_value=-3, max_value=10**6))
def test_agreeing_is_one_form_for_one_and_the_other_for_every_other_count(n):
    assert agreeing(n, "differs", "differ") == ("differs" if n == 1 else "differ")
    assert counted(n, "endpoint") == f"{n} endpoint" + ("" if n == 1 else "s")


_ITEM = st.text(alphabet="abcxyz", min_size=1, max_size=5)


@given(st.lists(_ITEM, max_size=40), st.integers(min_value=0, max_value=45))
def test_first_of_shows_at_most_n_and_counts_the_rest(items, n):
    text = first_of(items, n)
    named, _, rest = text.partition(" and ")
    shown = named.split(", ") if named else []
    left = int(rest.removesuffix(" more")) if rest else 0
    assert shown == items[:n]
    assert len(shown) + left == len(items)
    assert " and 0 more" not in text and left >= 0
    assert (left > 0) == (len(items) > n)


@given(st.lists(_ITEM, max_size=30), st.integers(min_value=0, max_value=35))
def test_first_of_lines_says_the_rest_once_on_a_line_of_its_own(items, n):
    lines = [f"- {i}\n" for i in items]
    text = first_of(lines, n, sep="", more="- … and {} more in the JSON plan\n")
    assert text.count("\n") == min(n, len(items)) + (len(items) > n)
    assert text.count("more in the JSON plan") == (len(items) > n)


def test_first_of_examples():
    assert first_of(["a", "b", "c", "d"], 2) == "a, b and 2 more"
    assert first_of(["a", "b"], 2) == "a, b" and first_of([], 3) == ""
    assert first_of([1, 2, 3], 1, sep="; ", more="; and {} more") == "1; and 2 more"


def test_in_seconds_writes_the_value_a_flag_took():
    """`--timeout 0.5` was reported as "within 0 s": never rounded to a whole second."""
    assert in_seconds(0.5) == "0.5 s"
    assert in_seconds(2) == "2 s" and in_seconds(900.0) == "900 s" and in_seconds(1.25) == "1.25 s"
    assert in_seconds(3650 * 86400) == "315360000 s" and in_seconds(0.0001) == "0.0001 s"


def test_no_message_of_gpuctl_writes_a_noun_as_noun_s():
    """A `word(s)` in any string of gpuctl's source is a count left to the reader to agree."""
    found = [f"{p.relative_to(ROOT)}:{t.start[0]}: {t.string[:80]}" for p in sorted((ROOT / "gpuctl").rglob("*.py"))
             for t in tokenize.generate_tokens(io.StringIO(p.read_text()).readline)
             if t.type == tokenize.STRING and re.search(r"[a-z]\(s\)", re.sub(r"\{[^{}]*\}", "", t.string))]
    assert found == []


_HAND_PLURAL = re.compile(r"""(['"])[a-z ]*\1 if [^'"]*?(!=|==) [12]\b|(!=|==) 1 else (['"])[a-z ]*\4""")  # 's' if n != 1, 'it' if n == 1 else 'them'


def test_no_plural_is_written_by_hand():
    """A plural written at the place (`f"{n} field{'s' if n != 1 else ''}"`) got its number
    wrong beside a right one (the drift headline said "2 duplicate" and "2 orphans"): every count goes through words.counted
    or words.agreeing (`'is' if n == 1 else 'are'` too)."""
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()[:100]}" for p in sorted((ROOT / "gpuctl").rglob("*.py")) if p.relative_to(ROOT).as_posix() != "gpuctl/words.py"
             for n, line in enumerate(p.read_text().splitlines(), 1) if _HAND_PLURAL.search(line)]
    assert found == []


def test_drift_headline_counts_each_label_in_words_that_agree():
    """The drift headline wrote "2 duplicate": only the label `orphan` took an `s`."""
    from gpuctl.render.drift import ORIGINS
    from gpuctl.render.drift_view import headline

    def doc(**labels: int) -> dict:
        return {"summary": {"resources": sum(labels.values()), "origins": dict.fromkeys(ORIGINS, 0) | {"account": 1}, "labels": labels}}

    assert headline(doc(duplicate=2, orphan=2)) == "4 resources differ from gpu.jsonc: 1 field changed in the account, 2 duplicates, 2 orphans"
    assert headline(doc(duplicate=1, orphan=1, unmanaged=2)) == "4 resources differ from gpu.jsonc: 1 field changed in the account, 1 duplicate, 1 orphan, 2 unmanaged"
    assert headline(doc(orphan=1)) == "1 resource differs from gpu.jsonc: 1 field changed in the account, 1 orphan"


def test_local_status_counts_one_endpoint_and_one_worker_as_one(monkeypatch, tmp_path):
    """`gpu local status` printed "1 endpoints, 1 workers" and "(1 endpoints stored in ...)"."""
    from gpuctl.local.client import lifecycle
    from tests.conftest import run_cli

    doc = {"running": True, "url": "http://127.0.0.1:9", "pid": 7, "endpoints": 1, "workers": 1, "data_dir": str(tmp_path)}
    monkeypatch.setattr(lifecycle, "status", lambda data_dir: doc)
    assert run_cli(["local", "status"], tmp_path).out.splitlines()[0] == "running at http://127.0.0.1:9 (pid 7): 1 endpoint, 1 worker"
    doc.update(running=False, endpoints=1)
    assert run_cli(["local", "status"], tmp_path).out == f"not running (1 endpoint stored in {tmp_path})\n"
    doc.update(running=True, endpoints=2, workers=0)
    assert run_cli(["local", "status"], tmp_path).out.splitlines()[0] == "running at http://127.0.0.1:9 (pid 7): 2 endpoints, 0 workers"


def test_a_model_of_one_file_is_one_file():
    """Pre-warming a model of one file said "downloading ...: 1 files"."""
    from gpuctl.render.warm import describe

    event = {"event": "model", "repo": "acme/tiny", "revision": "main", "sha": "0123456789abcdef", "files": 1}
    assert describe(event) == "downloading acme/tiny@main (0123456789ab): 1 file"
    assert describe(event | {"files": 3}).endswith(": 3 files")


def test_first_of_writes_only_the_items_it_shows():
    written = []
    assert first_of(list(range(1000)), 2, each=lambda i: written.append(i) or f"#{i}") == "#0, #1 and 998 more"
    assert written == [0, 1]


def test_a_drift_change_note_of_one_item_says_one_drifts():
    """The drift issue's change note said "1 resources and fields drift now." when the earlier
    list was kept as its digest and one item drifts now."""
    from gpuctl.github.issues import change_note

    assert "\n1 resource or field drifts now.\n" in change_note("gpu.jsonc", "digest", ["endpoint.api"])
    assert "\n2 resources and fields drift now.\n" in change_note("gpu.jsonc", "digest", ["endpoint.api", "endpoint.web"])


_HAND_MORE = re.compile(r"\{len\([^{}]*\)\s*-\s*[^{}]+\} more|\{more\} more|\bmore = len\(")


def test_no_list_counts_its_rest_by_hand():
    """"First N, and K more" was written 14 times, each with its own slice and condition:
    every one is words.first_of."""
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()[:100]}" for p in sorted((ROOT / "gpuctl").rglob("*.py")) if p.relative_to(ROOT).as_posix() != "gpuctl/words.py"
             for n, line in enumerate(p.read_text().splitlines(), 1) if _HAND_MORE.search(line)]
    assert found == []


_COUNT_THEN_PLURAL = re.compile(r"\{(?:len\(|[^{}]*?\b(?:\w+_)?(?:total|count)\b)[^{}]*\}(?: of \{[^{}]*\})? [a-z]+s\b")  # {len(x)} files, {n_total} workers


def test_no_count_is_followed_by_a_plural_written_by_hand():
    """`f"{len(raw)} bytes"` said "a body of 1 bytes", and the health check "(1 of 1 workers on
    it)": a count written straight before a fixed plural noun is right only while the count is
    not 1. Such a count goes through words.counted, whatever the count can be."""
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()[:100]}" for p in sorted((ROOT / "gpuctl").rglob("*.py")) if p.relative_to(ROOT).as_posix() != "gpuctl/words.py"
             for n, line in enumerate(p.read_text().splitlines(), 1) if _COUNT_THEN_PLURAL.search(line)]
    assert found == []


def test_a_recorded_body_of_one_byte_and_a_rollout_of_one_worker_are_counted_as_one():
    """A cassette said "(a text/plain body of 1 bytes, not recorded)"; history's footer "1/1 workers"."""
    from gpuctl.provider.recording import Redactor
    from gpuctl.render.history import history_footer

    assert Redactor(set()).body(b"x", "text/plain") == "(a text/plain body of 1 byte, not recorded)"
    assert Redactor(set()).body(b"xy", "") == "(a non-JSON body of 2 bytes, not recorded)"
    rollout = {"inProgress": False, "workersOnLatest": 1, "workersTotal": 1}
    assert history_footer({"rollout": rollout, "endpoint_version": 2, "releases": []})[0].startswith("rollout: 1/1 worker on version 2")
