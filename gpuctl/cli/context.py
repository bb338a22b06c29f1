"""Everything a command needs from the outside world, injected so tests never touch the real
environment, home directory or terminal."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO


class Redacting(io.TextIOBase):
    """A text stream that replaces registered secrets with "(redacted)" before writing: the
    last line of defence if a value ever reaches an output by mistake."""

    def __init__(self, inner: TextIO, secrets: set[str]):
        self.inner, self.secrets = inner, secrets

    def write(self, text: str) -> int:
        for secret in self.secrets:
            text = text.replace(secret, "(redacted)")
        return self.inner.write(text)

    def flush(self) -> None:
        self.inner.flush()

    def isatty(self) -> bool:
        return self.inner.isatty()

    def fileno(self) -> int:
        return self.inner.fileno()


@dataclass
class AppContext:
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    cwd: Path = field(default_factory=Path.cwd)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    debug: bool = False
    secrets: set[str] = field(default_factory=set)
    recorder: object | None = None  # gpuctl.provider.recording.Recorder under --record: connect() records through it

    def __post_init__(self) -> None:
        if self.environ.get("GITHUB_ACTIONS") == "true":  # the runner obeys `::` lines of the step's log: quoted text must not be one
            from gpuctl.safetext import WorkflowCommandGuard

            if self.stdout is sys.stdout:  # the log itself, not a stream a caller reads back (runner._captured)
                self.stdout = WorkflowCommandGuard(self.stdout)
            if self.stderr is sys.stderr:
                self.stderr = WorkflowCommandGuard(self.stderr)
        self.stdout = Redacting(self.stdout, self.secrets)
        self.stderr = Redacting(self.stderr, self.secrets)

    def protect(self, secret: str | None) -> None:
        """Never let this value reach stdout or stderr (values under 6 characters are too
        likely to occur by chance to be replaced)."""
        if secret and len(secret) >= 6:
            self.secrets.add(secret)

    @property
    def stdout_tty(self) -> bool:
        return self.stdout.isatty()

    @property
    def stdin_tty(self) -> bool:
        return sys.stdin.isatty()

    @property
    def stderr_tty(self) -> bool:
        return self.stderr.isatty()

    def console(self, stderr: bool = False):
        """A rich console for people; plain when not a TTY or when NO_COLOR is set."""
        from rich.console import Console

        stream = self.stderr if stderr else self.stdout
        color = stream.isatty() and "NO_COLOR" not in self.environ
        width = int(self.environ.get("COLUMNS", "0") or 0) or None
        return Console(file=stream, color_system="auto" if color else None, width=width or (None if stream.isatty() else 100), highlight=False, soft_wrap=False,
                       markup=False)  # text from the account is never read as rich markup

    def note(self, message: str) -> None:
        """A one-line message for people, on stderr; control characters are escaped."""
        from gpuctl.safetext import printable

        print(printable(message), file=self.stderr)
