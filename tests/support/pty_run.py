"""Drive a command on a pseudo-terminal: wait for each prompt, type the answer, collect all
output. For the interactive pickers and confirmations, which only run on a terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import subprocess
import termios
import time
from collections.abc import Callable


def _controlling_terminal() -> None:
    """Make the child a session leader whose controlling terminal is the pty, so /dev/tty
    (where getpass reads) is that pty and never the terminal running the tests."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def run_in_pty(argv: list[str], cwd, env: dict, script: list[tuple[str, str | Callable[[], None]]], timeout: float = 60) -> tuple[int, str]:
    """`script` is a list of (text to wait for, line to type or a function to call then)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave, close_fds=True, preexec_fn=_controlling_terminal)
    os.close(slave)
    output, steps, deadline = "", list(script), time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 4096).decode(errors="replace")
                except OSError:
                    chunk = ""
                if not chunk and proc.poll() is not None:
                    break
                output += chunk
            if steps and steps[0][0] in output:
                answer = steps.pop(0)[1]
                if callable(answer):
                    answer()
                else:
                    os.write(master, (answer + "\n").encode())
                    output += "\n"
            if proc.poll() is not None and not ready:
                break
        else:
            proc.kill()
            raise AssertionError(f"timed out; output so far:\n{output}")
        return proc.wait(timeout=10), output
    finally:
        os.close(master)
