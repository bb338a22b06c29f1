"""`deploy --wait-healthy`: the CI gate after apply, against real workers of the local provider.
A good release passes its smoke input; a release whose worker fails it exits 5 and, with
--rollback-on-failure, the endpoint is back on the configuration of the version before."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import echo_config, project

SMOKE_WORKER = '''import os
import threading

import runpod


def handler(job):
    if os.environ.get("RELEASE") == "broken":
        raise ValueError("this release cannot answer")
    if os.environ.get("RELEASE") == "stuck":  # says it has the job, then never answers
        open(os.environ["STARTED"], "w").close()
        threading.Event().wait()
    return {"ok": True, "release": os.environ.get("RELEASE")}


runpod.serverless.start({"handler": handler})
'''


def _project(tmp_path, release: str):
    config = echo_config(name="smoky", env={"RELEASE": release} | ({"STARTED": str(tmp_path / "started")} if release == "stuck" else {}))
    return project(tmp_path / "p", config, {"handler.py": SMOKE_WORKER, "smoke.json": json.dumps({"input": {"prompt": "ping"}})})


def _history(account, proj) -> dict:
    result = account.gpu("serverless", "history", "smoky", "--json", cwd=proj)
    assert result.code == 0, result.err
    return result.json()


def test_a_good_release_passes_the_smoke_input_on_a_real_worker(account, tmp_path):
    proj = _project(tmp_path, "good")
    result = account.gpu("serverless", "deploy", "-y", "--json", "--wait-healthy", "--smoke", "smoke.json", cwd=proj, timeout=300)
    assert result.code == 0, result.err
    health = result.json()["health"]
    [endpoint] = health["endpoints"]
    assert health["healthy"] and endpoint["healthy"]
    rollout, smoke = endpoint["steps"]
    assert rollout["step"] == "rollout" and rollout["status"] == "passed"
    assert smoke["step"] == "smoke" and smoke["route"] == "run" and smoke["status"] == "passed"
    assert smoke["job"]["status"] == "COMPLETED" and smoke["job"]["workerId"]  # a worker cold-started for it


@pytest.mark.parametrize("rollback", [True, False], ids=["rollback", "no-rollback"])
def test_a_release_that_fails_its_smoke_input_exits_5_and_is_rolled_back_when_asked(account, tmp_path, rollback):
    proj = _project(tmp_path, "good")
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    before = _history(account, proj)["endpoint_version"]
    _project(tmp_path, "broken")
    flags = ["--rollback-on-failure"] if rollback else []
    result = account.gpu("serverless", "deploy", "-y", "--json", "--wait-healthy", "--smoke", "smoke.json", *flags, cwd=proj, timeout=300)
    assert result.code == 5, result.err
    assert "failed the health gate" in result.err and "this release cannot answer" in result.err
    [endpoint] = result.json()["health"]["endpoints"]
    smoke = endpoint["steps"][1]
    assert smoke["status"] == "failed" and smoke["job"]["status"] == "FAILED" and smoke["job"]["workerId"]
    [live] = account.endpoints()
    if rollback:
        step = endpoint["steps"][2]
        assert step == {"step": "rollback", "status": "passed", "from_version": before + 1, "to_version": before, "new_version": before + 2}
        assert live["env"]["RELEASE"] == "good"
        assert _history(account, proj)["endpoint_version"] == before + 2
        assert "gpu.jsonc now differs from the account" in result.err
    else:
        assert len(endpoint["steps"]) == 2 and live["env"]["RELEASE"] == "broken"


def test_health_flags_need_wait_healthy_and_an_apply(account, tmp_path):
    proj = _project(tmp_path, "good")
    alone = account.gpu("serverless", "deploy", "-y", "--smoke", "smoke.json", cwd=proj)
    assert alone.code == 1 and "--smoke only works with --wait-healthy" in alone.err, alone.err
    both = account.gpu("serverless", "deploy", "-y", "--smoke", "smoke.json", "--rollback-on-failure", cwd=proj)
    assert both.code == 1 and "--smoke and --rollback-on-failure only work with --wait-healthy" in both.err, both.err
    planned = account.gpu("serverless", "deploy", "--plan", "--wait-healthy", cwd=proj)
    assert planned.code == 1 and "--plan and --out apply nothing" in planned.err
    (proj / "bad.json").write_text("[1, 2]")
    bad = account.gpu("serverless", "deploy", "-y", "--wait-healthy", "--smoke", "bad.json", cwd=proj)
    assert bad.code == 1 and "not a JSON object" in bad.err
    assert account.writes() == 0


def test_a_smoke_file_s_errors_speak_of_smoke_not_of_invoke_s_input(account, tmp_path):
    """--smoke FILE is read as invoke's --input @PATH is, but its errors are its own: a missing
    file gave --input's hint ("@PATH names a JSON file…; a literal needs no @, and - reads
    stdin"), none of which --smoke takes."""
    proj = _project(tmp_path, "good")
    (proj / "bad.json").write_text('{"input": ')
    for name, said in (("nope.json", "cannot read the --smoke file nope.json: it does not exist"),
                       ("bad.json", "the smoke input is not valid JSON")):
        result = account.gpu("serverless", "deploy", "-y", "--wait-healthy", "--smoke", name, cwd=proj)
        assert result.code == 1 and f"error: {said}" in result.err, result.err
        assert "@PATH" not in result.err and "stdin" not in result.err and "job input" not in result.err.splitlines()[0], result.err
    assert f"hint: --smoke FILE names a JSON file of the job the health gate sends, relative to {proj}" in account.gpu(
        "serverless", "deploy", "-y", "--wait-healthy", "--smoke", "nope.json", cwd=proj).err
    assert account.writes() == 0


def test_a_failing_endpoint_whose_release_this_deploy_did_not_change_is_not_said_to_be_rolled_back(account, tmp_path):
    """Only workers.max changed, which is no part of a release: the gate said "rolled back to
    the configuration of version 1 (now version 1)", "rollback passed" and "gpu.jsonc now differs
    from the account", none of it true: the change stood and drift was in sync (review F14)."""
    proj = _project(tmp_path, "broken")
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    before = _history(account, proj)["endpoint_version"]
    config = echo_config(name="smoky", env={"RELEASE": "broken"}, max_workers=3)
    project(proj, config)
    result = account.gpu("serverless", "deploy", "-y", "--json", "--wait-healthy", "--smoke", "smoke.json", "--rollback-on-failure", cwd=proj, timeout=300)
    assert result.code == 5, result.err
    [endpoint] = result.json()["health"]["endpoints"]
    step = endpoint["steps"][2]
    assert step["step"] == "rollback" and step["status"] == "skipped", step
    assert "there is nothing to roll back" in step["reason"] and f"version {before}" in step["reason"], step
    assert "rolled back to" not in result.err and "now differs from the account" not in result.err, result.err
    assert "smoky: not rolled back: this deploy changed none of the fields of its release" in result.err, result.err
    assert "hint: the apply itself is done and stands" in result.err, result.err
    assert account.endpoints()[0]["workers"]["max"] == 3
    assert _history(account, proj)["endpoint_version"] == before
    assert account.gpu("serverless", "drift", cwd=proj).code == 0  # in sync, as the hint no longer denies


def test_an_interrupt_while_the_smoke_job_runs_names_the_job_and_the_commands(account, tmp_path):
    """The smoke input went by /runsync, so an interrupt while the job ran named no job: one
    that kept running (and billing) with no way to find it. It goes by /run and /status polls,
    as `invoke` sends a job, and an interrupt names the job and how to see and cancel it."""
    import re
    import signal

    from tests.support.terminal import Output
    from tests.support.wait import until

    proj = _project(tmp_path, "stuck")
    process = account.popen("serverless", "deploy", "-y", "--wait-healthy", "--smoke", "smoke.json", cwd=proj)
    err = Output.of_pipe(process.stderr)
    until(lambda: (tmp_path / "started").exists() or process.poll() is not None, "the worker to take the smoke job")
    assert process.poll() is None, err.rest()
    process.send_signal(signal.SIGTERM)
    said = err.rest()
    process.stdout.close()
    assert process.wait(timeout=120) == 130, said
    named = re.search(r"interrupted: smoke job (\S+) (keeps running on smoky|was in the queue of smoky when gpu last looked)", said)
    assert named, said
    job = named.group(1)
    assert f"`gpu serverless job status smoky {job}`" in said and f"`gpu serverless job cancel smoky {job}`" in said, said
    assert "Applied, then interrupted:" in said, said
    cancelled = account.gpu("serverless", "job", "cancel", "smoky", job, cwd=proj)  # the command it names reaches that job
    assert cancelled.code == 0 and f"job {job}: CANCELLED" in cancelled.out, cancelled.out + cancelled.err
