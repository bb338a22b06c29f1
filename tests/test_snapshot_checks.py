"""The quick checks of snapshot items (`gpuctl.snapshot.ITEM_CHECKS`) accept only what the
pydantic models of `gpuctl.snapshot_items` accept (ADR 12): an item they pass is one the models
pass, and the ordinary ones (every fixture snapshot) pass without the models."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from gpuctl.errors import SnapshotError
from gpuctl.snapshot import ITEM_CHECKS, parse_snapshot
from gpuctl.snapshot_items import ITEM_MODELS
from tests.conftest import FIXTURES

SNAPSHOTS = sorted(FIXTURES.glob("plans/*/observed.json"))
ODD = [None, True, False, 0, 1, -3, 2.0, 2.5, float("nan"), "", "x", "\ud800", [], ["x"], [1], [None], {}, {"k": "v"}, {"k": 1}, {1: "v"}]


def _models_accept(key: str, item: Any) -> bool:
    try:
        ITEM_MODELS[key].model_validate(item)
    except ValidationError:
        return False
    return True


def _agree(key: str, item: Any) -> bool:
    quick = ITEM_CHECKS[key](item)
    assert not quick or _models_accept(key, item), f"{key}: the quick check passes what the models refuse: {item!r}"
    return quick


def _first(key: str) -> dict:
    return next(item for p in SNAPSHOTS for item in json.loads(p.read_text()).get(key, []))


def _fields(key: str) -> list[tuple[str, ...]]:
    """Every field the model types, nested ones included, as key paths."""
    schema = ITEM_MODELS[key].model_json_schema()
    out = []
    for name, prop in schema["properties"].items():
        out.append((name,))
        for branch in prop.get("anyOf", [prop]):
            ref = branch.get("$ref")
            if ref:
                out += [(name, sub) for sub in schema["$defs"][ref.split("/")[-1]]["properties"]]
    return out


def _set(item: dict, path: tuple[str, ...], value: Any) -> dict:
    out = json.loads(json.dumps(item))
    node = out
    for part in path[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[path[-1]] = value
    return out


@pytest.mark.parametrize("path", SNAPSHOTS, ids=lambda p: p.parent.name)
def test_fixture_snapshots_pass_the_quick_checks(path):
    doc = json.loads(path.read_text())
    for key in ITEM_CHECKS:
        for item in doc.get(key, []):
            assert _agree(key, item), item


@pytest.mark.parametrize("key", list(ITEM_CHECKS))
def test_every_field_with_every_odd_value_agrees(key):
    base = _first(key)
    for path in _fields(key):
        for value in ODD:
            _agree(key, _set(base, path, value))
        _agree(key, {k: v for k, v in base.items() if k != path[0]})  # the field left out


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(list(ITEM_CHECKS)), st.data())
def test_random_values_never_slip_through(key, data):
    base = _first(key)
    path = data.draw(st.sampled_from(_fields(key)))
    _agree(key, _set(base, path, data.draw(json_values)))


def test_a_wrong_item_is_still_explained_by_the_models():
    endpoint = _first("endpoints")
    with pytest.raises(SnapshotError, match=r"snap: endpoints\[0\]\.workers\.max has the wrong type \(a string\)"):
        parse_snapshot({"endpoints": [{**endpoint, "workers": {"min": 0, "max": "3"}}]}, "snap")
