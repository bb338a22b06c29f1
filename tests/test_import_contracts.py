"""The import rules of docs/architecture.md hold: `lint-imports` keeps every contract of
`.importlinter`, each exception it lists is still needed, and a breach makes it fail. Beside
it, what import-linter cannot see: the local provider's client side loads only the standard
library, and no SQL is written outside `gpuctl/local/store/`."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

CONFIG = ROOT / ".importlinter"
LOCAL = ROOT / "gpuctl" / "local"


def lint(config: Path = CONFIG, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    """Run lint-imports on `config`; with `pythonpath`, against the gpuctl found there (it
    also looks in the directory it runs in, so it runs there)."""
    env = None if pythonpath is None else {"PYTHONPATH": str(pythonpath), "PATH": "/usr/bin:/bin"}
    lint_imports = Path(sys.executable).parent / "lint-imports"
    return subprocess.run([str(lint_imports), "--no-cache", "--no-logo", str(config)], cwd=pythonpath or ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def contracts() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    return parser


def entries(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_every_contract_is_kept() -> None:
    done = lint()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


EXCEPTIONS = [(section, line) for section in contracts().sections()
              for line in entries(contracts()[section].get("ignore_imports", ""))]


@pytest.mark.parametrize("section, exception", EXCEPTIONS, ids=[f"{s.split(':')[-1]}: {e}" for s, e in EXCEPTIONS])
def test_each_exception_is_needed(tmp_path: Path, section: str, exception: str) -> None:
    """Without one of its exceptions, that contract breaks: none is left over, and the
    contracts do fail when an import breaks them."""
    text = CONFIG.read_text()
    assert text.count(f"    {exception}\n") == 1
    (tmp_path / ".importlinter").write_text(text.replace(f"    {exception}\n", ""))
    done = lint(tmp_path / ".importlinter")
    assert done.returncode != 0, done.stdout
    assert f"{contracts()[section]['name']} BROKEN" in " ".join(done.stdout.split())


@pytest.fixture(scope="module")
def breached(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess:
    """lint-imports on a copy of gpuctl where the store imports starlette and the control plane
    the api: what a hurried change might do."""
    copy = tmp_path_factory.mktemp("breach")
    shutil.copytree(ROOT / "gpuctl", copy / "gpuctl", ignore=shutil.ignore_patterns("__pycache__"))
    with (copy / "gpuctl" / "local" / "store" / "ids.py").open("a") as handle:
        handle.write("\nimport starlette  # breach\n")
    with (copy / "gpuctl" / "local" / "controlplane" / "volumes.py").open("a") as handle:
        handle.write("\nfrom gpuctl.local.api import http  # breach\n")
    return lint(CONFIG, pythonpath=copy)


@pytest.mark.parametrize("contract", ["local-layers", "local-http"])
def test_a_breach_breaks_its_contract(breached: subprocess.CompletedProcess, contract: str) -> None:
    assert breached.returncode != 0
    assert f"{contracts()['importlinter:contract:' + contract]['name']} BROKEN" in " ".join(breached.stdout.split())


def test_the_http_contract_names_every_package_below_the_api() -> None:
    """A new package of the local provider is checked for starlette without anyone
    remembering to list it (the layers contract is exhaustive, this one is not by itself)."""
    children = {p.stem if p.is_file() else p.name for p in LOCAL.iterdir() if p.name != "__pycache__" and p.name != "__init__.py"}
    sources = {s.removeprefix("gpuctl.local.") for s in entries(contracts()["importlinter:contract:local-http"]["source_modules"])}
    assert sources == children - {"api", "server", "__main__"}


def test_the_client_side_loads_only_the_standard_library() -> None:
    """What `gpu local ...` and the CLI's provider choice import: no starlette, uvicorn, httpx,
    jsonschema or anything else outside the standard library and gpuctl.local."""
    code = "import sys, gpuctl.local.client.lifecycle; print('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-S", "-c", code], env={"PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                          timeout=60, check=True)  # -S: no site packages, so what is loaded is what the import needs
    roots = {name.split(".")[0] for name in done.stdout.split()}
    foreign = roots - set(sys.stdlib_module_names) - {"gpuctl", "__main__"}
    assert not foreign, f"the client side imports {sorted(foreign)}"
    ours = {n for n in done.stdout.split() if n.startswith("gpuctl.") and not n.startswith("gpuctl.local")}
    assert ours == {"gpuctl.errors", "gpuctl.files"}, ours


SQL = re.compile(
    r"\.execute(?:many|script)?\(|\bsqlite3\b|\bPRAGMA\b|\bSELECT\b[^\n]*?\bFROM\b|\bINSERT\s+(?:OR\s+\w+\s+)?INTO\b"
    r"|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b|\bCREATE\s+(?:TABLE|INDEX)\b")


@pytest.mark.parametrize("text, sql", [
    ('db.execute("SELECT id FROM jobs WHERE endpoint_id=?", (eid,))', True),
    ("rows = conn.executemany(query, params)", True),
    ('"INSERT OR REPLACE INTO objects (kind) VALUES (?)"', True),
    ('"UPDATE jobs SET status=? WHERE id=?"', True),
    ('"DELETE FROM chunks WHERE job_id=?"', True),
    ("import sqlite3", True),
    ('"PRAGMA quick_check"', True),
    ("v2 DELETE of an endpoint also deletes its bound template", False),
    ("SELECT the first pool, then update the set of workers", False),
    ("Every state change is one SQLite commit in WAL mode", False),
])
def test_the_sql_pattern_tells_sql_from_prose(text: str, sql: bool) -> None:
    assert bool(SQL.search(text)) == sql


def test_no_sql_outside_the_store() -> None:
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
             for path in sorted(LOCAL.rglob("*.py")) if "store" not in path.relative_to(LOCAL).parts
             for n, line in enumerate(path.read_text().splitlines(), 1) if SQL.search(line)]
    assert not found, "SQL outside gpuctl/local/store/:\n" + "\n".join(found)
