from __future__ import annotations

import compileall
import io
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from gpuctl.cli import main
from gpuctl.cli.context import AppContext

from tests.support import cpuinfo_once

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
UPDATE_GOLDEN_VARIABLES = ("GPUCTL_UPDATE_GOLDEN", "UPDATE_GOLDEN")


def pytest_configure(config: pytest.Config) -> None:
    """In every pytest process, the bytecode of what it compiles kept (`keep_bytecode`). Once for
    the whole run, in the process that starts the others (an xdist worker inherits the
    controller's environment, where the module that asks py-cpuinfo once is set already):
    gpuctl compiled, and that module put on PYTHONPATH (tests/support/cpuinfo_once.py)."""
    keep_bytecode()
    if cpuinfo_once.installed(os.environ):
        return
    compile_gpuctl()
    config.stash[_CPUINFO_DIR] = directory = Path(tempfile.mkdtemp(prefix=cpuinfo_once.PREFIX))
    cpuinfo_once.install(directory, os.environ)


def pytest_unconfigure(config: pytest.Config) -> None:
    if directory := config.stash.get(_CPUINFO_DIR, None):
        shutil.rmtree(directory, ignore_errors=True)


_CPUINFO_DIR = pytest.StashKey[Path]()


def keep_bytecode() -> None:
    """Where PYTHONDONTWRITEBYTECODE is set, as on the CI machine, each of the five pytest
    processes of a run (the controller and four xdist workers) rewrote and compiled every test
    module again: collecting took 17 s of CPU instead of 7. This process writes what it
    compiles (pytest's rewritten test modules among it) into the `__pycache__` directories git
    ignores; the processes it starts still follow the environment (`compile_gpuctl`)."""
    sys.dont_write_bytecode = False


def compile_gpuctl() -> None:
    """The suite starts thousands of Python processes that import gpuctl: every `gpu` a test
    runs, every local provider. Where PYTHONDONTWRITEBYTECODE is set, as on the CI machine, each
    of them compiled gpuctl's sources again (0.14 s of the 0.5 s of CPU a `gpu serverless
    deploy` took), since none may write the bytecode it made. So the run compiles them once,
    into the `__pycache__` directories git ignores; with bytecode written as usual, the first
    import does the same and this is not needed."""
    if sys.flags.dont_write_bytecode:
        compileall.compile_dir(ROOT / "gpuctl", quiet=1, workers=0)


@dataclass
class Result:
    code: int
    out: str
    err: str


class _Stream(io.StringIO):
    def isatty(self) -> bool:
        return False


def run_cli(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> Result:
    """Run `gpu ARGS` in-process with an injected environment (no real $HOME, no TTY)."""
    out, err = _Stream(), _Stream()
    environ = {"PATH": os.environ.get("PATH", ""), "NO_COLOR": "1", "HOME": "/nonexistent/gpuctl-test-home"} | (env or {})
    code = main(args, AppContext(environ=environ, cwd=cwd, stdout=out, stderr=err))
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli():
    return run_cli


def golden(path: Path, actual: str) -> None:
    """Compare `actual` with the checked-in golden file `path`. A missing golden file fails: a
    test must never accept its own first output unseen. Only when regeneration is asked for,
    with GPUCTL_UPDATE_GOLDEN=1 or UPDATE_GOLDEN=1 (read at each call, "0" means no), is the
    file (re)written, to be reviewed in the diff before it is committed."""
    if any(os.environ.get(name, "0") not in ("", "0") for name in UPDATE_GOLDEN_VARIABLES):
        path.write_text(actual)
    assert path.exists(), f"{path} is missing (run with GPUCTL_UPDATE_GOLDEN=1, then review and commit it)"
    assert actual == path.read_text(), f"{path} differs (rerun with GPUCTL_UPDATE_GOLDEN=1 to accept)"


@pytest.fixture
def far_from_utc(monkeypatch):
    """The process runs in America/New_York (UTC-5 in winter) for the test, so a time read in the
    machine's zone instead of the one it names (or UTC) is hours off; the zone is restored after."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(autouse=True)
def _no_interrupt_yet(monkeypatch):
    """Each test starts in a process that has received no interrupt: `gpuctl.interrupts.arrived`
    counts them for the whole process, and a test that sends itself SIGINT (or counts one) left
    the count at 2 for the next, whose requests then got one attempt each."""
    from gpuctl import interrupts

    monkeypatch.setattr(interrupts, "_count", 0)
