"""The plan document's layout (`render.document.dumps`): only whitespace differs from
`json.dumps`, whatever the strings and values in it, and each field change is one line."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from gpuctl.render.document import dumps
from gpuctl.safetext import json_safe
from tests.conftest import FIXTURES

# Strings that look like the JSON around them: the layout must never break inside a string.
tricky = st.sampled_from(['}, {"', '},\n{"', '"path": ', '": ', "\\", '"', "}, {", "", "\u2028", "é", "\x00"]) | st.text(max_size=12)
# Finite floats: JSON has no other (a non-finite one is written null, tests/test_json_numbers.py).
values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | tricky,
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky, inner, max_size=3), max_leaves=12)
changes = st.lists(st.fixed_dictionaries({"path": tricky, "before": values, "after": values, "origin": tricky}), max_size=4)
resources = st.fixed_dictionaries({"address": tricky, "reason": tricky, "changes": changes, "desired": st.none() | st.dictionaries(tricky, values, max_size=4)})
documents = st.fixed_dictionaries({"format_version": st.just("1"), "resource_changes": st.lists(resources, max_size=3),
                                   "notes": st.lists(st.dictionaries(tricky, tricky, max_size=3), max_size=2), "cost": st.dictionaries(tricky, values, max_size=3)})


@settings(max_examples=300, deadline=None)
@given(documents)
def test_the_layout_is_the_same_json(document):
    text = dumps(document)
    assert json.loads(text) == document
    assert text == dumps(json.loads(text))  # deterministic: a saved plan written again is the same bytes


@settings(max_examples=100, deadline=None)
@given(resources)
def test_each_field_change_is_one_line(resource):
    lines = [line.strip().rstrip(",") for line in dumps({"resource_changes": [resource]}).split("\n")]
    for change in resource["changes"]:
        assert json_safe(json.dumps(change, ensure_ascii=False)) in lines  # what a terminal obeys is escaped


def test_golden_plans_are_laid_out_this_way():
    for path in sorted(FIXTURES.glob("plans/*/expected.json")):
        text = path.read_text()
        assert dumps(json.loads(text)) == text, path


def test_writing_a_plan_a_resource_at_a_time_gives_the_same_text():
    """`write_document` (what `--json` uses) streams what `dumps(to_document(plan))` returns,
    for plans with and without resources and with every kind of change and notice."""
    from gpuctl.model import Desired, Observed
    from gpuctl.plan import plan
    from gpuctl.render.document import to_document, write_document
    from gpuctl.snapshot import read_snapshot
    from tests.support.strategies import CATALOG, desired_from

    plans = []
    for case in sorted(FIXTURES.glob("plans/*/gpu.jsonc")):
        spec = json.loads((case.parent / "case.json").read_text())
        if spec["exit"] == 1 or spec["env"] or spec["args"]:
            continue
        desired = desired_from(json.loads("\n".join(l for l in case.read_text().splitlines() if not l.lstrip().startswith("//"))))
        plans.append(plan(desired, read_snapshot(case.parent / "observed.json").observed, CATALOG))
    plans.append(plan(Desired("p", "gpu.jsonc", ()), Observed(), CATALOG))  # no resources at all
    assert len(plans) > 10
    for p in plans:
        chunks: list[str] = []
        write_document(p, chunks.append)
        assert "".join(chunks) == dumps(to_document(p))
        assert len(chunks) >= len(p.changes)  # written as it goes, not in one piece
