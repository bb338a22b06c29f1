"""Counts in what gpu prints are written in words that agree with the number (`1 field`,
`2 fields`), through gpuctl.words.counted; never `field(s)`."""

from __future__ import annotations

import io
import re
import tokenize

from gpuctl.words import counted, in_seconds
from tests.conftest import ROOT


def test_counted_agrees_with_its_number():
    assert counted(1, "network volume") == "1 network volume"
    assert counted(0, "field") == "0 fields"
    assert counted(2, "difference") == "2 differences"
    assert counted(3, "version", "versions") == "3 versions"
    assert counted(2, "entry", "entries") == "2 entries"


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
