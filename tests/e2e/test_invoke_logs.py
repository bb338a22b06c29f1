"""invoke, job status|cancel and logs as a user runs them, against real workers of the local
provider over loopback (issue 5, items 6 and 7). One server and one deploy serve the module:
workers start on the first job, so each endpoint pays its cold start once."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.conftest import STAYS, Account, echo_config, project
from tests.local.conftest import start_server, stop_server
from tests.support.terminal import Output
from tests.support.wait import DEADLINE_S, until

WORKERS = Path(__file__).parent / "workers"


def block(name: str, handler: str) -> dict:
    config = echo_config(name=name, idle_timeout=STAYS)["serverless"]
    return config | {"runpod": {"image_name": "ghcr.io/example/worker:0.1.0"}, "local": {"command": ["python", handler]}}


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Account, Path]]:
    """Endpoints talk (prints, echoes, sleeps or raises on request), gen (a generator), and
    quiet, late and lost (talkers that no test has called yet)."""
    root = tmp_path_factory.mktemp("invoke")
    server = start_server(root / "provider")
    (root / "home").mkdir()
    account = Account(server, root / "home")
    blocks = [block("talk", "talker.py"), block("gen", "counter.py"), block("quiet", "talker.py"), block("late", "talker.py"),
              block("lost", "talker.py")]
    files = {name: (WORKERS / name).read_text() for name in ("talker.py", "counter.py")}
    proj = project(root / "p", {"project_id": "e2e-invoke", "serverless": blocks}, files)
    try:
        deployed = account.gpu("serverless", "deploy", "-y", cwd=proj)
        assert deployed.code == 0, deployed.err
        yield account, proj
    finally:
        stop_server(server)


def gpu_with_stdin(account: Account, proj: Path, text: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gpuctl", *args], cwd=proj, env=account.env, input=text,
                          capture_output=True, text=True, timeout=60)


def account_id(account: Account, name: str) -> str:
    return next(e["id"] for e in account.endpoints() if e["name"] == name)


def status_polls(account: Account) -> list[dict]:
    return [r for r in account.requests() if "/status/" in r["path"]]


def interrupt(process: subprocess.Popen) -> int:
    """SIGINT, as Ctrl-C sends; the exit code."""
    process.send_signal(signal.SIGINT)
    return process.wait(timeout=DEADLINE_S)


def test_invoke_prints_the_workers_output(deployed):
    account, proj = deployed
    result = account.gpu("serverless", "invoke", "talk", "--input", '{"prompt": "hello"}', cwd=proj)
    assert result.code == 0, result.err
    assert json.loads(result.out) == {"echo": {"prompt": "hello"}}
    by_id = account.gpu("serverless", "invoke", account_id(account, "talk"), "--json", cwd=proj)
    assert by_id.code == 0 and by_id.json()["status"] == "COMPLETED" and by_id.json()["output"] == {"echo": {}}



def test_invoke_gets_its_result_when_the_workers_take_answer_was_lost(deployed):
    """The server hands the job to the worker's job-take, and the answer is lost on the way (the
    worker sees a 500 and polls again). The job waited IN_PROGRESS for its whole execution
    timeout, and so did invoke; the worker's heartbeat never lists it, so it goes back to the
    queue and the same worker's next take runs it."""
    account, proj = deployed
    account.faults({"op": "take", "kind": "worker", "action": "commit_then_fail", "times": 1})
    try:
        result = account.gpu("serverless", "invoke", "lost", "--input", '{"prompt": "lost on the way"}', cwd=proj)
        fired = account.server.admin("GET", "faults")["rules"][0]["fired"]
    finally:
        account.clear_faults()
    assert fired == 1, "the take's answer was lost"
    assert result.code == 0, result.err
    assert json.loads(result.out) == {"echo": {"prompt": "lost on the way"}}


def test_async_returns_the_id_and_job_status_reaches_completed(deployed):
    account, proj = deployed
    queued = account.gpu("serverless", "invoke", "talk", "--async", "--input", '{"prompt": "later"}', cwd=proj)
    assert queued.code == 0, queued.err
    job_id = queued.out.strip()
    assert job_id.endswith("-u1") and f"gpu serverless job status talk {job_id}" in queued.err

    def completed():
        doc = account.gpu("serverless", "job", "status", "talk", job_id, "--json", cwd=proj).json()
        return doc if doc["status"] == "COMPLETED" else None

    assert until(completed, f"job {job_id} to complete", every=0.3)["output"] == {"echo": {"prompt": "later"}}
    shown = account.gpu("serverless", "job", "status", "talk", job_id, cwd=proj)
    assert shown.code == 0 and re.search(r"status:\s+COMPLETED", shown.out) and '"prompt": "later"' in shown.out


def test_stream_prints_every_chunk_in_order(deployed):
    account, proj = deployed
    result = account.gpu("serverless", "invoke", "gen", "--stream", "--input", '{"count": 5, "delay": 0.1}', cwd=proj)
    assert result.code == 0, result.err
    assert result.out.splitlines() == [json.dumps({"n": n}) for n in range(5)]


def test_a_raising_handler_exits_1_with_its_error(deployed):
    account, proj = deployed
    result = account.gpu("serverless", "invoke", "talk", "--input", '{"fail": "no such model"}', cwd=proj)
    assert result.code == 1 and result.out == ""
    assert "failed: ValueError: no such model" in result.err and "Traceback" not in result.err


def test_a_huge_error_message_is_shortened_on_stderr_and_whole_in_json(deployed):
    """A handler that put 100 kB into its exception: invoke printed all of it as one stderr
    line, and `job status` as one text line, burying the command's own words and the hint."""
    account, proj = deployed
    huge = "no such model " + "y" * 100_000
    result = account.gpu("serverless", "invoke", "talk", "--input", json.dumps({"fail": huge}), cwd=proj)
    assert result.code == 1 and result.out == ""
    assert "failed: ValueError: no such model yyy" in result.err and len(result.err) < 3_000, len(result.err)
    assert "more characters: see the job with --json" in result.err and "job status talk" in result.err, result.err[-500:]
    job_id = re.search(r"job (\S+) failed", result.err).group(1)
    text = account.gpu("serverless", "job", "status", "talk", job_id, cwd=proj)
    assert text.code == 0 and len(text.out) < 3_000 and "more characters" in text.out, len(text.out)
    whole = account.gpu("serverless", "job", "status", "talk", job_id, "--json", cwd=proj)
    assert huge in whole.json()["error"]


def test_input_from_a_file_and_from_stdin(deployed):
    account, proj = deployed
    (proj / "job.json").write_text('{"input": {"prompt": "from a file"}}')
    from_file = account.gpu("serverless", "invoke", "talk", "--input", "@job.json", cwd=proj)
    assert from_file.code == 0, from_file.err
    assert json.loads(from_file.out) == {"echo": {"prompt": "from a file"}}
    from_stdin = gpu_with_stdin(account, proj, '{"prompt": "from stdin"}\n', "serverless", "invoke", "talk", "--input", "-")
    assert from_stdin.returncode == 0, from_stdin.stderr
    assert json.loads(from_stdin.stdout) == {"echo": {"prompt": "from stdin"}}


def test_bad_json_is_located_and_sends_nothing(deployed):
    account, proj = deployed
    sent = sum(r["path"].endswith(("/run", "/runsync")) for r in account.requests())
    literal = account.gpu("serverless", "invoke", "talk", "--input", '{"prompt": "x",}', cwd=proj)
    assert literal.code == 1 and "--input:1:15: a trailing comma before '}'" in literal.err and "Traceback" not in literal.err
    (proj / "bad.json").write_text('{\n  "prompt":\n}\n')
    from_file = account.gpu("serverless", "invoke", "talk", "--input", "@bad.json", cwd=proj)
    assert from_file.code == 1 and "bad.json:3:1: Expecting value" in from_file.err
    assert sum(r["path"].endswith(("/run", "/runsync")) for r in account.requests()) == sent


def test_an_input_over_runpods_size_limit_is_refused_before_it_is_sent(deployed):
    """RunPod takes 20 MB on /runsync and 10 MB on /run: gpu said nothing until the whole body
    was uploaded and the endpoint answered 400 with no hint; now it names the file, the limit
    of the route the flags choose, and what to do instead, and sends nothing."""
    account, proj = deployed
    sent = sum(r["path"].endswith(("/run", "/runsync")) for r in account.requests())
    (proj / "huge.json").write_text(json.dumps({"prompt": "a" * (20 * 1024 * 1024)}))
    (proj / "mid.json").write_text(json.dumps({"prompt": "a" * (12 * 1024 * 1024)}))
    huge = account.gpu("serverless", "invoke", "talk", "--input", "@huge.json", cwd=proj)
    assert huge.code == 1 and "RunPod's /runsync accepts at most 20 MB" in huge.err and "in huge.json" in huge.err, huge.err
    assert "by reference" in huge.err and "Traceback" not in huge.err
    for flag in ("--async", "--stream"):
        mid = account.gpu("serverless", "invoke", "talk", "--input", "@mid.json", flag, cwd=proj)
        assert mid.code == 1 and "RunPod's /run accepts at most 10 MB" in mid.err and "/runsync takes up to 20 MB" in mid.err, mid.err
    assert sum(r["path"].endswith(("/run", "/runsync")) for r in account.requests()) == sent


def test_invoke_queues_by_run_and_a_request_only_runsync_takes_goes_by_runsync(deployed):
    """invoke queues by /run, so it knows the job id before it waits (an interrupt can name it);
    a request over /run's 10 MB still runs, by /runsync, the one route that takes 20 MB."""
    account, proj = deployed
    routes = lambda: [r["path"].rsplit("/", 1)[1] for r in account.requests() if r["path"].endswith(("/run", "/runsync"))]  # noqa: E731
    before = len(routes())
    small = account.gpu("serverless", "invoke", "talk", "--input", '{"prompt": "small"}', cwd=proj)
    assert small.code == 0 and small.json() == {"echo": {"prompt": "small"}}, small.err
    assert routes()[before:] == ["run"]
    (proj / "mid.json").write_text(json.dumps({"prompt": "a" * (12 * 1024 * 1024)}))
    mid = account.gpu("serverless", "invoke", "talk", "--input", "@mid.json", "--json", cwd=proj)
    assert mid.code == 0 and mid.json()["status"] == "COMPLETED", mid.err[-2000:]
    assert routes()[before:] == ["run", "runsync"]


def test_an_input_file_that_cannot_be_read_says_how_to_fix_it(deployed):
    account, proj = deployed
    missing = account.gpu("serverless", "invoke", "talk", "--input", "@nope.json", cwd=proj)
    assert missing.code == 1 and "cannot read the input file nope.json: it does not exist" in missing.err
    assert f"hint: @PATH names a JSON file, relative to {proj}" in missing.err and "- reads stdin" in missing.err
    (proj / "latin1.json").write_bytes(b'{"prompt": "caf\xe9"}')
    latin1 = account.gpu("serverless", "invoke", "talk", "--input", "@latin1.json", cwd=proj)
    assert latin1.code == 1 and "it is not UTF-8 text" in latin1.err and "save the file as UTF-8" in latin1.err


def test_timeout_leaves_the_job_running_and_job_cancel_stops_it(deployed):
    account, proj = deployed
    # a duration as every other waiting flag takes it (warm --timeout 15m, --lock-timeout 5m)
    waited = account.gpu("serverless", "invoke", "talk", "--input", '{"sleep": 60}', "--timeout", "1.5s", cwd=proj)
    assert waited.code == 1 and "did not end within --timeout 1.5 s (it is" in waited.err, waited.err  # the value typed, not "the timeout"
    job_id = re.search(r"job (\S+) did not end", waited.err).group(1)
    assert f"gpu serverless job status talk {job_id}" in waited.err
    assert account.gpu("serverless", "job", "status", "talk", job_id, "--json", cwd=proj).json()["status"] in ("IN_QUEUE", "IN_PROGRESS")
    cancelled = account.gpu("serverless", "job", "cancel", "talk", job_id, cwd=proj)
    assert cancelled.code == 0 and f"job {job_id}: CANCELLED" in cancelled.out
    assert account.gpu("serverless", "job", "status", "talk", job_id, "--json", cwd=proj).json()["status"] == "CANCELLED"


def test_ctrl_c_while_waiting_says_the_job_keeps_running(deployed):
    account, proj = deployed
    polls = len(status_polls(account))
    waiting = account.popen("serverless", "invoke", "talk", "--input", '{"sleep": 60}', "--wait-ms", "1000", cwd=proj)
    until(lambda: len(status_polls(account)) > polls, "invoke to poll its job's status")  # past the 1 s sync wait: the job id is known
    code, err = interrupt(waiting), waiting.stderr.read()
    # the job goes on: running, or still queued while its worker starts (said as such)
    assert code == 130 and ("keeps running on talk" in err or "was in the queue of talk when gpu last looked" in err) and "gpu serverless job cancel talk" in err, err
    job_id = re.search(r"job (\S+) (keeps running|was in the queue)", err).group(1)
    assert account.gpu("serverless", "job", "cancel", "talk", job_id, cwd=proj).code == 0


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupt_before_the_job_ends_prints_an_id_that_status_and_cancel_take(deployed, tmp_path, signum):
    """invoke sent /runsync and held it up to 20 s: a Ctrl-C (or a CI runner's SIGTERM) in that
    hold left the user no job id ("interrupted before talk answered"), while the job ran on and
    billed. The id is now known before any wait, so the interrupt names it, and it works."""
    account, proj = deployed
    release, prompt = tmp_path / "release", f"held-{signum.name}"
    invoking = account.popen("serverless", "invoke", "talk", "--input", json.dumps({"prompt": prompt, "release": str(release)}), cwd=proj)
    try:
        until(lambda: f"talker got '{prompt}'" in account.gpu("serverless", "logs", "talk", cwd=proj).out, "a worker to run the job")
        invoking.send_signal(signum)
        code, err = invoking.wait(timeout=DEADLINE_S), invoking.stderr.read()
        assert code == 130 and "before talk answered" not in err, err
        # running, or (had the interrupt come before invoke's first /status) last seen queued
        job_id = re.search(r"interrupted: job (\S+) (keeps running on talk|was in the queue of talk)", err).group(1)
        assert f"gpu serverless job cancel talk {job_id}" in err, err
        assert account.gpu("serverless", "job", "status", "talk", job_id, "--json", cwd=proj).json()["status"] == "IN_PROGRESS"
        cancelled = account.gpu("serverless", "job", "cancel", "talk", job_id, cwd=proj)
        assert cancelled.code == 0 and f"job {job_id}: CANCELLED" in cancelled.out, cancelled.err
    finally:
        release.write_text("")
        invoking.kill()


def test_ctrl_c_of_a_stream_whose_job_runs_never_says_it_is_queued(deployed, tmp_path):
    """--stream waits in /stream with /run's answer (IN_QUEUE) as the last state it saw: Ctrl-C
    said the job "stays in the queue of talk until a worker takes it" while a worker ran it."""
    account, proj = deployed
    release = tmp_path / "release"
    streaming = account.popen("serverless", "invoke", "talk", "--stream", "--input", json.dumps({"prompt": "held-stream", "release": str(release)}), cwd=proj)
    try:
        until(lambda: "talker got 'held-stream'" in account.gpu("serverless", "logs", "talk", cwd=proj).out, "a worker to run the job")
        code, err = interrupt(streaming), streaming.stderr.read()
    finally:
        release.write_text("")
        streaming.kill()
    assert code == 130 and "stays in the queue" not in err, err
    assert "keeps running on talk" in err or "when gpu last looked" in err, err


def test_logs_show_what_the_handler_printed_with_the_worker_prefix(deployed):
    account, proj = deployed
    # the lines from before the job on: an idle worker's SDK keeps logging its polls, so a last
    # N lines (--tail, or the default 100) could hold none of the job's on a loaded machine
    since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    job = account.gpu("serverless", "invoke", "talk", "--json", "--input", '{"prompt": "needle-7"}', cwd=proj).json()
    worker = job["workerId"]
    result = account.gpu("serverless", "logs", "talk", "--since", since, cwd=proj)
    assert result.code == 0, result.err
    assert f"[{worker}] talker got 'needle-7'" in result.out.splitlines()
    every = account.gpu("serverless", "logs", "talk", "--json", "--since", since, cwd=proj)
    records = [json.loads(line) for line in every.out.splitlines()]
    assert {"worker": worker, "source": "container", "line": "talker got 'needle-7'"} in [
        {k: r[k] for k in ("worker", "source", "line")} for r in records]
    assert [r["ts"] for r in records] == sorted(r["ts"] for r in records)  # workers interleaved in time order
    one = account.gpu("serverless", "logs", "talk", "--worker", worker, "--since", since, cwd=proj)
    assert "talker got 'needle-7'" in one.out.splitlines()  # one worker: no prefix
    assert len(account.gpu("serverless", "logs", "talk", "--worker", worker, "--tail", "2", cwd=proj).out.splitlines()) == 2
    none = account.gpu("serverless", "logs", "talk", "--worker", worker, "--tail", "0", cwd=proj)
    assert none.code == 0 and none.out == "" and "no logs yet" not in none.err, none.err  # it has logs: 0 of them were asked for


def test_logs_of_an_endpoint_without_workers_say_so_at_once(deployed):
    """Without -f, no worker means nothing to wait for: the request log shows one look at the
    workers list and no log stream opened."""
    account, proj = deployed
    endpoint_id = account_id(account, "quiet")
    asked = lambda: [(r["method"], r["path"]) for r in account.requests() if endpoint_id in r["path"]]  # noqa: E731
    before = len(asked())
    result = account.gpu("serverless", "logs", "quiet", cwd=proj)
    assert result.code == 0 and result.out == "" and "has no workers now" in result.err
    assert asked()[before:] == [("GET", f"/v2/serverless/{endpoint_id}/workers")]


def test_logs_follow_picks_up_a_worker_that_starts_later_and_stops_on_ctrl_c(deployed):
    account, proj = deployed
    following = account.popen("serverless", "logs", "late", "-f", cwd=proj)
    try:
        out, err = Output.of_pipe(following.stdout), Output.of_pipe(following.stderr)
        err.wait_for("has no workers yet; waiting for one to start")
        assert account.gpu("serverless", "invoke", "late", "--input", '{"prompt": "late-needle"}', cwd=proj).code == 0
        out.wait_for("talker got 'late-needle'")
        assert interrupt(following) == 0
        assert "Traceback" not in err.rest() and "talker got 'late-needle'" in out.rest()
    finally:
        following.kill()


def test_what_a_worker_writes_is_shown_not_obeyed_by_the_terminal(account, tmp_path):
    """Log lines, a failed job's error in `job status` and a warm-up's handler error were
    printed as the worker wrote them, so a worker could set the terminal's title, clear it or
    write to its clipboard (OSC 52). They are shown with escapes, as every other outside text
    is (gpuctl/safetext.py); --json keeps the exact text, JSON-escaped."""
    config = echo_config(name="rude", idle_timeout=STAYS)
    config["serverless"]["local"]["command"] = ["python", "rude.py"]
    proj = project(tmp_path / "p", config, {"rude.py": (WORKERS / "rude.py").read_text()})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    queued = account.gpu("serverless", "invoke", "rude", "--async", cwd=proj)
    job_id = queued.out.strip()
    status = until(lambda: (r := account.gpu("serverless", "job", "status", "rude", job_id, cwd=proj)) and "FAILED" in r.out and r, "the job failed")
    warm = account.gpu("serverless", "warm", "rude", cwd=proj)
    logs = account.gpu("serverless", "logs", "rude", cwd=proj)
    assert "rude says \\x1b]0;pwned\\x07\\x1b[2Jhi" in logs.out, logs.out
    assert "error:   ValueError: no \\x1b]52;c;cHduZWQ=\\x07 thanks" in status.out
    assert warm.code == 0 and "handler error: no \\x1b]52;c;cHduZWQ=\\x07 thanks" in warm.out, warm.out + warm.err
    for run in (status, warm, logs):
        assert "\x1b" not in run.out + run.err and "\x07" not in run.out + run.err
    as_json = account.gpu("serverless", "logs", "rude", "--json", cwd=proj)
    assert any(json.loads(line)["line"] == "rude says \x1b]0;pwned\x07\x1b[2Jhi" for line in as_json.out.splitlines())


def test_logs_on_a_terminal_keep_a_workers_colours_and_nothing_else(account, tmp_path):
    """Colour codes (SGR: ESC [ digits m) are what `kubectl logs` users see on a terminal, and
    they can only colour text: they are kept there, with a reset at the end of the line so a
    colour never reaches the next one. A cursor move, an erase, an OSC 8 link or a title stay
    escaped; with NO_COLOR, or not on a terminal, colours are escaped too."""
    from tests.support.terminal import Terminal

    config = echo_config(name="colourful", idle_timeout=STAYS)
    config["serverless"]["local"]["command"] = ["python", "colourful.py"]
    proj = project(tmp_path / "p", config, {"colourful.py": (WORKERS / "colourful.py").read_text()})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    assert account.gpu("serverless", "invoke", "colourful", cwd=proj).code == 0
    coloured = Terminal(["serverless", "logs", "colourful"], proj, {k: v for k, v in account.env.items() if k != "NO_COLOR"} | {"TERM": "xterm"})
    assert coloured.exit_code() == 0, coloured.transcript
    assert "\x1b[31mred alert\x1b[0m plain \x1b[1;32mbold green\x1b[0m" in coloured.transcript, coloured.transcript
    assert "moved \\x1b[1;1Hhome \\x1b]8;;https://example.com\\x07link\\x1b]8;;\\x07 \\x1b]0;title\\x07 \\x1b[31;2Jwiped" in coloured.transcript
    plain = Terminal(["serverless", "logs", "colourful"], proj, account.env | {"TERM": "xterm"})  # NO_COLOR=1
    piped = account.gpu("serverless", "logs", "colourful", cwd=proj)
    assert plain.exit_code() == 0 and piped.code == 0
    for out in (plain.transcript, piped.out):
        assert "\\x1b[31mred alert\\x1b[0m plain \\x1b[1;32mbold green" in out and "\x1b" not in out, out


def test_a_worker_missing_a_module_names_the_interpreter_to_install_it_in(account, tmp_path):
    """Day one with `pipx install .` or a wheel: `python handler.py` runs in gpuctl's own
    interpreter, which has no `runpod`. The job failed with the traceback's last line and a hint
    to read the job; where the module must go (not the user's active venv) was said nowhere."""
    handler = "import gpuctl_no_such_module_q7\n"
    proj = project(tmp_path / "p", echo_config(), {"handler.py": handler})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    run = account.gpu("serverless", "invoke", "echo", "--input", "{}", cwd=proj)
    assert run.code == 1 and "No module named 'gpuctl_no_such_module_q7'" in run.err, run.err
    assert f"gpuctl's own interpreter, {sys.executable}" in run.err, run.err  # the server runs in the test's interpreter
    assert f"`{sys.executable} -m pip install gpuctl_no_such_module_q7`" in run.err
    assert "pipx inject gpuctl gpuctl_no_such_module_q7" in run.err


def test_logs_since_a_plain_number_reads_it_as_seconds_like_every_duration_flag(deployed):
    """`--since 100000` is an age in seconds, as a plain number is for --timeout and
    --lock-timeout (gpuctl/cli/durations.py): the stream is asked for lines from about a day ago."""
    account, proj = deployed
    job = account.gpu("serverless", "invoke", "talk", "--json", "--input", '{"prompt": "since-needle"}', cwd=proj).json()
    result = account.gpu("serverless", "logs", "talk", "--worker", job["workerId"], "--since", "100000", cwd=proj)
    assert result.code == 0, result.err
    assert "talker got 'since-needle'" in result.out.splitlines()
    now = account.gpu("serverless", "logs", "talk", "--worker", job["workerId"], "--since", "0", cwd=proj)
    assert now.code == 0 and "talker got 'since-needle'" not in now.out, now.out  # 0 seconds ago: nothing older
    bad = account.gpu("serverless", "logs", "talk", "--since", "ten", cwd=proj)
    assert bad.code == 1 and "a plain number is seconds" in bad.err, bad.err


def test_logs_of_a_worker_id_the_endpoint_never_had_is_an_error_with_a_guess(deployed):
    """A mistyped --worker is an error naming the endpoint and the id, with the live workers
    and a did-you-mean for a near miss; a stopped worker's id still reads (its stream exists)."""
    account, proj = deployed
    job = account.gpu("serverless", "invoke", "talk", "--json", "--input", '{"prompt": "typo-needle"}', cwd=proj).json()
    worker = job["workerId"]
    typo = worker[:-1] + ("x" if worker[-1] != "x" else "y")
    for follow in ((), ("-f",)):
        result = account.gpu("serverless", "logs", "talk", "--worker", typo, *follow, cwd=proj)
        assert result.code == 1, (follow, result.out, result.err)
        assert result.err.startswith("error: ") and "talk" in result.err and typo in result.err, result.err
        assert f'did you mean "{worker}"?' in result.err, result.err
        assert "Traceback" not in result.err
    far = account.gpu("serverless", "logs", "talk", "--worker", "nothing-like-it", cwd=proj)
    assert far.code == 1 and worker in far.err and "did you mean" not in far.err, far.err


UNSEEN = "a\u202eb\x9b31mc\U000e0041"  # a bidi override, an 8-bit CSI, a tag character


def test_json_output_spells_what_a_terminal_would_obey_as_escapes(deployed):
    """JSON written with ensure_ascii=False left an 8-bit CSI (U+009B) and U+202E raw in a job's
    output (`invoke`, `--json` or not): a terminal obeys the one and reorders the line on the
    other. Escaped as `\\u009b`, the value any JSON reader gets is the same."""
    account, proj = deployed
    for args in ((), ("--json",)):
        result = account.gpu("serverless", "invoke", "talk", "--input", json.dumps({"prompt": UNSEEN}), *args, cwd=proj)
        assert result.code == 0, result.err
        assert "\u202e" not in result.out and "\x9b" not in result.out and "\U000e0041" not in result.out, repr(result.out)
        assert "\\u202e" in result.out and "\\u009b" in result.out
        value = json.loads(result.out)
        assert (value["output"] if args else value) == {"echo": {"prompt": UNSEEN}}


def test_plan_json_spells_what_a_terminal_would_obey_as_escapes(account, tmp_path):
    body = {"name": "orphan" + UNSEEN, "type": "QUEUE", "image": "x/y:1" + UNSEEN, "gpu": {"pools": ["ADA_24"]},
            "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}, "env": {"GPUCTL_PROJECT": "e2e"}}
    assert account.server.http.post("/v2/serverless", json=body).status_code == 201
    proj = project(tmp_path / "p", echo_config())
    for args in (("serverless", "deploy", "--plan", "--json"), ("serverless", "drift", "--json")):
        result = account.gpu(*args, cwd=proj)
        assert result.code in (0, 2), result.err
        assert "\u202e" not in result.out and "\x9b" not in result.out and "\U000e0041" not in result.out, args
        assert "orphan" + UNSEEN in json.dumps(result.json(), ensure_ascii=False)  # the exact name, for a JSON reader


def test_a_job_the_api_refuses_blames_the_input_not_gpu_jsonc(account, tmp_path):
    """Review 4, R4-13: a 400 on invoke's own --input (a policy.ttl out of range) ended with the
    provider's general hint, "if its reason names a value from gpu.jsonc, change it there,
    else report it", though the value came from --input."""
    from tests.e2e.conftest import ECHO_HANDLER, echo_config, project

    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    run = account.gpu("serverless", "invoke", "echo", "--input", '{"input": {"prompt": "x"}, "policy": {"ttl": 1}}', cwd=proj)
    assert run.code == 1, run.out + run.err
    assert "rejected (400)" in run.err and "gpu.jsonc" not in run.err, run.err
    assert "the job was never queued: change what its reason names in --input" in run.err, run.err


def test_an_invoke_whose_job_is_purged_says_the_job_was_removed(deployed, tmp_path):
    """Review 9, R9-3: the queue purged under a waiting invoke ended in the provider's generic
    404 ("GET /<ep>/status/<id>: not found"), advising to run the command again (which queues
    the work again) or to check the provider's address. invoke knows the job is its own: it
    says the job was removed, and how, in job terms; `job status` of that id says the same."""
    account, proj = deployed
    release = tmp_path / "release"
    talk = account_id(account, "talk")
    held = [account.gpu("serverless", "invoke", "talk", "--async", "--input", json.dumps({"prompt": f"busy-{i}", "release": str(release)}), cwd=proj).out.strip()
            for i in range(2)]  # both workers of talk (max 2) busy: the next job stays in the queue
    waiting = None
    try:
        until(lambda: all(account.server.job(talk, f"status/{j}", method="GET").json()["status"] == "IN_PROGRESS" for j in held), "both workers to run a held job")
        polls = len(status_polls(account))
        waiting = account.popen("serverless", "invoke", "talk", "--input", '{"prompt": "queued"}', cwd=proj)
        until(lambda: len(status_polls(account)) > polls + 1, "invoke to poll its queued job")
        assert account.server.job(talk, "purge-queue").json()["removed"] == 1
        code, err = waiting.wait(timeout=DEADLINE_S), waiting.stderr.read()
        removed = re.search(r"job (\S+) was removed from talk", err)
        assert removed, err
        job_id = removed.group(1)
        assert code == 1 and "not found" not in err and "run the command again" not in err and "gpu local status" not in err, err
        assert "purge" in err and "ttl" in err, err
        status = account.gpu("serverless", "job", "status", "talk", job_id, cwd=proj)
        assert status.code == 1 and f"no job {job_id} on talk" in status.err and "purge" in status.err, status.err
    finally:
        release.write_text("")
        if waiting:
            waiting.kill()
