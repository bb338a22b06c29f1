"""File options that read or write a named file only: `-` is no file name gpuctl means, and
click's Path takes it as one (`--out -` wrote a file named "-", `--from-plan -` read it,
`--config -` read a directory named "-", `--data-dir -` made one).

Every path option and argument of the CLI takes one of these types (a test walks the whole
command tree for a bare click.Path), so a new one cannot take `-` for a file name by
forgetting to refuse it. An option for which `-` means stdin or stdout is no path option:
`invoke --input` takes JSON, `@FILE` or `-` as text and reads stdin itself."""

from __future__ import annotations

import click

from gpuctl.files import names_stdin


class OwnWords(click.BadParameter):
    """A refusal whose message says it all, not the type's `accepts` (gpuctl.cli.usage)."""


class NamedFile(click.Path):
    """A click.Path that refuses "-" with `accepts` (gpuctl's own words, shown by usage.py)."""

    def __init__(self, accepts: str, **kwargs):
        super().__init__(allow_dash=False, **kwargs)
        self.accepts = accepts

    def convert(self, value, param, ctx):
        if value in ("-", b"-"):
            self.fail(self.accepts, param, ctx)
        if ctx is not None and param is not None and isinstance(value, str) and names_stdin(value):
            self._one_stdin(param, ctx)
        return super().convert(value, param, ctx)

    def _one_stdin(self, param, ctx) -> None:
        """Refuse a second option that names gpu's stdin (`/dev/stdin`, `/dev/fd/0`, ...): the
        first reads a pipe to its end, and the second found it drained and said the user's file
        was empty (review 10, R10-2). The contexts of one run share `meta`, so every path option
        of the command line is seen here, before any file is read."""
        name = param.opts[0] if getattr(param, "opts", None) else param.human_readable_name
        taken = ctx.meta.setdefault("gpuctl.stdin", [])
        other = next((n for n in taken if n != name), None)
        if other is not None:
            raise OwnWords(f"only one option can read stdin: {other} and {name} both name it; give the other file by its path", ctx, param)
        taken.append(name)


def named_file(stdio: str, kind: str | None = None, **kwargs) -> NamedFile:
    """A NamedFile whose refusal of "-" says what does the stdin/stdout job instead (`stdio`);
    `kind` names what it wants (default: a directory when it takes no file, else a file)."""
    kind = kind or ("file" if kwargs.get("file_okay", True) else "directory")
    return NamedFile(f'must be a {kind} name, not "-": {stdio}', **kwargs)


# The types the CLI's shared path options take.
CONFIG_FILE = named_file("give the path of gpu.jsonc (gpu reads no config from stdin; to check text you have, write it to a file first)")
RECORD_DIR = named_file("give the directory to record into, such as --record rec/ (it is created when missing)", kind="directory")
DATA_DIR = named_file("give the local provider's state directory, or leave --data-dir out for the default", file_okay=False)
