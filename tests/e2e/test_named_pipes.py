"""A named pipe (FIFO) given where gpuctl reads a file is refused unopened, by every option that
names one (R4-12): opening a FIFO that no process writes waits for ever, and `deploy --from-plan`,
`--observed`, `--policy`, `--config` and `invoke --input @FILE` did so. The one mechanism is
gpuctl.files (`_open`); the table below holds every path option of the CLI that reads a file,
and a test walks the command tree so that a new one cannot be left out of it.

A pipe from the shell (stdin, `/dev/stdin`, process substitution `<(cat plan.json)`) has a
writer by construction and is still read: `invoke --input -` and `--from-plan /dev/stdin`.
A path that names gpu's own stdin (`/dev/stdin`, `/dev/fd/0`, `/proc/self/fd/0`) is read from
the descriptor gpu already holds, whatever the shell opened there: `--from-plan /dev/stdin <
FIFO` was refused as a named pipe (R7-4), though the shell had opened the FIFO, its writer
there, before gpu started. The FIFO named by its own path is still refused.

Each run is a subprocess killed if it outlives a guard far longer than it takes: a regression
fails as a TimeoutExpired, never as a hung suite."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import pytest

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project
from tests.github.conftest import REPO, TOKEN, config, tree
from tests.test_dash_paths import _parameters

pytestmark = pytest.mark.e2e

GUARD = 90  # seconds: a killed run is a failure (TimeoutExpired), not an assertion on time

# The options that read a file: "gpu COMMAND --option" -> the arguments before it (FIFO is
# appended after the option). github commands run in a checkout with a pull_request event.
READS = {
    "gpu config validate --config": ["config", "validate"],
    "gpu doctor --config": ["doctor"],
    "gpu serverless delete --config": ["serverless", "delete", "echo", "-y"],
    "gpu serverless deploy --config": ["serverless", "deploy", "--plan"],
    "gpu serverless deploy --observed": ["serverless", "deploy", "--plan"],
    "gpu serverless deploy --from-plan": ["serverless", "deploy", "-y"],
    "gpu serverless deploy --policy": ["serverless", "deploy", "--plan"],
    "gpu serverless deploy --smoke": ["serverless", "deploy", "-y", "--wait-healthy"],
    "gpu serverless drift --observed": ["serverless", "drift"],
    "gpu serverless drift --config": ["serverless", "drift"],
    "gpu serverless history --config": ["serverless", "history", "echo"],
    "gpu serverless import --config": ["serverless", "import", "echo"],
    "gpu serverless invoke --config": ["serverless", "invoke", "echo"],
    "gpu serverless job cancel --config": ["serverless", "job", "cancel", "echo", "job-1"],
    "gpu serverless job status --config": ["serverless", "job", "status", "echo", "job-1"],
    "gpu serverless list --config": ["serverless", "list"],
    "gpu serverless logs --config": ["serverless", "logs", "echo"],
    "gpu serverless pull --config": ["serverless", "pull"],
    "gpu serverless rollback --config": ["serverless", "rollback", "echo", "--to", "1"],
    "gpu serverless snapshot --config": ["serverless", "snapshot"],
    "gpu serverless status --config": ["serverless", "status", "echo"],
    "gpu serverless template delete --config": ["serverless", "template", "delete", "t-1", "-y"],
    "gpu serverless warm --config": ["serverless", "warm", "echo"],
    "gpu github plan --config": ["github", "plan", "--plan-dir", "plans"],
    "gpu github plan --policy": ["github", "plan", "--plan-dir", "plans"],
    "gpu github plan --pr-file": ["github", "plan", "--plan-dir", "plans"],
    "gpu github apply --config": ["github", "apply", "--plan-dir", "plans"],
    "gpu github apply --policy": ["github", "apply", "--plan-dir", "plans"],
    "gpu github apply --smoke": ["github", "apply", "--plan-dir", "plans", "--wait-healthy"],
    "gpu github drift --config": ["github", "drift"],
}
# Path options that name what gpuctl writes or a directory: no file of them is read.
NOT_READ = {"--out", "--record", "--plan-dir", "--data-dir"}
NAMED_ONLY = {"gpu github drift --policy"}  # only named in the deploy commands the drift issue suggests


def _github_env(tmp_path: Path, fork: bool) -> dict[str, str]:
    event = tmp_path / "event.json"
    pull = {"number": 7, "pull_request": {"number": 7, "head": {"sha": "a" * 40}, "base": {"sha": "b" * 40}}}
    event.write_text(json.dumps({"workflow_run": {"id": 9, "head_sha": "a" * 40}} if fork else pull))
    return {"GITHUB_EVENT_NAME": "workflow_run" if fork else "pull_request", "GITHUB_EVENT_PATH": str(event), "GITHUB_API_URL": "http://127.0.0.1:9",
            "GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO, "GITHUB_OUTPUT": str(tmp_path / "out"),
            "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"), "GITHUB_SHA": "a" * 40}


def _refused(done, fifo: Path) -> None:
    said = done.out + done.err  # doctor reports on stdout, and exits 6 for a failed check
    assert done.code in (1, 6), said
    assert "Traceback" not in said and "internal error" not in said, said
    assert fifo.name in said and "named pipe" in said and "pipe it to stdin" in said, said


def test_every_path_option_that_reads_a_file_is_in_the_table():
    """A new option that reads a file joins READS (and so the test below), or NOT_READ."""
    from gpuctl.cli import cli

    found = {f"{where} {param.opts[0]}" for where, param in _parameters(cli) if isinstance(param.type, click.Path)}
    reading = {name for name in found if name.rsplit(" ", 1)[1] not in NOT_READ} - NAMED_ONLY
    assert reading == set(READS)


def _project_for(option: str, tmp_path):
    """The directory `option` runs in, and its environment: a gpu.jsonc project, or for `gpu
    github` a repository with a plans directory and the Actions environment (None: the test's own)."""
    if not option.startswith("gpu github"):
        return project(tmp_path / "proj", echo_config()), None
    proj = tree(tmp_path / "repo", config("echo"))
    (proj / "plans").mkdir()
    return proj, _github_env(tmp_path, fork=option.endswith("--pr-file"))


@pytest.mark.parametrize("option", sorted(READS))
def test_a_named_pipe_with_no_writer_is_refused_by_every_option_that_reads_a_file(account, tmp_path, option):
    proj, env = _project_for(option, tmp_path)
    fifo = proj / "named.pipe"
    os.mkfifo(fifo)
    flag = option.rsplit(" ", 1)[1]
    try:
        done = account.gpu(*READS[option], flag, str(fifo), cwd=proj, env=env, timeout=GUARD)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`{option} FIFO` waited on the named pipe (killed after {GUARD}s)")
    _refused(done, fifo)


def test_a_job_input_file_that_is_a_named_pipe_is_refused(account, tmp_path):
    fifo = tmp_path / "input.json"
    os.mkfifo(fifo)
    try:
        done = account.gpu("serverless", "invoke", "echo", "--provider", "local", "--input", f"@{fifo}", cwd=tmp_path, timeout=GUARD)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`invoke --input @FIFO` waited on the named pipe (killed after {GUARD}s)")
    _refused(done, fifo)


def test_a_pipe_from_the_shell_is_still_read(account, tmp_path):
    """The fix the refusal names: `gpu serverless snapshot | gpu ... --observed /dev/stdin`."""
    proj = project(tmp_path / "proj", echo_config())
    snapshot = json.dumps({"endpoints": [], "networkVolumes": [], "templates": []})
    done = account.gpu("serverless", "deploy", "--plan", "--provider", "local", "--observed", "/dev/stdin", cwd=proj, input=snapshot, timeout=GUARD)
    assert done.code == 0 and "named pipe" not in done.err, done.out + done.err
    assert "against snapshot /dev/stdin" in done.out and "endpoint.echo will be created" in done.out


@contextmanager
def _stdin_from_a_named_pipe(fifo: Path, data: bytes) -> Iterator[tuple[int, list[bytes]]]:
    """A descriptor to give gpu as stdin, opened on the named pipe `fifo` as `gpu ... < FIFO`
    opens it, while a writer sends `data` and then closes. Yields it and a list that, once the
    block ends, holds what gpu left unread in the pipe."""
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # lets the writer open without waiting, as the shell's open does
    writer = os.open(fifo, os.O_WRONLY)
    os.set_blocking(reader, True)
    feeder = threading.Thread(target=lambda: (os.write(writer, data), os.close(writer)))
    feeder.start()
    left: list[bytes] = []
    try:
        yield reader, left
    finally:
        os.set_blocking(reader, False)
        try:
            while chunk := os.read(reader, 65536):
                left.append(chunk)
        except BlockingIOError:
            left.append(b"(the writer still blocked)")
        feeder.join(GUARD)
        os.close(reader)


STDIN = ("/dev/stdin", "/dev/fd/0", "/proc/self/fd/0")


@pytest.mark.parametrize("option", sorted(READS))
def test_stdin_redirected_from_a_named_pipe_is_read_by_every_option_that_reads_a_file(account, tmp_path, option):
    """R7-4: `gpu ... --from-plan /dev/stdin < FIFO` was refused as a named pipe; the shell opened
    the FIFO, so gpu holds it open already and reading it cannot wait at an open. What is sent is
    no file any option takes, so each says so (naming /dev/stdin) having read it all."""
    proj, env = _project_for(option, tmp_path)
    with _stdin_from_a_named_pipe(tmp_path / "in.pipe", b"{ no file gpu reads\n") as (stdin, left):
        try:
            done = account.gpu(*READS[option], option.rsplit(" ", 1)[1], "/dev/stdin", cwd=proj, env=env, timeout=GUARD, stdin=stdin)
        except subprocess.TimeoutExpired:
            pytest.fail(f"`{option} /dev/stdin < FIFO` waited (killed after {GUARD}s)")
    said = done.out + done.err
    assert "named pipe" not in said and "Traceback" not in said and "internal error" not in said, said
    assert done.code != 0 and "/dev/stdin" in said, said
    assert left == [], f"gpu left {left} unread: {said}"


def test_a_job_input_named_by_stdin_is_read_from_a_named_pipe_on_stdin(account, tmp_path):
    """`invoke --input @/dev/stdin < FIFO` too (the job input is no path option, so not in READS)."""
    with _stdin_from_a_named_pipe(tmp_path / "input.pipe", b"{ no JSON\n") as (stdin, left):
        done = account.gpu("serverless", "invoke", "echo", "--provider", "local", "--input", "@/dev/stdin", cwd=tmp_path, timeout=GUARD, stdin=stdin)
    said = done.out + done.err
    assert done.code == 1 and "named pipe" not in said and "Traceback" not in said, said
    assert "/dev/stdin" in said and "JSON" in said and left == [], said


@pytest.mark.parametrize("kind", ["named pipe", "regular file", "pipe"])
def test_a_saved_plan_on_stdin_is_applied_whatever_the_shell_opened_there(account, tmp_path, kind):
    """`gpu serverless deploy --from-plan /dev/stdin < FIFO` (R7-4), `< plan.json` and
    `cat plan.json | ...`: gpu reads the stdin it was given, never re-opening what it names."""
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "--plan", "--out", "plan.json", cwd=proj).code == 0
    plan = (proj / "plan.json").read_bytes()
    deploy = ("serverless", "deploy", "--from-plan", "/dev/stdin")
    if kind == "named pipe":
        with _stdin_from_a_named_pipe(tmp_path / "plan.pipe", plan) as (stdin, left):
            done = account.gpu(*deploy, cwd=proj, timeout=GUARD, stdin=stdin)
        assert left == [], left
    elif kind == "regular file":
        with (proj / "plan.json").open("rb") as stdin:
            done = account.gpu(*deploy, cwd=proj, timeout=GUARD, stdin=stdin.fileno())
    else:
        done = account.gpu(*deploy, cwd=proj, timeout=GUARD, input=plan.decode())
    assert done.code == 0, done.out + done.err
    assert [e["name"] for e in account.endpoints()] == ["echo"]


@pytest.mark.parametrize("path", STDIN)
def test_every_name_of_stdin_reads_the_descriptor_gpu_holds(account, tmp_path, path):
    proj = project(tmp_path / "proj", echo_config())
    snapshot = json.dumps({"endpoints": [], "networkVolumes": [], "templates": []}).encode()
    with _stdin_from_a_named_pipe(tmp_path / "snapshot.pipe", snapshot) as (stdin, left):
        done = account.gpu("serverless", "deploy", "--plan", "--observed", path, cwd=proj, timeout=GUARD, stdin=stdin)
    assert done.code == 0 and left == [], done.out + done.err
    assert f"against snapshot {path}" in done.out and "endpoint.echo will be created" in done.out


def test_the_named_pipe_on_stdin_named_by_its_own_path_is_still_refused(account, tmp_path):
    """Only the names of stdin read the descriptor gpu holds: the FIFO's own path is a named
    pipe gpuctl would open (and wait on with no writer), whatever stdin happens to be."""
    proj = project(tmp_path / "proj", echo_config())
    fifo = tmp_path / "plan.pipe"
    with _stdin_from_a_named_pipe(fifo, b"{}") as (stdin, left):
        done = account.gpu("serverless", "deploy", "-y", "--from-plan", str(fifo), cwd=proj, timeout=GUARD, stdin=stdin)
    _refused(done, fifo)
    assert left == [b"{}"], left


# The options that name a file gpuctl writes: "gpu COMMAND --option" -> the arguments before it.
WRITES = {
    "gpu serverless deploy --out": ["serverless", "deploy", "--plan"],
    "gpu serverless snapshot --out": ["serverless", "snapshot"],
}
NOT_WRITTEN = {"--record", "--plan-dir", "--data-dir"}  # directories gpuctl makes its own files in


def _refused_to_write(done, fifo: Path) -> None:
    said = done.out + done.err
    assert done.code == 1, said
    assert "Traceback" not in said and "internal error" not in said, said
    assert fifo.name in done.err and "named pipe" in done.err, said
    # The message states the problem, the hint the fix, once (the advice was in both, stop 19).
    error = next(line for line in done.err.splitlines() if line.startswith("error:"))
    assert "give" not in error and "must" not in error, done.err
    assert "hint:" in done.err, done.err


def test_every_path_option_that_writes_a_file_is_in_the_table():
    """A new option that names a file to write joins WRITES (and so the test below)."""
    from gpuctl.cli import cli

    found = {f"{where} {param.opts[0]}" for where, param in _parameters(cli) if isinstance(param.type, click.Path)}
    assert {name for name in found if name.rsplit(" ", 1)[1] in NOT_READ - NOT_WRITTEN} == set(WRITES)


@pytest.mark.parametrize("option", sorted(WRITES))
def test_a_named_pipe_with_no_reader_is_refused_by_every_option_that_writes_a_file(account, tmp_path, option):
    proj = project(tmp_path / "proj", echo_config())
    fifo = proj / "named.pipe"
    os.mkfifo(fifo)
    try:
        done = account.gpu(*WRITES[option], "--provider", "local", option.rsplit(" ", 1)[1], str(fifo), cwd=proj, timeout=GUARD)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`{option} FIFO` waited for a reader of the named pipe (killed after {GUARD}s)")
    _refused_to_write(done, fifo)
    assert "cannot write --out " in done.err and "hint: give --out a regular file" in done.err, done.err
    assert done.err.count("regular file") == 1, done.err


@pytest.mark.parametrize("variable", ["GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"])
def test_a_step_file_that_is_a_named_pipe_with_no_reader_is_refused(account, tmp_path, variable):
    checkout = tree(tmp_path / "repo", config("echo"))
    env = _github_env(tmp_path, fork=False)
    fifo = tmp_path / "step.pipe"
    os.mkfifo(fifo)
    env[variable] = str(fifo)
    try:
        done = account.gpu("github", "plan", "--plan-dir", "plans", cwd=checkout, env=env, timeout=GUARD)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{variable}=FIFO waited for a reader of the named pipe (killed after {GUARD}s)")
    _refused_to_write(done, fifo)
    assert f"cannot write {variable} ({fifo})" in done.err, done.err


def test_out_to_a_pipe_from_the_shell_is_still_written(account, tmp_path):
    """`gpu serverless snapshot --out /dev/stdout | ...`: stdout is a pipe with a reader."""
    proj = project(tmp_path / "proj", echo_config())
    done = account.gpu("serverless", "snapshot", "--provider", "local", "--out", "/dev/stdout", cwd=proj, timeout=GUARD)
    assert done.code == 0 and "named pipe" not in done.err, done.out + done.err
    assert "endpoints" in json.loads(done.out)


def test_a_named_pipe_opened_read_write_on_stdin_is_refused_at_once(account, tmp_path):
    """Review 10, R10-3: `gpu ... --observed /dev/stdin <>FIFO` waited for ever: the shell's
    read-write open has no writer but gpu itself, so no end ever comes. The FIFO named by its own
    path was refused; on stdin opened read-write it is refused too, with the same words."""
    proj = project(tmp_path / "proj", echo_config())
    fifo = tmp_path / "rw.pipe"
    os.mkfifo(fifo)
    stdin = os.open(fifo, os.O_RDWR)  # `<>FIFO`: never waits, and is its own writer
    try:
        done = account.gpu("serverless", "deploy", "--plan", "--provider", "local", "--observed", "/dev/stdin", cwd=proj, timeout=GUARD, stdin=stdin)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`--observed /dev/stdin <>FIFO` waited (killed after {GUARD}s)")
    finally:
        os.close(stdin)
    said = done.out + done.err
    assert done.code == 1 and "Traceback" not in said, said
    assert "/dev/stdin" in said and "named pipe" in said and "read and write" in said and "pipe it to stdin" in said, said


@pytest.mark.parametrize("options", [("--config", "--observed"), ("--observed", "--policy")])
def test_two_options_naming_stdin_are_refused_naming_both(account, tmp_path, options):
    """Review 10, R10-2: with stdin a pipe, the second option to read it found it drained and said
    "the file is empty", with a hint for the wrong problem. Only one option can read stdin: two
    that name it (by any of its names) are refused before anything is read, naming both."""
    proj = project(tmp_path / "proj", echo_config())
    first, second = options
    done = account.gpu("serverless", "deploy", "--plan", "--provider", "local", first, "/dev/stdin", second, "/dev/fd/0", cwd=proj,
                       input="{}", timeout=GUARD)
    said = done.out + done.err
    assert done.code == 1 and "Traceback" not in said and "empty" not in said, said
    assert f"only one option can read stdin: {first} and {second} both name it" in said, said
