"""`deploy --plan --observed` and `config` as a user runs them: formats, exit codes, errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tests.conftest import FIXTURES, ROOT, run_cli

CASE = FIXTURES / "plans" / "recipe-whisper-nochange"
PLAN = ["serverless", "deploy", "--plan", "--observed", "observed.json", "--provider", "runpod"]


@pytest.fixture
def project(tmp_path):
    for name in ("gpu.jsonc", "observed.json"):
        shutil.copy(CASE / name, tmp_path / name)
    return tmp_path


def test_detailed_exitcode_is_0_without_changes_and_2_with(cli, project):
    assert cli([*PLAN, "--detailed-exitcode"], project).code == 0
    assert cli([*PLAN, "--detailed-exitcode", "--max-workers", "9"], project).code == 2
    assert cli([*PLAN, "--max-workers", "9"], project).code == 0  # without the flag, changes are not an error


def test_errors_exit_1_even_with_detailed_exitcode(cli, project):
    (project / "gpu.jsonc").write_text('{"serverless": {"gpu_type": 5}}')
    result = cli([*PLAN, "--detailed-exitcode"], project)
    assert result.code == 1 and "gpu.jsonc:1:17: serverless.gpu_type" in result.err


def test_usage_errors_exit_1_not_2(cli, project):
    result = cli([*PLAN, "--no-such-flag"], project)
    assert result.code == 1 and "unknown option for `gpu serverless deploy`" in result.err
    result = cli([*PLAN, "--json", "--format", "text"], project)
    assert result.code == 1 and "--json conflicts" in result.err


def test_json_flag_equals_format_json(cli, project):
    a, b = cli([*PLAN, "--json"], project), cli([*PLAN, "--format", "json"], project)
    assert a.out == b.out and json.loads(a.out)["format_version"] == "1"


def test_observed_without_plan_is_refused(cli, project):
    result = cli(["serverless", "deploy", "--observed", "observed.json"], project)
    assert result.code == 1 and "--observed plans against a snapshot and cannot apply" in result.err


def test_override_errors_name_the_flag(cli, project):
    result = cli([*PLAN, "--idle-timeout", "0"], project)
    assert result.code == 1
    assert "--idle-timeout: serverless.scaling.idle_timeout: must be ≥ 1, got 0" in result.err
    result = cli([*PLAN, "--min-workers", "7"], project)
    assert result.code == 1 and "serverless.scaling.max_workers: must be ≥ min_workers (7), got 3 (with --min-workers" in result.err


def test_overrides_are_shown_in_the_plan(cli, project):
    result = cli([*PLAN, "--min-workers", "1", "--format", "text"], project)
    assert "override --min-workers: scaling.min_workers = 1" in result.out
    assert "workers.min = 0 → 1" in result.out


def test_missing_variable_is_named_with_its_position(cli, project):
    (project / "gpu.jsonc").write_text('{"project_id": "transcribe",\n "serverless": {"template": "whisper", "gpu_type": "NVIDIA L4",\n  "runpod": {"env": {"TOKEN": "${MY_TOKEN}"}}}}')
    result = cli(["serverless", "deploy", "--provider", "runpod"], project)  # an apply needs it; a plan shows it as unknown
    assert result.code == 1
    assert "gpu.jsonc:3:22: serverless.runpod.env.TOKEN: environment variable MY_TOKEN is not set" in result.err


def test_bad_snapshot_is_a_clear_error(cli, project):
    (project / "observed.json").write_text('{"endpoint": []}')
    result = cli(PLAN, project)
    assert result.code == 1 and 'unknown key "endpoint"' in result.err and 'did you mean "endpoints"' in result.err


def test_config_validate_reports_unset_variables_without_failing(cli, project):
    (project / "gpu.jsonc").write_text('{"serverless": {"name": "x", "template": "whisper", "gpu_type": "NVIDIA L4", "runpod": {"env": {"T": "${NOT_SET_HERE}"}}}}')
    result = cli(["config", "validate"], project)
    assert result.code == 0 and "gpu.jsonc is valid" in result.out and "${NOT_SET_HERE}" in result.out
    doc = json.loads(cli(["config", "validate", "--json"], project).out)
    assert doc["valid"] and doc["variables"][0] == {"address": "endpoint.x", "env": "T", "variable": "NOT_SET_HERE", "set": False}


def test_config_validate_lists_many_endpoints_one_a_line(cli, project):
    """20 endpoints were one line 900 characters wide; past three, the count and a line each."""
    blocks = [{"name": f"endpoint-{i:02d}", "template": "whisper", "gpu_type": "NVIDIA L4", "volume": {"name": "media"} if i == 4 else False} for i in range(20)]
    (project / "gpu.jsonc").write_text(json.dumps({"project_id": "many", "serverless": blocks}))
    lines = cli(["config", "validate"], project).out.splitlines()
    assert lines[0] == "gpu.jsonc is valid: 20 endpoints (name, template, GPU type, volume):"
    assert lines[1:21] == [f"  endpoint-{i:02d}  whisper  NVIDIA L4" + ("  volume media" if i == 4 else "") for i in range(20)]
    assert max(len(line) for line in lines) < 100
    (project / "gpu.jsonc").write_text(json.dumps({"project_id": "few", "serverless": blocks[:3]}))
    few = cli(["config", "validate"], project).out.splitlines()
    assert few[0] == "gpu.jsonc is valid: 3 endpoints: " + ", ".join(f"endpoint-{i:02d} (whisper on NVIDIA L4)" for i in range(3))


def test_config_schema_prints_the_checked_in_schema(cli, project):
    assert json.loads(cli(["config", "schema"], project).out) == json.loads((ROOT / "schema" / "gpu.schema.json").read_text())


def test_markdown_is_capped_under_githubs_limit(cli, tmp_path):
    blocks = [{"name": f"endpoint-{i:03d}", "template": "whisper", "gpu_type": "NVIDIA L4", "gpu_types": ["NVIDIA RTX A4000"], "runpod": {"env": {f"VAR_{j}": "x" * 40 for j in range(10)}}} for i in range(300)]
    (tmp_path / "gpu.jsonc").write_text(json.dumps({"project_id": "big", "serverless": blocks}))
    (tmp_path / "observed.json").write_text("{}")
    md = cli([*PLAN, "--format", "markdown"], tmp_path).out
    assert len(md) < 65_536
    assert md.startswith("### gpuctl plan: 300 to create")
    assert "**Truncated:**" in md and "more resources not shown" in md
    small = cli([*PLAN, "--format", "markdown"], FIXTURES / "plans" / "recipe-whisper-create").out
    assert "Truncated" not in small and small.count("<details open>") == 1 and "<details>" not in small
    assert md.count("<details>") > 10 and "<details open>" not in md, "a large plan folds every resource"


def test_help_imports_no_heavy_module():
    code = "import sys; from gpuctl.cli import main; from gpuctl.cli.context import AppContext; import io; main(['--help'], AppContext(stdout=io.StringIO())); main(['serverless', 'deploy', '--help'], AppContext(stdout=io.StringIO())); print(sorted(m for m in ('pydantic', 'rich', 'httpx', 'deepdiff', 'pyjson5', 'starlette', 'uvicorn') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_no_traceback_without_debug_and_one_with(cli, project, monkeypatch):
    import gpuctl.plan.planner as planner

    def boom(*args, **kwargs):
        raise RuntimeError("synthetic failure")

    monkeypatch.setattr(planner, "observed_digest", boom)
    quiet = cli(PLAN, project)
    assert quiet.code == 1 and "Traceback" not in quiet.err and "internal error: RuntimeError: synthetic failure" in quiet.err
    loud = cli([*PLAN, "--debug"], project)
    assert loud.code == 1 and "Traceback" in loud.err


def test_a_replace_says_the_endpoint_is_deleted_and_gets_a_new_id_and_url():
    """A replace deletes the endpoint and creates it again (engine/apply.py): its callers lose
    its URL, and requests fail in between. A reviewer must read that in every rendering, as
    Terraform's `-/+ destroy and then create replacement`, not only that a field "cannot change
    in place"."""
    case = FIXTURES / "plans" / "replace-load-balancer"
    for fmt in ("text", "markdown", "json"):
        result = run_cli(["serverless", "deploy", "--plan", "--observed", "observed.json", "--provider", "runpod", "--format", fmt], cwd=case)
        assert result.code == 0, result.err
        assert "deleted and created again" in result.out and "new id and URL" in result.out, (fmt, result.out)


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_a_plan_in_sync_never_loads_the_key_locator(fmt):
    """The gpu.jsonc key of each changed field is found by gpuctl.config.locate (and
    from_account), imported at the first changed field: a plan that changes nothing, in any
    format, never imports them. A plan with changes does, so the check can fail."""
    code = ("import io, sys; from gpuctl.cli import main; from gpuctl.cli.context import AppContext; "
            "import json; env = {'PATH': '', 'NO_COLOR': '1', 'HOME': '/nonexistent/gpuctl-test-home'} | json.load(open('case.json'))['env']; "
            f"main(['serverless', 'deploy', '--plan', '--observed', 'observed.json', '--provider', 'runpod', '--format', '{fmt}'], "
            "AppContext(environ=env, cwd=__import__('pathlib').Path('.'), stdout=io.StringIO(), stderr=io.StringIO())); "
            "print(sorted(m for m in ('gpuctl.config.locate', 'gpuctl.config.from_account') if m in sys.modules))")
    loaded = {case: subprocess.run([sys.executable, "-c", code], cwd=FIXTURES / "plans" / case, capture_output=True, text=True, check=True).stdout.split("\n")[-2]
              for case in ("product-full-nochange", "drift-update")}
    assert loaded == {"product-full-nochange": "[]", "drift-update": "['gpuctl.config.from_account', 'gpuctl.config.locate']"}
