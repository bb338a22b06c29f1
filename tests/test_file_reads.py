"""A static rule: gpuctl opens a file to read it through gpuctl.files alone (`read_bytes`,
`read_text`, `read_json`, `read_piece`), which refuses a device, a socket and a named pipe
before opening it (R4-12: `--from-plan`, `--observed`, `--policy` and `--input @FILE` each
reached the reader another way over time, and a FIFO with no writer hung them), and opens a
file a user names to write it through gpuctl.files alone too (`replace_text`,
`write_in_place`, `open_to_write`), which refuses a named pipe (`deploy --plan --out FIFO`
and a GITHUB_OUTPUT that named a FIFO with no reader waited for ever).

Every other call in gpuctl/ that opens a file (`open()`, `os.open`, `os.fdopen`, `Path.open`,
`Path.read_text`, `Path.read_bytes`, `Path.write_text`, `Path.write_bytes`) is listed below
with why it is no file a user names: a new one fails this test until it goes through
gpuctl.files or is added with its reason."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OPENS = {"open", "fdopen", "read_text", "read_bytes", "write_text", "write_bytes"}

# "module:function" -> why the file it opens is not one a user names (or is opened safely).
ALLOWED = {
    "gpuctl/catalog.py:load_catalog": "gpuctl's own packaged catalog (state/)",
    "gpuctl/doctor/openapi.py:spec": "gpuctl's own packaged OpenAPI document (state/)",
    "gpuctl/local/store/reference.py:Catalog._gpu_doc": "the packaged catalog",
    "gpuctl/local/store/reference.py:Catalog.data_centers": "the packaged catalog",
    "gpuctl/local/controlplane/requests.py:RequestRules.spec": "the packaged OpenAPI document",
    "gpuctl/warm/cpu.py:downloader_argv": "gpuctl's own download.py, sent to the worker",
    "gpuctl/warm/download.py:get": "an HTTP request (urllib's opener), on the worker",
    "gpuctl/warm/download.py:fetch": "writes the download, on the worker",
    "gpuctl/warm/download.py:model": "writes the download's ref file, on the worker",
    "gpuctl/cli/__init__.py:_end_on_closed_pipe": "os.devnull, to write",
    "gpuctl/credentials.py:_fsync_dir": "a directory, for fsync",
    "gpuctl/engine/lease.py:pid_space": "/proc: the kernel's boot id",
    "gpuctl/config/loader.py:sparse_checkout": "git's own `.git` file (a worktree's pointer to its git directory), no file the user names",
    "gpuctl/local/datadir/reaper.py:marked_processes": "/proc: a process's environment",
    "gpuctl/local/datadir/reaper.py:alive": "/proc: a process's state",
    "gpuctl/local/datadir/reaper.py:_stat": "/proc: a process's parent and start time",
    "gpuctl/local/runtime/subreaper.py:_children_of": "/proc: a process's parent",
    "gpuctl/local/runtime/subreaper.py:_spawn": "the pipe the forked worker reports its exec error on",
    "gpuctl/local/runtime/supervisor.py:_read_all": "the pipe the subreaper reports the worker's pid on",
    "gpuctl/engine/journal.py:Journal.record": "the descriptor statedir.open_own opened (no FIFO, no link, not blocking)",
    "gpuctl/engine/journal.py:Journal.unfinished": "the descriptor statedir.open_own opened",
    "gpuctl/engine/lock.py:ProjectLock.acquire": "the descriptor statedir.open_own opened",
    "gpuctl/engine/statedir.py:open_own": "gpuctl's own .gpu/ files: O_NOFOLLOW, O_NONBLOCK, refused unless regular",
    "gpuctl/engine/statedir.py:_ignored_by_git": "creates .gpu/.gitignore (O_EXCL, O_NOFOLLOW)",
    "gpuctl/github/policy_base.py:choose": "writes a new file in gpuctl's own scratch directory",
    "gpuctl/github/fork.py:file_blob_id": "hashed a chunk at a time: O_NONBLOCK, refused unless regular",
    "gpuctl/local/client/lifecycle.py:lock_held": "the local provider's own lock file",
    "gpuctl/local/client/lifecycle.py:_log_tail": "the server's own log: O_NONBLOCK, refused unless regular",
    "gpuctl/local/datadir/private.py:open_append": "the data dir's own files, to write (O_NONBLOCK)",
    "gpuctl/local/datadir/private.py:write_new": "a new file (O_EXCL, O_NOFOLLOW), to write",
    "gpuctl/local/datadir/secrets.py:Secrets.read": "the data dir's secret files: O_NOFOLLOW, O_NONBLOCK, refused unless regular",
    "gpuctl/local/runtime/logs.py:LogFile.attach": "the local provider's worker log, to append to",
    "gpuctl/local/server/process.py:serve": "the data dir's lock, held for the server's life",
}


def _opens(path: Path, root: Path = ROOT):
    """("module:function", line) of each call that opens a file, outside gpuctl.files."""
    found, scope = [], []

    class Visit(ast.NodeVisitor):
        def scoped(self, node):
            scope.append(node.name)
            self.generic_visit(node)
            scope.pop()

        visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = scoped

        def visit_Call(self, node):
            fn = node.func
            if (isinstance(fn, ast.Name) and fn.id == "open") or (isinstance(fn, ast.Attribute) and fn.attr in OPENS):
                found.append((f"{path.relative_to(root).as_posix()}:{'.'.join(scope)}", node.lineno))
            self.generic_visit(node)

    Visit().visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def _all_opens():
    for path in sorted((ROOT / "gpuctl").rglob("*.py")):
        if path.relative_to(ROOT).as_posix() != "gpuctl/files.py":
            yield from _opens(path)


def test_no_module_opens_a_file_to_read_but_through_gpuctl_files():
    stray = [f"{where} (line {line})" for where, line in _all_opens() if where not in ALLOWED
             and not where.startswith("gpuctl/config/sourcemap.py:")]  # sourcemap's `open` is a frame's, no file
    assert stray == [], ("read a file the user names with gpuctl.files (read_bytes, read_text, read_json, read_piece), "
                         "write one with gpuctl.files (replace_text, write_in_place), "
                         "or add the call to ALLOWED with why it is none")


def test_every_allowed_call_is_still_there():
    assert set(ALLOWED) - {where for where, _ in _all_opens()} == set()


def test_the_rule_sees_what_it_forbids(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f(p):\n    return p.read_text() + open(p).read()\n\ndef g(p):\n    p.write_text('x')\n    p.open('a').write('y')\n")
    assert _opens(sample, tmp_path) == [("sample.py:f", 2), ("sample.py:f", 2), ("sample.py:g", 5), ("sample.py:g", 6)]
