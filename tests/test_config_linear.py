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
    counts["plan of an empty account"], created = _calls(lambda: plan(desired, Observed(), CATALOG))
    counts["to_document of creates"], _ = _calls(lambda: to_document(created))
    return counts


@pytest.fixture(scope="module")
def counts(tmp_path_factory) -> dict[int, dict[str, int]]:
    tmp = tmp_path_factory.mktemp("linear")
    return {n: _stages(n, tmp) for n in (100, 1000)}


@pytest.mark.parametrize("stage", ["load_config", "build_desired", "read_snapshot", "plan", "to_document", "dumps",
                                   "render_markdown", "render_text", "plan of an empty account", "to_document of creates"])
def test_each_stage_is_linear(counts, stage):
    small, large = counts[100][stage], counts[1000][stage]
    assert large <= LINEAR * small, f"{stage}: {small} calls for 100 endpoints, {large} for 1,000 ({large / small:.1f}×)"
    assert large >= 5 * small, f"{stage}: {small} -> {large} calls: the stage does not see the endpoints, so this test checks nothing"
