"""Planning is linear in the size of the account (issue 11), checked without a clock.

The observed lists (and the desired endpoints) are tuples that count every item an iteration
over them hands out. A planner that scans the account once per desired endpoint hands out
n² items, so 100 endpoints already give 10,000 against a bound of a few hundred; 1,000 must
cost ten times 100, not a hundred times.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from gpuctl.config import build_desired, load_config
from gpuctl.model import Desired, Observed, acyclic
from gpuctl.plan import Action, plan
from gpuctl.plan.model import Drift
from gpuctl.plan.drift import record_body
from gpuctl.snapshot import snapshot_document
from tests.support.apply import apply_plan
from tests.support.strategies import CATALOG

PASSES = 8  # iterations over each list the planner may make, whatever its length


class Counted(tuple):
    """A tuple that counts the items every iteration over it hands out."""

    handed_out: int

    def __new__(cls, items):
        made = super().__new__(cls, items)
        made.handed_out = 0
        return made

    def __iter__(self):
        for item in super().__iter__():
            self.handed_out += 1
            yield item


def _config(n: int, tmp: Path, project: str = "linear", renamed: bool = False) -> Desired:
    """n endpoints; every fifth attaches a volume it shares with one other, every seventh
    pre-warms (which looks for its pre-warm record), every eleventh would adopt an endpoint
    that is not there (which looks it up by id), every thirteenth was renamed from a name the
    account lacks. `renamed`: every block has a new name, every even one says its old one
    (`renamed_from`: renamed in place), every odd one does not (a create beside an orphan of
    its image, which the plan says may be a rename)."""
    blocks = []
    for i in range(n):
        block = {"name": f"{'new' if renamed else 'ep'}-{i:04d}", "template": "whisper", "gpu_type": "NVIDIA L4", "gpu_types": ["NVIDIA RTX A4000"],
                 "runpod": {"env": {"MODEL": f"m{i}"}, "data_center_ids": ["EU-RO-1"]}}
        if i % 5 == 0:
            block["volume"] = {"name": f"models-{i // 10}", "size_gb": 50}
        if i % 7 == 0:
            block["prewarm"] = {"enabled": True, "mode": "gpu"}
        if i % 11 == 0:
            block["adopt"] = f"gone-{i}"
        if i % 13 == 0 and not renamed:
            block["renamed_from"] = f"never-{i}"
        if renamed and i % 2 == 0:
            block["renamed_from"] = f"ep-{i:04d}"
        blocks.append(block)
    path = tmp / f"{project}-{n}{'-renamed' if renamed else ''}.jsonc"
    path.write_text(json.dumps({"project_id": project, "serverless": blocks}))
    return build_desired(load_config(path, catalog=CATALOG), {}, CATALOG)


def _in_sync(desired: Desired) -> Observed:
    """The account after applying `desired`, with a last-applied record per endpoint and an
    unmarked look-alike copy of every fifth endpoint (listed as unmanaged, never touched)."""
    account = apply_plan(plan(desired, Observed(), CATALOG), Observed())
    # each record holds the digest of the literal env it applied, as a real apply's does (without it
    # the account's value may be a secret, and gpu.jsonc's literal is written again: drift._guess_hidden)
    records = tuple({**record_body(desired.project_id, e["id"], e["name"], {"env.MODEL": e["env"]["MODEL"]}, "2026-12-01T00:00:00Z"), "id": f"t-{e['id']}"}
                    for e in account.endpoints)
    copies = tuple({**e, "id": f"copy-{e['id']}", "name": f"{e['name']}-copy", "env": {}} for e in account.endpoints[::5])
    return Observed(account.endpoints + copies, account.network_volumes, records)


def _counted_plan(desired: Desired, observed: Observed, **kw) -> tuple[int, int, object]:
    """(items handed out per observed item, per desired endpoint, the plan)."""
    lists = [Counted(observed.endpoints), Counted(observed.network_volumes), Counted(observed.templates)]
    specs = Counted(desired.endpoints)
    result = plan(replace(desired, endpoints=specs), Observed(*lists), CATALOG, **kw)
    size = max(1, sum(len(items) for items in lists))
    return sum(items.handed_out for items in lists) / size, specs.handed_out / len(specs), result


def _scenarios(n: int, tmp: Path) -> dict[str, tuple[Desired, Observed, dict]]:
    desired = _config(n, tmp)
    account = _in_sync(desired)
    smaller = _config(n // 2, tmp)  # the other half of the account is owned but left gpu.jsonc
    recorded = applied(account)
    return {
        "empty account": (desired, Observed(), {}),
        "in sync": (desired, account, {}),
        "orphans": (smaller, account, {}),
        "prune": (smaller, account, {"prune": True}),
        "renames": (_config(n, tmp, renamed=True), account, {}),
        # review 8, R8-1: every other endpoint renamed in the account, found by its record (ADR 59)
        "renamed in the account": (desired, replace(account, endpoints=tuple({**e, "name": f"{e['name']}-x"} if i % 2 == 0 and e["id"] in recorded else e
                                                                         for i, e in enumerate(account.endpoints))), {}),
    }


def applied(account: Observed) -> set[str]:
    """The ids of endpoints with a last-applied record."""
    return {str(t.get("name", "")).removeprefix("gpuctl-applied-") for t in account.templates}


@pytest.mark.parametrize("scenario", ["empty account", "in sync", "orphans", "prune", "renames", "renamed in the account"])
def test_the_planner_passes_over_the_account_a_bounded_number_of_times(scenario, tmp_path):
    per_item = {}
    for n in (100, 1000):
        desired, observed, kw = _scenarios(n, tmp_path)[scenario]
        per_observed, per_desired, result = _counted_plan(desired, observed, **kw)
        assert per_observed <= PASSES and per_desired <= PASSES, f"{n} endpoints: {per_observed:.1f} passes over the account, {per_desired:.1f} over gpu.jsonc"
        per_item[n] = (per_observed, per_desired, result)
    assert per_item[1000][:2] == pytest.approx(per_item[100][:2], rel=0.2)  # the same passes at ten times the size


def test_the_scenarios_exercise_what_they_claim(tmp_path):
    """Guards the test above: the counted plans really match, prune, pre-warm and look alike."""
    scenarios = _scenarios(100, tmp_path)
    in_sync = _counted_plan(*scenarios["in sync"][:2])[2]
    assert not in_sync.has_changes and in_sync.count(Action.NOOP) == 100 + 10 + 20  # endpoints, volumes, look-alikes
    assert {n.code for n in in_sync.notices} >= {"prewarm-never-warmed"}
    assert _counted_plan(*scenarios["orphans"][:2])[2].count(Action.ORPHAN) == 50
    pruned = _counted_plan(*scenarios["prune"][:2], prune=True)[2]
    assert pruned.count(Action.DELETE) == 50 and pruned.count(Action.PRESERVE) == 5
    renames = _counted_plan(*scenarios["renames"][:2])[2]
    assert renames.count(Action.UPDATE) == 50 and renames.count(Action.CREATE) == 50 and renames.count(Action.ORPHAN) == 50
    assert sum(n.code == "rename" for n in renames.notices) == 50 and sum(n.code == "maybe-renamed" for n in renames.notices) == 50
    back = _counted_plan(*scenarios["renamed in the account"][:2])[2]
    assert sum(c.drift is Drift.RENAMED_IN_ACCOUNT and c.action is Action.UPDATE for c in back.changes) == 50
    assert back.count(Action.ORPHAN) == 0 and back.count(Action.CREATE) == 0


def test_what_the_account_did_not_report_is_worked_out_once_per_endpoint(tmp_path, monkeypatch):
    """The fields an answer lacks (`fields.unreported`) were worked out twice per endpoint: once
    to leave them out of the comparison, once for the plan's notice. Once, and both still say
    it: an endpoint whose answer lacks workers.max is not changed to null, and is noticed."""
    from gpuctl.plan import fields

    desired, observed, _ = _scenarios(100, tmp_path)["in sync"]
    first = observed.endpoints[0]
    lacking = {**first, "workers": {k: v for k, v in first["workers"].items() if k != "max"}}
    observed = replace(observed, endpoints=(lacking, *observed.endpoints[1:]))
    calls = []
    real = fields.unreported
    monkeypatch.setattr(fields, "unreported", lambda *a: calls.append(a) or real(*a))
    result = plan(desired, observed, CATALOG)
    assert len(calls) == len(desired.endpoints)
    assert not result.has_changes
    (notice,) = [n for n in result.notices if n.code == "not-reported"]
    assert notice.address == f"endpoint.{first['name']}" and "workers.max" in notice.message


def test_a_per_endpoint_scan_would_fail_the_bound(tmp_path):
    """The bound catches what it is for: scanning the account once per desired endpoint."""
    desired, observed, _ = _scenarios(100, tmp_path)["in sync"]
    endpoints = Counted(observed.endpoints)
    for spec in desired.endpoints:
        [e for e in endpoints if e.get("name") == spec.name]
    assert endpoints.handed_out / len(endpoints) > PASSES


def test_building_pauses_the_cycle_collector_and_always_restores_it():
    """`acyclic` (config loading, snapshot reading, planning, the plan document) runs with the
    cyclic collector paused, which full collections of a large heap made superlinear, and
    leaves it as it found it, after an error too."""
    inside = []

    @acyclic
    def build(fail: bool) -> None:
        inside.append(gc.isenabled())
        if fail:
            raise ValueError("boom")

    assert gc.isenabled()
    build(False)
    with pytest.raises(ValueError):
        build(True)
    assert inside == [False, False] and gc.isenabled()
    gc.disable()
    try:
        build(False)
        assert not gc.isenabled()  # a caller that paused it keeps it paused
    finally:
        gc.enable()


def _collections_while_planning(args: list[str], cwd: Path) -> tuple[list[str], object]:
    """Run `gpu ARGS` in-process; (where each collection of the cyclic collector happened while
    the deploy command's plan was being made and written, the result). The plan-only run is
    everything under gpuctl/cli/deploy.py: reading gpu.jsonc and the snapshot, planning, the
    document."""
    from tests.conftest import run_cli

    seen: list[str] = []

    def collection(phase: str, info: dict) -> None:
        if phase != "start":
            return
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename.endswith(os.path.join("gpuctl", "cli", "deploy.py")):
                seen.append(f"generation {info['generation']} in {frame.f_code.co_name}, line {frame.f_lineno}")
                return
            frame = frame.f_back

    gc.collect()
    gc.callbacks.append(collection)
    try:
        result = run_cli(args, cwd)
    finally:
        gc.callbacks.remove(collection)
    return seen, result


@pytest.mark.parametrize("account", ["empty", "in sync"])
@pytest.mark.parametrize("output", [["--json"], ["--out", "plan.json"]])
def test_a_plan_only_deploy_runs_without_the_cycle_collector_and_restores_it(account, output, tmp_path):
    """`deploy --plan` and `--out` make one plan and end: the collector is paused for the whole
    run, since each full walk of a large heap cost time that grew faster than the account (ADR
    13), and restored when it returns, so a caller in the same process (the tests) keeps it."""
    blocks = [{"name": f"ep-{i:04d}", "template": "whisper", "gpu_type": "NVIDIA L4", "runpod": {"env": {"MODEL": f"m{i}"}}} for i in range(300)]
    (tmp_path / "gpu.jsonc").write_text(json.dumps({"project_id": "paused", "serverless": blocks}))
    desired = build_desired(load_config(tmp_path / "gpu.jsonc", catalog=CATALOG), {}, CATALOG)
    observed = Observed() if account == "empty" else apply_plan(plan(desired, Observed(), CATALOG), Observed())
    (tmp_path / "observed.json").write_text(json.dumps(snapshot_document(observed)))
    seen, result = _collections_while_planning(["serverless", "deploy", "--plan", "--provider", "runpod", "--observed", "observed.json", *output], tmp_path)
    assert result.code == 0, result.err
    assert '"resource_changes"' in (result.out if output == ["--json"] else (tmp_path / "plan.json").read_text())
    assert seen == []
    assert gc.isenabled()


def test_the_collector_comes_back_after_a_plan_only_deploy_that_fails(tmp_path):
    (tmp_path / "gpu.jsonc").write_text('{"serverless": {"gpu_type": 5}}')
    (tmp_path / "observed.json").write_text("{}")
    seen, result = _collections_while_planning(["serverless", "deploy", "--plan", "--provider", "runpod", "--observed", "observed.json"], tmp_path)
    assert result.code == 1 and "serverless.gpu_type" in result.err
    assert gc.isenabled()


def test_the_check_sees_collections_in_the_deploy_command(tmp_path, monkeypatch):
    """Guards the tests above: a collection during the plan-only run is seen."""
    from gpuctl.cli import deploy

    made = deploy.make_plan

    def plan_and_collect(*args, **kwargs):
        gc.collect()
        return made(*args, **kwargs)

    monkeypatch.setattr(deploy, "make_plan", plan_and_collect)
    (tmp_path / "gpu.jsonc").write_text(json.dumps({"project_id": "seen", "serverless": {"template": "whisper", "gpu_type": "NVIDIA L4"}}))
    (tmp_path / "observed.json").write_text("{}")
    seen, result = _collections_while_planning(["serverless", "deploy", "--plan", "--provider", "runpod", "--observed", "observed.json"], tmp_path)
    assert result.code == 0 and seen and "generation 2" in seen[0]
