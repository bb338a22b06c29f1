"""Everything a command needs from the outside world, injected so tests never touch the real
environment, home directory or terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO


@dataclass
class AppContext:
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    cwd: Path = field(default_factory=Path.cwd)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    debug: bool = False

    @property
    def stdout_tty(self) -> bool:
        return self.stdout.isatty()

    @property
    def stdin_tty(self) -> bool:
        return sys.stdin.isatty()

    def console(self, stderr: bool = False):
        """A rich console for people; plain when not a TTY or when NO_COLOR is set."""
        from rich.console import Console

        stream = self.stderr if stderr else self.stdout
        color = stream.isatty() and "NO_COLOR" not in self.environ
        width = int(self.environ.get("COLUMNS", "0") or 0) or None
        return Console(file=stream, color_system="auto" if color else None, width=width or (None if stream.isatty() else 100), highlight=False, soft_wrap=False)

    def note(self, message: str) -> None:
        """A one-line message for people, on stderr."""
        print(message, file=self.stderr)
