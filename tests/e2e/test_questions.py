"""The questions of deploy, rollback, delete and local reset follow one rule (gpuctl.cli.confirm):
asked only when stdin and stderr are terminals, else refused naming the flag; `y` applies; an
empty answer, `n` and Ctrl-D are a no (`cancelled: nothing was ...`, exit 1) on a line of its
own; Ctrl-C is an interrupt (exit 130). Each command had its own copy: deploy refused when only
stdout was redirected and asked into a redirected stderr, and a no at delete or reset (Ctrl-D at
rollback too) printed "aborted" on the question's line."""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path

import pexpect
import pytest

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project
from tests.support.terminal import Output, Terminal
from tests.support.wait import DEADLINE_S

pytestmark = pytest.mark.e2e


class Redirected(Terminal):
    """`gpu ARGS` on a terminal, with one of its streams redirected by the shell (`redirect`)."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str], redirect: str):
        command = f"exec {shlex.quote(sys.executable)} -m gpuctl {shlex.join(args)} {redirect}"
        Output.__init__(self, pexpect.spawn("/bin/sh", ["-c", command], cwd=str(cwd), env=env, encoding="utf-8",
                                                       codec_errors="replace", timeout=DEADLINE_S, dimensions=(40, 120)))


def _deployed(account, tmp_path, **env) -> Path:
    proj = project(tmp_path / "p", echo_config(env=env), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    return proj


def _max_workers(account) -> int:
    [endpoint] = account.endpoints()
    return endpoint["workers"]["max"]


def test_deploy_asks_when_only_stdout_is_redirected(account, tmp_path):
    proj = _deployed(account, tmp_path)
    deploying = Redirected(["serverless", "deploy", "--max-workers", "3"], proj, account.env, "> plan.txt")
    deploying.answer("Apply these changes?", "y")
    assert deploying.exit_code() == 0, deploying.transcript
    assert "max_workers" in (proj / "plan.txt").read_text() and _max_workers(account) == 3


@pytest.mark.parametrize("command", [["serverless", "deploy", "--max-workers", "3"], ["serverless", "delete", "echo"], ["local", "reset"]],
                         ids=["deploy", "delete", "reset"])
def test_no_question_is_asked_into_a_redirected_stderr(account, tmp_path, command):
    proj = _deployed(account, tmp_path)
    running = Redirected(command, proj, account.env, "2> err.txt")
    assert running.exit_code() == 1, running.transcript
    err = (proj / "err.txt").read_text()
    assert "needs confirmation but there is no terminal to ask on" in err and "hint:" in err and "pass -y" in err, err
    assert _max_workers(account) == 2


EOF = "Ctrl-D"
INTERRUPT = "Ctrl-C"


def _answered(args: list[str], cwd: Path, env: dict, question: str, answer: str) -> tuple[int, str]:
    terminal = Terminal(args, cwd, env)
    terminal.wait_for(question)
    terminal.wait_until_reading()
    if answer == EOF:
        terminal.child.sendeof()
    elif answer == INTERRUPT:
        terminal.child.sendintr()
    else:
        terminal.child.sendline(answer)
    return terminal.exit_code(), terminal.transcript


def _cases(account, tmp_path):
    """(command, question, what a no says) for each command that asks, on one account whose
    endpoint has two versions."""
    proj = _deployed(account, tmp_path)
    config = json.loads((proj / "gpu.jsonc").read_text())
    config["serverless"]["runpod"]["env"]["GREETING"] = "bonjour"
    (proj / "gpu.jsonc").write_text(json.dumps(config))
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    return proj, [
        (["serverless", "deploy", "--max-workers", "3"], "Apply these changes?", "cancelled: nothing was changed"),
        (["serverless", "rollback", "echo", "--to", "1"], "Roll back echo to version 1?", "cancelled: nothing was changed"),
        (["serverless", "delete", "echo"], "Delete endpoint echo?", "cancelled: nothing was deleted"),
        (["serverless", "delete"], "Which endpoint?", "cancelled: nothing was deleted"),
        (["local", "reset"], "Delete every endpoint", "cancelled: nothing was deleted"),
    ]


@pytest.mark.parametrize("answer", ["", "n", EOF], ids=["enter", "n", "ctrl-d"])
def test_every_no_is_a_cancel_on_a_line_of_its_own(account, tmp_path, answer):
    proj, cases = _cases(account, tmp_path)
    for args, question, said in cases:
        if answer == "n" and question == "Which endpoint?":
            continue  # a picker reads a number
        code, transcript = _answered(args, proj, account.env, question, "0" if question == "Which endpoint?" and answer == "" else answer)
        assert code == 1, transcript
        assert said in transcript and "aborted" not in transcript, transcript
        assert re.search(rf"\n{re.escape(said)}", transcript), f"not on a line of its own: {transcript!r}"
    [endpoint] = account.endpoints()
    assert endpoint["workers"]["max"] == 2 and endpoint["env"]["GREETING"] == "bonjour"


def test_ctrl_c_at_any_question_is_an_interrupt(account, tmp_path):
    proj, cases = _cases(account, tmp_path)
    for args, question, _ in cases:
        code, transcript = _answered(args, proj, account.env, question, INTERRUPT)
        assert code == 130 and "interrupted" in transcript and "cancelled" not in transcript, transcript
    [endpoint] = account.endpoints()
    assert endpoint["workers"]["max"] == 2 and endpoint["env"]["GREETING"] == "bonjour"


def test_ctrl_c_the_moment_a_question_appears_ends_the_command_at_once(account, tmp_path):
    """Ctrl-C pressed as the question appears, before gpu has begun to read the answer (no
    `wait_until_reading`). Python's input() ran the signal's handler only after its read ended,
    so a Ctrl-C that came just before the read was lost until the next key (about one try in
    three here): gpu sat at the question as if it ignored Ctrl-C, and a `y` typed next was read
    first. Each question is interrupted three times; every try must end at once, with exit 130,
    saying nothing was changed, and with no change sent."""
    proj, cases = _cases(account, tmp_path)
    seen = len(account.requests())
    for args, question, said in cases * 3:
        terminal = Terminal(args, proj, account.env)
        terminal.wait_for(question)
        terminal.child.sendintr()
        assert terminal.exit_code() == 130, terminal.transcript  # a lost Ctrl-C waits here for a key that never comes
        transcript = terminal.transcript
        assert "cancelled" not in transcript and "Traceback" not in transcript, transcript
        if question == "Apply these changes?":
            assert "interrupted before the apply: nothing was changed in the account" in transcript, transcript
        elif question != "Which endpoint?":
            assert f"error: interrupted at the question: {said.removeprefix('cancelled: ')}" in transcript, transcript
    changes = [r for r in account.requests()[seen:] if r["path"].startswith("/v2/serverless") and r["method"] != "GET"]
    assert changes == [], changes
    [endpoint] = account.endpoints()
    assert endpoint["workers"]["max"] == 2 and endpoint["env"]["GREETING"] == "bonjour"
