"""`gpu serverless invoke` shows a live status line on a terminal while it waits (issue 8,
item 7): queued, then running, with the job id and the time waited, gone when the result is
printed; with stderr not a terminal it writes nothing of it. The worker (workers/gated.py)
starts serving, and finishes its job, only when the test creates a file, so each state lasts
until the test has seen it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.e2e.conftest import Account, echo_config, project
from tests.support.terminal import Terminal
from tests.support.wait import DEADLINE_S, until

GATED = (Path(__file__).parent / "workers" / "gated.py").read_text()
ERASE_LINE = "\x1b[2K"


def gated_project(account: Account, root: Path) -> Path:
    block = echo_config(name="gated", max_workers=1, idle_timeout=120)["serverless"] | {"local": {"command": ["python", "gated.py"]}}
    proj = project(root / "p", {"project_id": "e2e-line", "serverless": block}, {"gated.py": GATED})
    deployed = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj)
    assert deployed.code == 0, deployed.err
    return proj


def invoke_args(release: Path) -> list[str]:
    return ["serverless", "invoke", "gated", "--input", json.dumps({"release": str(release)}), "--provider", "local"]


def test_a_terminal_sees_queued_then_running_then_the_result(account, tmp_path):
    proj = gated_project(account, tmp_path)
    release = tmp_path / "release"
    terminal = Terminal(invoke_args(release), proj, account.env)
    terminal.wait_for("queued · job")
    (proj / "start").touch()
    terminal.wait_for("running · job")
    release.touch()
    code, out = terminal.exit_code(), terminal.transcript
    assert code == 0, out
    queued, running, result = out.index("queued · job"), out.index("running · job"), out.index('"released"')
    assert queued < running < result, out
    job_id = re.search(r"queued · job (\S+)", out)[1]
    assert f"running · job {job_id}" in out and re.search(r"\d:\d\d:\d\d", out[queued:result]), out
    last_line = out.rindex("running · job")
    assert ERASE_LINE in out[last_line:result], "the status line was not cleared before the result"
    assert " · job " not in out[result:]


def _polled_while_running(account, tmp_path):
    """`invoke` of the gated worker, once it has polled its job while the job was queued (the
    worker has not started: no `start` file) and again while the provider has it running (it
    cannot end before `release` exists): (the process, the release file, the job id)."""
    proj = gated_project(account, tmp_path)
    release = tmp_path / "release"
    endpoint_id = next(e["id"] for e in account.endpoints() if e["name"] == "gated")
    polled = lambda: [r["path"].rsplit("/", 1)[1] for r in account.requests() if f"/{endpoint_id}/status/" in r["path"]]  # noqa: E731
    state = lambda job_id: account.server.job(endpoint_id, f"status/{job_id}", method="GET").json()["status"]  # noqa: E731
    process = account.popen(*invoke_args(release), "--wait-ms", "1000", cwd=proj)
    try:
        job_id = until(lambda: polled() and polled()[-1], "invoke to poll its job")
        assert state(job_id) == "IN_QUEUE"
        (proj / "start").touch()
        until(lambda: state(job_id) == "IN_PROGRESS", f"job {job_id} to run")
        polls = len(polled())
        until(lambda: len(polled()) > polls, "invoke to poll its job while it runs")
    except BaseException:
        process.kill()
        release.touch()
        raise
    return process, release, job_id


def test_without_a_terminal_stderr_stays_empty(account, tmp_path):
    """invoke polls the job while it is queued and again while it runs, and writes no status
    line for either."""
    process, release, _ = _polled_while_running(account, tmp_path)
    try:
        release.touch()
        out, err = process.communicate(timeout=DEADLINE_S)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert json.loads(out) == {"released": str(release)}
    assert err == ""


def test_ctrl_c_while_the_job_runs_says_it_keeps_running_not_that_it_is_queued(account, tmp_path):
    """invoke kept the /runsync answer (IN_QUEUE) as the job's state while it polled, so a Ctrl-C
    after the polls had seen the job running said it "stays in the queue until a worker takes
    it", which sends the user looking for a worker problem that is not there."""
    import signal

    process, release, job_id = _polled_while_running(account, tmp_path)
    try:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=DEADLINE_S)
    finally:
        process.kill()
        release.touch()
    assert process.returncode == 130, err
    assert f"interrupted: job {job_id} keeps running on gated" in err, err
    assert "stays in the queue" not in err, err
