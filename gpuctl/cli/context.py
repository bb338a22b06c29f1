"""Everything a command needs from the outside world, injected so tests never touch the real
environment, home directory or terminal."""

from __future__ import annotations

import codecs
import errno
import functools
import io
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from gpuctl.redact import MIN_SECRET, Redacting, credential_key, output_forms, url_passwords


@dataclass
class AppContext:
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    cwd: Path = field(default_factory=Path.cwd)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    debug: bool = False
    secrets: set[str] = field(default_factory=set)
    recorder: object | None = None  # gpuctl.provider.recording.Recorder under --record: connect() records through it
    # `stdout` masks every protected value (`protect`) wherever it occurs: the default for
    # everything written, and the only stream for text from outside gpuctl (a worker's answer and
    # logs, an error body). `verbatim` is the same stream unmasked, for the two kinds of output
    # that must reach their reader exactly as made (ADR 38): gpuctl's own documents, whose secret
    # fields are hidden as they are built (`output.print_document`: snapshot, plan, drift, list and
    # status JSON), and `gpu local env`, whose job is to print the key.
    verbatim: TextIO = field(init=False, repr=False)

    def __post_init__(self) -> None:
        for stream in (self.stdout, self.stderr):  # the terminal, pipe or file itself, before any wrapper
            escape_unencodable(stream)
        if self.environ.get("GITHUB_ACTIONS") == "true":  # the runner obeys `::` lines of the step's log: quoted text must not be one
            from gpuctl.safetext import WorkflowCommandGuard

            if self.stdout is sys.stdout:  # the log itself, not a stream a caller reads back (a test's)
                self.stdout = WorkflowCommandGuard(self.stdout)
            if self.stderr is sys.stderr:
                self.stderr = WorkflowCommandGuard(self.stderr)
        self.verbatim = self.stdout  # stdout unmasked (the field's comment above, ADR 38)
        self.stdout = Redacting(self.stdout, self.secrets)
        self.stderr = Redacting(self.stderr, self.secrets)
        self._protect_credentials()

    def _protect_credentials(self) -> None:
        """The values of credential-named variables of the environment (RUNPOD_API_KEY,
        HF_TOKEN, DB_PASSWORD: `redact.credential_key`), and the password of a URL in any
        variable (DATABASE_URL), protected before anything is read: a key pasted into the wrong
        field of gpu.jsonc was quoted back by the config error, which comes before the `${VAR}`
        values are resolved (and protected)."""
        for name, value in self.environ.items():
            if credential_key(name):
                self.protect(value)
            for password in url_passwords(value):
                self.protect(password)

    def protect_variables(self, error: BaseException) -> None:
        """Protect the values of the `${VAR}`s a config error says its file reads (ConfigError
        `variables`), before the error is shown: a value pasted into a wrong field is quoted by
        the error, and the variables are resolved, and protected, only once the file loads."""
        for name in getattr(error, "variables", ()):
            self.protect(self.environ.get(name))

    def protect(self, secret: str | None) -> None:
        """Never let this value reach stdout or stderr, in any form gpuctl writes it in
        (`output_forms`; values under 6 characters are too likely to occur by chance to be
        replaced). The set is shared with what writes files and GitHub comments."""
        if secret and len(secret) >= MIN_SECRET:
            self.secrets.update(output_forms(secret))

    def mask(self, value):
        """`value` (JSON data) with every protected value masked in each string of it, as
        `stdout` masks text (`redact.redact_value`): for the fields of a document written as made
        (`verbatim`, ADR 38) that quote text from outside gpuctl, masked where it is built."""
        from gpuctl.redact import redact_value

        return redact_value(value, self.secrets)

    @property
    def stdout_tty(self) -> bool:
        return self.stdout.isatty()

    @property
    def stdin_tty(self) -> bool:
        return sys.stdin.isatty()

    def stdin_lines(self, what: str, hint: str, limit: int | None = None, large_hint: str = "send less on stdin") -> Iterator[str]:
        """Lines of stdin as UTF-8 text, read as they come (stdin may never end); bytes that are
        not UTF-8 are a usage error naming `what` was read, not the locale's UnicodeDecodeError.
        More than `limit` bytes in all (gpuctl.files.MAX_BYTES by default) is a usage error too:
        `< /dev/zero` is one endless line."""
        from gpuctl.errors import UsageError
        from gpuctl.files import MAX_BYTES, size_words

        if sys.stdin is not None and not hasattr(sys.stdin, "buffer"):  # already text (a StringIO)
            yield from sys.stdin
            return
        limit = MAX_BYTES if limit is None else limit
        left, number = limit, 0
        while sys.stdin is not None and (raw := sys.stdin.buffer.readline(left + 1)):
            number, left = number + 1, left - len(raw)
            if left < 0:
                raise UsageError(f"{what} on stdin is larger than {size_words(limit)}, the most gpuctl reads",
                                 hint=large_hint)
            try:
                yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                raise UsageError(f"{what} on stdin is not UTF-8 text (line {number})", hint=hint) from None

    @property
    def stderr_tty(self) -> bool:
        return self.stderr.isatty()

    def live(self, stream: TextIO) -> bool:
        """Whether progress on `stream` is drawn live (bars, spinners, lines redrawn in place)
        rather than written as plain lines: the one rule for every progress view (deploy's,
        warm's, invoke's status line). Only on a terminal that can move its cursor back, so not
        under TERM=dumb (Emacs' shell shows the escapes as text), nor in a pipe, a file or CI's log."""
        return stream.isatty() and self.environ.get("TERM") != "dumb"

    @property
    def stderr_live(self) -> bool:
        """`live` for stderr, where every progress view draws."""
        return self.live(self.stderr)

    def colour(self, stream: TextIO) -> bool:
        """Whether what is written to `stream` may be coloured: the one rule for every output
        (rich consoles, `logs`). Only on a terminal, and not when NO_COLOR is set to anything
        but "" (https://no-color.org) or TERM=dumb (a terminal that shows escapes as text, such
        as Emacs' shell), as git, ls and rich do."""
        return stream.isatty() and not self.environ.get("NO_COLOR") and self.environ.get("TERM") != "dumb"

    def console(self, stderr: bool = False, width: int | None = None):
        """A rich console for people; plain where `colour` says so. `width` overrides the
        terminal's (COLUMNS, else 100 in a pipe)."""
        Console = _console_class()

        stream = self.stderr if stderr else self.stdout
        color = self.colour(stream)
        width = width or _columns(self.environ)
        return Console(file=stream, color_system="auto" if color else None, width=width or (None if stream.isatty() else 100), highlight=False, soft_wrap=False,
                       markup=False, secrets=self.secrets)  # text from the account is never read as rich markup

    def seconds(self, name: str, default: float, *, positive: bool = False) -> float:
        """A number of seconds from environment variable `name` (0 or more; more than 0 when
        `positive`), else `default`; any other value is an error naming the variable, never an
        internal error."""
        import math

        from gpuctl.cli.durations import MAX_SECONDS
        from gpuctl.errors import UsageError

        raw = self.environ.get(name, "").strip()
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and (value > 0 if positive else value >= 0) and value <= MAX_SECONDS):  # past time_t, a sleep raises OverflowError
            what = "more than 0" if positive else "0 or more"
            raise UsageError(f"environment variable {name} is not a number of seconds ({what}, at most {MAX_SECONDS // 86400} days; the value is not shown, as for a flag)",
                             hint=f"set it to a number such as {name}={default:g}, or unset it for the default ({default:g})")
        return value

    def note(self, message: str) -> None:
        """A one-line message for people, on stderr; control characters are escaped. One write
        with its newline: `print` writes the newline separately, and a signal taken between the
        two left the line open, so the `error:` line that followed began mid-line."""
        from gpuctl.safetext import printable

        self.stderr.write(printable(message) + "\n")


ESCAPE = "gpuctl.escape"  # the encode error handler of gpu's streams (`escape_unencodable`)


def _escape(error: UnicodeError) -> tuple[str, int]:
    """A character the stream's encoding cannot hold, written as JSON's `\\uXXXX` escape (a
    surrogate pair past U+FFFF): JSON on stdout stays the same JSON to any reader, since every
    character outside a JSON string is ASCII; text shows which character it was."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    out = []
    for char in error.object[error.start:error.end]:
        code = ord(char)
        if code > 0xFFFF:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            out.append(f"\\u{code:04x}")
    return "".join(out), error.end


codecs.register_error(ESCAPE, _escape)


def escape_unencodable(stream: TextIO) -> None:
    """Make `stream` (gpu's stdout or stderr, when it is a text stream over bytes) write a
    character its encoding cannot hold as an escape (`_escape`) rather than fail: under
    PYTHONIOENCODING=ascii, or a latin-1 terminal, a plan's arrow (→), a cost's × or a name from the
    account ended the command in an internal UnicodeEncodeError (review 4, R4-10). The one place
    gpu's streams get their encoding rules; a stream a test hands in as text (StringIO) has none."""
    if isinstance(stream, io.TextIOWrapper) and stream.errors != ESCAPE:
        try:
            stream.reconfigure(errors=ESCAPE)
        except (ValueError, OSError):  # closed, or not reconfigurable: left as it is
            pass


@functools.cache
def _console_class():
    """rich's Console, but:

    - every text is masked (`redact_text`) as it is handed to rich to lay out, before rich
      folds it at the console's width or crops it to a cell: a registered secret never reaches
      the stream in pieces that the stream's masker could not recognise (gpuctl.redact);
    - a closed pipe (`gpu serverless list | head -1`) reaches the entry point as the
      BrokenPipeError it is: rich's own default exits 1, which gpuctl.cli.main could not tell
      from an error (it ends gpu as git does, by SIGPIPE)."""
    from rich.console import Console
    from rich.protocol import rich_cast
    from rich.text import Text

    from gpuctl.redact import Order, redact, redact_text

    class PipeConsole(Console):
        def __init__(self, *args, secrets: set[str], **kwargs):
            super().__init__(*args, **kwargs)
            self.order = Order(secrets)

        def render(self, renderable, options=None):
            """Each renderable, nested ones included (a table's cells, a panel's body, a live
            display's lines), comes through here before it is laid out."""
            order = self.order()
            if order:
                renderable = rich_cast(renderable)
                if isinstance(renderable, Text):
                    renderable = redact_text(renderable, order)
                elif isinstance(renderable, str):
                    renderable = redact(renderable, self.order.secrets, order)
            return super().render(renderable, options)

        def on_broken_pipe(self) -> None:
            self.quiet = True  # nothing more to write: its reader is gone
            raise BrokenPipeError(errno.EPIPE, "the reader of gpu's output went away")

    return PipeConsole


def _columns(environ: Mapping[str, str]) -> int | None:
    """The terminal width COLUMNS gives, when it is a positive whole number; anything else is
    ignored, as the shell's own programs do (a width of 0 or less made rich print nothing)."""
    raw = environ.get("COLUMNS", "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and int(raw) > 0 else None
