"""`gpu doctor`'s plan check with a gpu.jsonc it cannot plan as it is, through the real CLI
against the local provider: an error keeps what `deploy` would say (file:line:col, the key,
the message and its hint), in text and --json; an unset `${VAR}` is an unknown value, as for
`deploy --plan` (ADR 24): the check names what it could not compare and warns, and no secret
value is ever printed."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import Account, echo_config, project

SECRET = "doctor-canary-secret-7d31"


def _plan_check(run) -> dict:
    return next(c for c in run.json()["checks"] if c["id"] == "plan")


def test_a_config_that_does_not_exist_fails_with_the_reason_and_its_hint(account: Account, tmp_path: Path):
    missing = tmp_path / "nope.jsonc"
    deploy = account.gpu("serverless", "deploy", "--plan", "--config", str(missing), cwd=tmp_path)
    assert deploy.code == 1
    summary, reason, hint = deploy.err.strip().splitlines()  # error: ... could not be read / where: does not exist / hint: ...
    run = account.gpu("doctor", "--config", str(missing), cwd=tmp_path)
    assert run.code == 6, run.out + run.err
    assert f"cannot plan: {summary.removeprefix('error: ')}" in run.out
    where, because = reason.split(": ", 1)
    assert because.endswith("does not exist") and f"{where}: error: {because}" in run.out, run.out
    assert f"fix: {hint.strip().removeprefix('hint: ')}" in run.out and "gpu config validate" not in run.out
    assert "Traceback" not in run.out + run.err
    plan = _plan_check(account.gpu("doctor", "--json", "--config", str(missing), cwd=tmp_path))
    assert plan["verdict"] == "fail" and plan["summary"] == f"cannot plan: {summary.removeprefix('error: ')}"
    assert plan["problems"] == [{"path": where, "kind": "error", "message": because}]
    assert plan["fix"] == "check the path given to --config"  # it was named with --config


def test_a_located_config_error_keeps_file_line_col_key_and_hint(account: Account, tmp_path: Path):
    config = echo_config(env={"TOKEN": "${not-a-name}"})
    proj = project(tmp_path / "p", config)
    deploy = account.gpu("serverless", "deploy", "--plan", cwd=proj)
    assert deploy.code == 1
    located = next(line for line in deploy.err.splitlines() if "malformed reference" in line)  # gpu.jsonc:L:C: key: message
    run = account.gpu("doctor", cwd=proj)
    assert run.code == 6, run.out + run.err
    assert located.startswith("gpu.jsonc:") and located.replace(": malformed", ": error: malformed", 1) in run.out, run.out
    assert "fix: write ${NAME} with letters, digits and '_'" in run.out and "gpu config validate" not in run.out
    plan = _plan_check(account.gpu("doctor", "--json", cwd=proj))
    (problem,) = plan["problems"]
    assert problem["path"] == located.rsplit(": malformed", 1)[0] and problem["message"].startswith("malformed reference")


def test_an_unset_variable_is_unknown_and_the_check_names_what_it_could_not_compare(account: Account, tmp_path: Path):
    config = echo_config(env={"TOKEN": "${CANARY_VAR}"})
    proj = project(tmp_path / "p", config)
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env={"CANARY_VAR": SECRET}).code == 0
    writes = account.writes()

    run = account.gpu("doctor", cwd=proj)
    assert run.code == 0, run.out + run.err  # a warning: doctor could not compare one value, nothing is wrong
    assert "warn  Plan has no differences of form alone:" in run.out
    assert "endpoint.echo: env.TOKEN: unknown: (from $CANARY_VAR, unknown in this run)" in run.out
    assert "fix: export CANARY_VAR=..." in run.out
    as_json = account.gpu("doctor", "--json", cwd=proj)
    plan = _plan_check(as_json)
    assert plan["verdict"] == "warn" and "CANARY_VAR" in plan["summary"] and "CANARY_VAR" in plan["fix"]
    assert {"path": "endpoint.echo: env.TOKEN", "kind": "unknown", "message": "(from $CANARY_VAR, unknown in this run)"} in plan["problems"]

    with_it = account.gpu("doctor", "--json", cwd=proj, env={"CANARY_VAR": SECRET})
    assert with_it.code == 0 and _plan_check(with_it)["verdict"] == "pass"
    assert account.writes() == writes
    for done in (run, as_json, with_it):
        assert SECRET not in done.out + done.err
