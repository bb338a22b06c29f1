"""File options that read or write a named file only: `-` is no file name gpuctl means, and
click's Path takes it as one (`--out -` wrote a file named "-", `--from-plan -` read it)."""

from __future__ import annotations

import click


class NamedFile(click.Path):
    """A click.Path that refuses "-" with `accepts` (gpuctl's own words, shown by usage.py)."""

    def __init__(self, accepts: str, **kwargs):
        super().__init__(allow_dash=False, **kwargs)
        self.accepts = accepts

    def convert(self, value, param, ctx):
        if value in ("-", b"-"):
            self.fail(self.accepts, param, ctx)
        return super().convert(value, param, ctx)


def named_file(stdio: str, **kwargs) -> NamedFile:
    """A NamedFile whose refusal of "-" says what does the stdin/stdout job instead (`stdio`)."""
    return NamedFile(f'must be a file name, not "-": {stdio}', **kwargs)
