"""R2, the planner is lawful: deterministic, never deletes a volume, one changed field gives
exactly one update on that field, and applying a plan then planning again gives no changes."""

from __future__ import annotations

import copy
import json
import random

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gpuctl.errors import PlanError
from gpuctl.model import Observed
from gpuctl.plan import Action, Kind, plan
from gpuctl.render.document import dumps, to_document
from tests.support.apply import apply_plan
from tests.support.strategies import CATALOG, configs, desired_from

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _plan(config: dict, observed: Observed, **kw):
    return plan(desired_from(config), observed, CATALOG, **kw)


def _deployed(config: dict) -> Observed:
    return apply_plan(_plan(config, Observed()), Observed())


@SETTINGS
@given(configs(), st.randoms(use_true_random=False))
def test_plan_is_deterministic_and_order_independent(config, rnd):
    observed = _deployed(config)
    shuffled = list(observed.endpoints)
    rnd.shuffle(shuffled)
    vols = list(observed.network_volumes)
    rnd.shuffle(vols)
    first = dumps(to_document(_plan(config, observed)))
    again = dumps(to_document(_plan(config, Observed(tuple(shuffled), tuple(vols)))))
    assert first == again


@SETTINGS
@given(configs(), configs(), st.booleans())
def test_plan_never_deletes_a_volume(config, other, prune):
    other["project_id"] = config["project_id"]  # the other config's endpoints are owned too
    try:
        result = _plan(config, _deployed(other), prune=prune)
    except PlanError:
        return
    assert not [c for c in result.changes if c.kind is Kind.NETWORK_VOLUME and c.action in (Action.DELETE, Action.REPLACE)]


SCALAR_EDITS = {
    ("scaling", "max_workers"): ("workers.max", lambda v: v + 1),
    ("scaling", "min_workers"): ("workers.min", lambda v: max(v - 1, 0) if v else None),
    ("runpod", "flashboot"): ("flashboot", lambda v: not v),
    ("runpod", "execution_timeout_ms"): ("timeout", lambda v: v + 1000),
    ("runpod", "scaler_value"): (None, lambda v: v + 1),
}


@SETTINGS
@given(configs(), st.sampled_from(sorted(SCALAR_EDITS)), st.data())
def test_one_changed_field_gives_exactly_one_update(config, key, data):
    observed = _deployed(config)
    edited = copy.deepcopy(config)
    index = data.draw(st.integers(0, len(edited["serverless"]) - 1))
    block = edited["serverless"][index]
    section, field = key
    path, change = SCALAR_EDITS[key]
    new = change(block[section].get(field, {"flashboot": True, "scaler_value": 4, "execution_timeout_ms": 600000}.get(field)))
    assume(new is not None)
    block[section][field] = new
    result = _plan(edited, observed)
    changed = [c for c in result.changes if c.action is not Action.NOOP]
    assert [c.name for c in changed] == [block["name"]]
    assert changed[0].action is Action.UPDATE
    expected = path or ("scaling.queueDelay" if block["runpod"]["scaler_type"] == "queue_delay" else "scaling.requestCount")
    assert [f.path for f in changed[0].changes] == [expected]


@SETTINGS
@given(configs(), configs(), st.randoms(use_true_random=False))
def test_apply_then_plan_has_no_changes(config, previous, rnd):
    """From any reachable account (another config deployed, then drifted by hand), one apply
    converges."""
    previous["project_id"] = config["project_id"]
    observed = _drift(_deployed(previous), rnd)
    try:
        first = _plan(config, observed, prune=rnd.random() < 0.5)
    except PlanError:
        return
    second = _plan(config, apply_plan(first, observed), prune=first.prune)
    assert not second.has_changes, [c for c in second.changes if c.action is not Action.NOOP]


def _drift(observed: Observed, rnd: random.Random) -> Observed:
    endpoints = [json.loads(json.dumps(e)) for e in observed.endpoints]
    for ep in endpoints:
        if rnd.random() < 0.3:
            ep["workers"]["max"] = 0
        if rnd.random() < 0.3:
            ep["env"]["ADDED_IN_CONSOLE"] = "1"
        if rnd.random() < 0.2:
            ep["gpu"]["pools"] = list(reversed(ep["gpu"]["pools"]))
        if rnd.random() < 0.2:
            ep["networkVolumes"] = []
    return Observed(tuple(endpoints), observed.network_volumes, observed.templates)
