"""`-` is no file name (review 2 L6): `deploy --out -` wrote a file named "-" and
`--from-plan -` read it back. Every option that reads or writes a named plan or snapshot file
refuses it as a usage error that says what does the stdin/stdout job instead, and so does every
path option of `gpu github` (a job reads and writes named files only)."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import echo_config, project
from tests.test_usage_errors import _gpu


@pytest.mark.parametrize("args, instead", [
    (["serverless", "deploy", "--out", "-"], "`--plan --json` prints the plan document on stdout"),
    (["serverless", "deploy", "--from-plan", "-"], "save the plan with `--out FILE` and pass that FILE"),
    (["serverless", "deploy", "--plan", "--observed", "-"], "save the snapshot with `gpu serverless snapshot --out FILE`"),
    (["serverless", "snapshot", "--out", "-"], "without --out the snapshot goes to stdout"),
    (["serverless", "deploy", "--plan", "--policy", "-"], "give the path of the policy file"),
    (["serverless", "deploy", "--wait-healthy", "--smoke", "-"], "give the path of a JSON file holding the job input"),
    (["serverless", "drift", "--observed", "-"], "save the snapshot with `gpu serverless snapshot --out FILE`"),
    (["github", "plan", "--config", "-"], "give the path of a gpu.jsonc in the checkout; a job reads no config from stdin"),
    (["github", "plan", "--policy", "-"], "give the path of the policy file in the checkout"),
    (["github", "plan", "--plan-dir", "-"], "give a directory; the job summary and the plan_json output show the plans"),
    (["github", "plan", "--pr-file", "-"], "give the file the fork flow's first job wrote the pull request's number to"),
    (["github", "apply", "--plan-dir", "-"], "give the directory the plan artifact was downloaded to"),
    (["github", "apply", "--smoke", "-"], "give the path of a JSON file holding the job input"),
    (["github", "drift", "--config", "-"], "give the path of a gpu.jsonc in the checkout; a job reads no config from stdin"),
], ids=["deploy-out", "from-plan", "deploy-observed", "snapshot-out", "deploy-policy", "deploy-smoke", "drift-observed", "github-plan-config", "github-plan-policy", "github-plan-dir",
        "github-pr-file", "github-apply-plan-dir", "github-smoke", "github-drift-config"])
def test_a_dash_for_a_plan_or_snapshot_file_is_a_usage_error(tmp_path, args, instead):
    proj = project(tmp_path / "p", echo_config())
    (proj / "-").write_text(json.dumps({"endpoints": [], "networkVolumes": [], "templates": []})) if "--observed" in args else None
    done = _gpu(*args, cwd=proj)
    assert done.returncode == 1, done.stdout + done.stderr
    option = args[-2]
    assert f'error: invalid value for {option} of `gpu {" ".join(args[:2])}`: must be a file name, not "-": {instead}' in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert sorted(p.name for p in proj.iterdir()) == sorted(["gpu.jsonc"] + (["-"] if "--observed" in args else []))
