"""`-` is no file name (review 2 L6): `deploy --out -` wrote a file named "-" and
`--from-plan -` read it back. Every option that reads or writes a named plan or snapshot file
refuses it as a usage error that says what does the stdin/stdout job instead, and so does every
path option of `gpu github` (a job reads and writes named files only), and, by one mechanism
(gpuctl.cli.paths), every other path option: `config validate --config -` read a directory
named "-" and `local secret set --data-dir -` made one."""

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
    kind = "directory" if option == "--plan-dir" else "file"
    assert f'error: invalid value for {option} of `gpu {" ".join(args[:2])}`: must be a {kind} name, not "-": {instead}' in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert sorted(p.name for p in proj.iterdir()) == sorted(["gpu.jsonc"] + (["-"] if "--observed" in args else []))


CONFIG = "give the path of gpu.jsonc (gpu reads no config from stdin; to check text you have, write it to a file first)"
DATA_DIR = "give the local provider's state directory, or leave --data-dir out for the default"


@pytest.mark.parametrize("args, kind, instead", [
    (["config", "validate", "--config", "-"], "file", CONFIG),
    (["serverless", "deploy", "--plan", "--config", "-"], "file", CONFIG),
    (["serverless", "snapshot", "--config", "-"], "file", CONFIG),
    (["serverless", "list", "--config", "-"], "file", CONFIG),
    (["serverless", "rollback", "echo", "--to", "1", "--config", "-"], "file", CONFIG),
    (["doctor", "--config", "-"], "file", CONFIG),
    (["serverless", "status", "echo", "--record", "-"], "directory", "give the directory to record into, such as --record rec/ (it is created when missing)"),
    (["local", "secret", "list", "--data-dir", "-"], "directory", DATA_DIR),
    (["local", "status", "--data-dir", "-"], "directory", DATA_DIR),
], ids=["validate-config", "deploy-config", "snapshot-config", "list-config", "rollback-config", "doctor-config", "record", "secret-data-dir", "local-data-dir"])
def test_a_dash_for_any_other_path_is_a_usage_error_too(tmp_path, args, kind, instead):
    proj = project(tmp_path / "p", echo_config())
    done = _gpu(*args, cwd=proj)
    assert done.returncode == 1, done.stdout + done.stderr
    command = " ".join(a for a in args[:3] if not a.startswith("-") and a not in ("echo",))
    assert f'error: invalid value for {args[-2]} of `gpu {command}`: must be a {kind} name, not "-": {instead}' in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert sorted(p.name for p in proj.iterdir()) == ["gpu.jsonc"]  # no "-" made


def _parameters(command, path=("gpu",)):
    import click

    if isinstance(command, click.Group):
        context = click.Context(command)
        for name in command.list_commands(context):
            yield from _parameters(command.get_command(context, name), (*path, name))
    else:
        for param in command.params:
            yield " ".join(path), param


def test_every_path_parameter_of_the_cli_refuses_a_dash():
    """The one mechanism: a bare click.Path takes "-" as a file name (allow_dash or not, it is a
    path then), so none is left; every path option or argument is a paths.NamedFile, which says
    what to give instead."""
    import click

    from gpuctl.cli import cli
    from gpuctl.cli.paths import NamedFile

    paths = [(where, param) for where, param in _parameters(cli) if isinstance(param.type, click.Path)]
    assert len(paths) > 20  # the walk reached the lazily loaded commands
    assert [f"{where} {param.opts[0]}" for where, param in paths if not isinstance(param.type, NamedFile)] == []
