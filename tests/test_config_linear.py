"""Reading gpu.jsonc and a snapshot, planning and every rendering are linear in the number of
endpoints (issue 11), checked without a clock: the Python calls each stage makes (cProfile
counts every call, builtins included) grow ten times from 100 to 1,000 endpoints, where one
quadratic step would make them grow a hundred times. tests/test_plan_linear.py bounds the
planner's passes over the account itself.
"""

from __future__ import annotations

import cProfile
import io
import json
import pstats
from pathlib import Path

import pytest
from rich.console import Console

from gpuctl.config import build_desired, load_config
from gpuctl.config.locate import ConfigLocator
from gpuctl.model import Observed
from gpuctl.plan import plan
from gpuctl.render.document import dumps, to_document
from gpuctl.render.markdown import render_markdown
from gpuctl.render.text import render_text
from gpuctl.snapshot import read_snapshot, snapshot_document
from tests.support.apply import apply_plan
from tests.support.strategies import CATALOG

LINEAR = 11  # calls(1,000) / calls(100): at most 10 plus slack for sorting's key calls


def _calls(stage) -> tuple[int, object]:
    profile = cProfile.Profile()
    result = profile.runcall(stage)
    return pstats.Stats(profile).total_calls, result


def _stages(n: int, tmp: Path) -> dict[str, int]:
    """Call counts of each stage for `n` endpoints; every tenth endpoint differs from the account."""
    blocks = [{"name": f"ep-{i:04d}", "template": "whisper", "gpu_type": "NVIDIA L4", "gpu_types": ["NVIDIA RTX A4000"],
               "volume": {"name": f"v-{i // 10}", "size_gb": 20}, "runpod": {"env": {"MODEL": f"m{i}"}, "data_center_ids": ["EU-RO-1"]}}
              for i in range(n)]
    config = tmp / f"gpu-{n}.jsonc"
    # JSONC (a comment, trailing commas): the source map is scanned, as for a hand-written file
    config.write_text("// generated\n" + json.dumps({"project_id": "lin", "serverless": blocks}, indent=1)[:-1] + ",}\n")
    counts: dict[str, int] = {}
    counts["load_config"], loaded = _calls(lambda: load_config(config, catalog=CATALOG))
    counts["build_desired"], desired = _calls(lambda: build_desired(loaded, {}, CATALOG))
    account = apply_plan(plan(desired, Observed(), CATALOG), Observed())
    drifted = [{**e, "workers": {**e["workers"], "max": 9}} if i % 10 == 0 else e for i, e in enumerate(account.endpoints)]
    (tmp / f"account-{n}.json").write_text(json.dumps(snapshot_document(Observed(tuple(drifted), account.network_volumes))))
    counts["read_snapshot"], snapshot = _calls(lambda: read_snapshot(tmp / f"account-{n}.json"))
    counts["plan"], result = _calls(lambda: plan(desired, snapshot.observed, CATALOG))
    counts["to_document"], doc = _calls(lambda: to_document(result))
    counts["dumps"], _ = _calls(lambda: dumps(doc))
    counts["render_markdown"], _ = _calls(lambda: render_markdown(doc, limit=10**9))
    counts["render_text"], _ = _calls(lambda: render_text(doc, Console(file=io.StringIO(), width=100, color_system=None)))
    # the gpu.jsonc key of each changed field: the locator is built, and the file scanned, inside the stage
    counts["to_document with keys"], keyed = _calls(lambda: to_document(result, ConfigLocator(load_config(config, catalog=CATALOG))))
    counts["render_markdown with keys"], _ = _calls(lambda: render_markdown(keyed, limit=10**9))
    counts["render_text with keys"], _ = _calls(lambda: render_text(keyed, Console(file=io.StringIO(), width=100, color_system=None)))
    counts["plan of an empty account"], created = _calls(lambda: plan(desired, Observed(), CATALOG))
    counts["to_document of creates"], _ = _calls(lambda: to_document(created))
    return counts


@pytest.fixture(scope="module")
def counts(tmp_path_factory) -> dict[int, dict[str, int]]:
    tmp = tmp_path_factory.mktemp("linear")
    return {n: _stages(n, tmp) for n in (100, 1000)}


@pytest.mark.parametrize("stage", ["load_config", "build_desired", "read_snapshot", "plan", "to_document", "dumps",
                                   "render_markdown", "render_text", "plan of an empty account", "to_document of creates",
                                   "to_document with keys", "render_markdown with keys", "render_text with keys"])
def test_each_stage_is_linear(counts, stage):
    small, large = counts[100][stage], counts[1000][stage]
    assert large <= LINEAR * small, f"{stage}: {small} calls for 100 endpoints, {large} for 1,000 ({large / small:.1f}×)"
    assert large >= 5 * small, f"{stage}: {small} -> {large} calls: the stage does not see the endpoints, so this test checks nothing"


class _Counted:
    """A locator that counts the fields it is asked about."""

    def __init__(self, loaded):
        self.at, self.asked = ConfigLocator(loaded), 0

    def __call__(self, kind: str, name: str, path: str) -> list[dict]:
        self.asked += 1
        return self.at(kind, name, path)


def test_a_plan_in_sync_pays_nothing_for_the_keys(tmp_path):
    """Naming the gpu.jsonc key of each changed field costs a plan that changes nothing not one
    call (issue 11): the locator is never asked, gpu.jsonc is never scanned for positions (a
    plain JSON file, as generated configs are, is never scanned at all), and the document costs
    exactly the calls it cost without keys. One changed field is located, and only that one."""
    blocks = [{"name": f"ep-{i:04d}", "template": "whisper", "gpu_type": "NVIDIA L4"} for i in range(1000)]
    config = tmp_path / "gpu.jsonc"
    config.write_text(json.dumps({"project_id": "lin", "serverless": blocks}))
    loaded = load_config(config, catalog=CATALOG)
    desired = build_desired(loaded, {}, CATALOG)
    account = apply_plan(plan(desired, Observed(), CATALOG), Observed())
    in_sync = plan(desired, account, CATALOG)
    assert not in_sync.has_changes
    locate = _Counted(loaded)
    with_keys, doc = _calls(lambda: to_document(in_sync, locate))
    assert (locate.asked, "sourcemap" in loaded.source.__dict__) == (0, False)
    assert with_keys == _calls(lambda: to_document(in_sync))[0]
    assert "config_keys" not in json.dumps(doc)

    moved = [{**e, "workers": {**e["workers"], "max": 9}} if e["name"] == "ep-0500" else e for e in account.endpoints]
    one = to_document(plan(desired, Observed(tuple(moved), account.network_volumes), CATALOG), locate)
    assert locate.asked == 1 and "sourcemap" in loaded.source.__dict__
    (change,) = [c for r in one["resource_changes"] for c in r["changes"]]
    assert change["config_keys"] == [{"key": "serverless[500].scaling.max_workers", "file": "gpu.jsonc", "line": None}]
