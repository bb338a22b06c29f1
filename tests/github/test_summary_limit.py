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
    for n in range(5):  # each config's plan is cut near 270 KB (MARKDOWN_LIMIT), where one more endpoint would pass it: five pass 1 MiB
        gpu = config(*[f"e{n}-{i:02d}" for i in range(70)], project_id=f"p{n}", env=big)
        for block in gpu["serverless"]:  # a worker to run here: no per-block local-no-command warning crowds out the plan
            block["local"] = {"command": ["python", "handler.py"]}
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
