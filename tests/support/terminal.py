"""A running command's output, read with pexpect as it comes, so a test waits for the text it
expects instead of sleeping: `gpu` on a pseudo-terminal (the hidden prompts, pickers,
confirmations and live status lines that only run when a person is at a terminal), or one
pipe of a process started without one.

On a terminal the child is a session leader whose controlling terminal is the pty (pexpect
forks it so), so /dev/tty, where getpass reads, is that pty and never the terminal running the
tests. Its size matches the COLUMNS=120 of the e2e environment."""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import pexpect
from pexpect.fdpexpect import fdspawn
from pexpect.spawnbase import SpawnBase

from tests.support.wait import DEADLINE_S, until


class Output:
    """Text a command writes; `transcript` is all of it read so far."""

    def __init__(self, child: SpawnBase):
        self.child = child
        self._seen = io.StringIO()
        self.child.logfile_read = self._seen

    @classmethod
    def of_pipe(cls, stream: IO) -> Output:
        """One pipe of a process (its stdout or stderr), read as the process writes it."""
        return cls(fdspawn(stream.fileno(), timeout=DEADLINE_S, encoding="utf-8", codec_errors="replace"))

    @property
    def transcript(self) -> str:
        return self._seen.getvalue()

    def wait_for(self, text: str) -> str:
        """Return once `text` has been written, with what came between the text last waited for
        and this one; fail with the transcript if it never comes."""
        return self._expect(self.child.expect_exact, text, repr(text))

    def wait_for_match(self, pattern: str) -> str:
        """`wait_for`, for the first text that matches the regular expression `pattern`."""
        return self._expect(self.child.expect, pattern, f"/{pattern}/")

    def _expect(self, expect, wanted: str, shown: str) -> str:
        try:
            expect(wanted)
        except (pexpect.TIMEOUT, pexpect.EOF) as stop:
            self.stop()
            what = "ended" if isinstance(stop, pexpect.EOF) else f"wrote nothing more for {DEADLINE_S:.0f} s"
            raise AssertionError(f"waiting for {shown}, the output {what}; it was:\n{self.transcript}") from None
        return self.child.before

    def rest(self) -> str:
        """Everything written until the writer closes the stream."""
        try:
            self.child.expect(pexpect.EOF)
        except pexpect.TIMEOUT:
            self.stop()
            raise AssertionError(f"the output did not end within {DEADLINE_S:.0f} s; it was:\n{self.transcript}") from None
        return self.transcript

    def stop(self) -> None:
        """A pipe's process is the test's to end."""


class Terminal(Output):
    """One `gpu ARGS` run on a terminal. The transcript includes typed answers, which the
    terminal echoes unless the command turned echo off."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]):
        super().__init__(pexpect.spawn(sys.executable, ["-m", "gpuctl", *args], cwd=str(cwd), env=env, encoding="utf-8",
                                       codec_errors="replace", timeout=DEADLINE_S, dimensions=(40, 120)))

    def answer(self, prompt: str, line: str) -> None:
        """Type `line` and Enter once `prompt` is shown."""
        self.wait_for(prompt)
        self.child.sendline(line)

    def wait_until_reading(self) -> None:
        """Return once the command is blocked reading its terminal (Linux x86-64:
        /proc/PID/syscall says read on fd 0, or a select on fd 0 alone, as gpu's questions wait
        for their answer a tick at a time: gpuctl.cli.confirm._read_line). A test that types
        an answer waits so, to type it where it is read; a Ctrl-C no longer needs to (CPython's
        input() lost one that came before its read began, until the next key: gpu's questions
        no longer use it, test_questions.py tries that moment)."""
        syscall = Path(f"/proc/{self.child.pid}/syscall")

        def reading() -> bool:
            try:
                call = syscall.read_text().split()[:2]
            except OSError:
                return False
            return call == ["0", "0x0"] or (call[:1] in (["23"], ["270"]) and call[1:] == ["0x1"])  # read(0, ...); select/pselect6(1, {0}, ...)

        until(reading, "the command to wait for an answer on its terminal")

    def exit_code(self) -> int:
        """Read to the end of the output and return the exit code; a command killed by a signal
        fails the test."""
        self.rest()
        self.child.close()
        assert self.child.exitstatus is not None, f"killed by signal {self.child.signalstatus}:\n{self.transcript}"
        return self.child.exitstatus

    def stop(self) -> None:
        self.child.terminate(force=True)


def run_on_terminal(args: list[str], cwd: Path, env: dict[str, str], answers: Sequence[tuple[str, str]] = ()) -> tuple[int, str]:
    """Run `gpu ARGS` on a terminal, typing each (prompt, answer) in turn; the exit code and
    the transcript."""
    terminal = Terminal(args, cwd, env)
    for prompt, line in answers:
        terminal.answer(prompt, line)
    return terminal.exit_code(), terminal.transcript
