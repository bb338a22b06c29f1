"""GitHub drops a step's whole job summary when it is over 1 MiB: the summary `gpu github`
writes stays under it however many configs add to it, and says where it was cut."""

from __future__ import annotations

import json

import pytest

from gpuctl.github.env import SUMMARY_LIMIT
from tests.github.conftest import config

pytestmark = pytest.mark.e2e


def test_the_job_summary_of_many_large_plans_stays_under_github_s_limit(account, tmp_path):
    big = {f"VAR_{i:02d}": "v" * 400 for i in range(40)}  # ~17 KB of plan per endpoint
    configs = []
    for n in range(4):  # each config's plan is over the limit alone
        gpu = config(*[f"e{n}-{i:02d}" for i in range(70)], project_id=f"p{n}", env=big)
        (tmp_path / f"c{n}").mkdir()
        (tmp_path / f"c{n}" / "gpu.jsonc").write_text(json.dumps(gpu))
        configs += ["--config", f"c{n}/gpu.jsonc"]
    summary = tmp_path / "summary"
    github = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(summary)}
    planned = account.gpu("github", "plan", "--no-comment", "--plan-dir", "plans", *configs, cwd=tmp_path, env=github)
    assert planned.code == 0, planned.err
    assert summary.stat().st_size <= SUMMARY_LIMIT
    text = summary.read_text()
    assert "**Truncated** to stay under GitHub's 1 MiB job summary limit" in text
    assert text.startswith("### gpuctl plan: 70 to create") and "Project `p0`" in text  # the first plan, cut
