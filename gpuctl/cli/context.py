"""Everything a command needs from the outside world, injected so tests never touch the real
environment, home directory or terminal."""

from __future__ import annotations

import errno
import functools
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from gpuctl.safetext import Wrapping

MIN_SECRET = 6  # shorter values are too likely to occur by chance to be replaced


def redact(text: str, secrets: set[str], order: list[str] | None = None) -> str:
    """`text` with every registered secret replaced by "(redacted)", the longest first (a
    secret that contains another is masked whole, not left with its tail showing). `order` is
    `secrets` so sorted, when the caller keeps it."""
    for secret in order if order is not None else sorted(secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "(redacted)")
    return text


def output_forms(secret: str) -> set[str]:
    """Every form in which `secret` may reach an output of gpu. A value is written escaped as
    often as not: by a worker or its SDK (Python's repr in the RunPod SDK's "run_job return:
    {...}", a JSON log line, or both nested), then by gpuctl (`--json`, with or without
    ensure_ascii; `safetext.printable`'s \\xNN and \\n; Markdown and HTML for comments and
    summaries). Each escaping is character by character, so the escaped value is a substring of
    the escaped text around it, and masking that form masks it. Each line of a multi-line
    secret (a PEM key) is a form too, without its indentation: what a worker prints reaches gpu
    one line at a time. A line of punctuation alone (the "    }," of a JSON secret) is not,
    or masking it would break gpu's own JSON."""
    import html
    import json

    from gpuctl.render import md
    from gpuctl.safetext import printable

    def same(s: str) -> str:
        return s

    encodings = (  # what code, gpuctl's or a worker's, writes a string value as inside other text
        same,
        lambda s: json.dumps(s, ensure_ascii=False)[1:-1],
        lambda s: json.dumps(s, ensure_ascii=True)[1:-1],
        lambda s: repr('"' + s)[2:-1],  # repr in single quotes: ' escaped
        lambda s: repr("'" + s)[2:-1] if '"' not in s else s,  # repr in double quotes (text with a ' and no ")
    )
    displays = (  # and how gpuctl shows that text
        same,
        lambda s: json.dumps(s, ensure_ascii=False)[1:-1],
        lambda s: json.dumps(s, ensure_ascii=True)[1:-1],
        printable,
        lambda s: printable(s, keep_newlines=False),
        lambda s: printable(s).replace("\n", "\\n"),  # `logs`: tabs kept, line breaks escaped
        md.text,
        lambda s: md.code_html(s)[len("<code>"):-len("</code>")],
        html.escape,
        lambda s: html.escape(s, quote=False),
    )
    lines = {line.strip() for line in (*secret.splitlines(), *secret.split("\n"))}
    bases = {secret} | {line for line in lines if len(line) >= MIN_SECRET and any(c.isalnum() for c in line)}  # not "    }," of a JSON secret
    encoded = {inner(outer(base)) for base in bases for outer in encodings for inner in encodings}
    return {display(form) for form in encoded for display in displays}


class Redacting(Wrapping):
    """A text stream that replaces registered secrets with "(redacted)" before writing: the
    last line of defence if a value ever reaches an output by mistake."""

    def __init__(self, inner: TextIO, secrets: set[str]):
        super().__init__(inner)
        self.secrets = secrets
        self._order: list[str] = []

    def write(self, text: str) -> int:
        if len(self._order) != len(self.secrets):  # the set only grows (AppContext.protect)
            self._order = sorted(self.secrets, key=len, reverse=True)
        return self.inner.write(redact(text, self.secrets, self._order))


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
        """Never let this value reach stdout or stderr, in any form gpuctl writes it in
        (`output_forms`; values under 6 characters are too likely to occur by chance to be
        replaced). The set is shared with what writes files and GitHub comments."""
        if secret and len(secret) >= MIN_SECRET:
            self.secrets.update(output_forms(secret))

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
        Console = _console_class()

        stream = self.stderr if stderr else self.stdout
        color = stream.isatty() and "NO_COLOR" not in self.environ
        width = int(self.environ.get("COLUMNS", "0") or 0) or None
        return Console(file=stream, color_system="auto" if color else None, width=width or (None if stream.isatty() else 100), highlight=False, soft_wrap=False,
                       markup=False)  # text from the account is never read as rich markup

    def note(self, message: str) -> None:
        """A one-line message for people, on stderr; control characters are escaped."""
        from gpuctl.safetext import printable

        print(printable(message), file=self.stderr)


@functools.cache
def _console_class():
    """rich's Console, but a closed pipe (`gpu serverless list | head -1`) reaches the entry
    point as the BrokenPipeError it is: rich's own default exits 1, which gpuctl.cli.main could
    not tell from an error (it ends gpu as git does, by SIGPIPE)."""
    from rich.console import Console

    class PipeConsole(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True  # nothing more to write: its reader is gone
            raise BrokenPipeError(errno.EPIPE, "the reader of gpu's output went away")

    return PipeConsole
