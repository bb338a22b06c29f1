"""Files a command writes where the user said (`deploy --out`, `snapshot --out`): never over a
file the same run reads, and a path that cannot be written is a user error with the fix, not
an internal one."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from gpuctl.cli.context import AppContext
from gpuctl.cli.planning import config_path
from gpuctl.errors import UsageError
from gpuctl.files import replace_text


def write_output(app: AppContext, given: str, text: str, *, flag: str, inputs: Iterable[str | None] = ()) -> Path:
    """Write `text` to the file `flag` names. `inputs` are the files this run reads (gpu.jsonc,
    the policy file, the snapshot, None for one it does not): writing over one is refused, so
    `deploy --plan --out gpu.jsonc` cannot replace the config with a plan."""
    path, display = config_path(app, given)
    for name in inputs:
        read, shown = config_path(app, name)
        if read.exists() and path.exists() and path.resolve() == read.resolve():
            raise UsageError(f"{flag} {display} would write over {shown}, which this run reads",
                             hint=f"give {flag} a file of its own, such as {flag} plan.json")
    try:
        replace_text(path, text)  # whole or not at all: an interrupt never leaves half a plan for --from-plan
    except OSError as exc:
        missing = isinstance(exc, FileNotFoundError)
        hint = f"create {Path(display).parent} first, or give {flag} a file in a directory that exists" if missing else f"give {flag} a file you can write"
        raise UsageError(f"cannot write {flag} {display}: {exc.strerror or exc}", hint=hint) from None
    return path
