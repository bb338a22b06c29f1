"""What `--record DIR` does with the directory it is given, through the real CLI against the
local provider: it never replaces a file that is not its own (a user's README.md), refuses an
empty DIR and a file as DIR with an error naming the problem, the place and a fix, before any
request, and its README lists only its own recordings, whatever else the directory holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import Account

LIST = ("serverless", "list", "--all")


def _work(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    return work


def _refused(run) -> None:
    assert run.code == 1, (run.out, run.err)
    assert run.err.startswith("error: ") and "hint: " in run.err and "Traceback" not in run.err and "internal error" not in run.err


def test_record_never_replaces_a_readme_it_did_not_write(account: Account, tmp_path: Path):
    work = _work(tmp_path)
    rec = work / "rec"
    rec.mkdir()
    (rec / "README.md").write_text("# My project\n\nMine.\n")
    before = len(account.requests())
    run = account.gpu(*LIST, "--record", "rec", cwd=work)
    _refused(run)
    assert "README.md" in run.err and str(rec) in run.err and "empty or new directory" in run.err
    assert (rec / "README.md").read_text() == "# My project\n\nMine.\n"
    assert sorted(p.name for p in rec.iterdir()) == ["README.md"]  # no cassette, no temporary file
    assert len(account.requests()) == before  # refused before any request


def test_record_rewrites_the_readme_it_wrote(account: Account, tmp_path: Path):
    work = _work(tmp_path)
    assert account.gpu(*LIST, "--record", "rec", cwd=work).code == 0
    first = (work / "rec" / "README.md").read_text()
    assert first.splitlines()[0].startswith("<!-- gpuctl --record")  # the marker it recognises its README by
    run = account.gpu(*LIST, "--record", "rec", cwd=work)
    assert run.code == 0, run.err
    readme = (work / "rec" / "README.md").read_text()
    assert "`list.yaml`" in readme and "`list-2.yaml`" in readme


def test_record_refuses_an_empty_directory(account: Account, tmp_path: Path):
    work = _work(tmp_path)
    before = len(account.requests())
    run = account.gpu(*LIST, "--record", "", cwd=work)
    _refused(run)
    assert "--record" in run.err and "empty" in run.err and "name a directory" in run.err
    assert list(work.iterdir()) == []  # nothing recorded into the working directory
    assert len(account.requests()) == before


def test_record_names_the_file_given_as_its_directory(account: Account, tmp_path: Path):
    work = _work(tmp_path)
    (work / "rec").write_text("mine\n")
    run = account.gpu(*LIST, "--record", "rec", cwd=work)
    _refused(run)
    assert "is a file" in run.err and str(work / "rec") in run.err and "name a directory" in run.err
    assert "--help" not in run.err
    assert (work / "rec").read_text() == "mine\n"


FOREIGN = {
    "not UTF-8": ("notes.yaml", "# caf\u00e9 | provider x | 1 exchanges | gpuctl 1 | 2020-01-01\n".encode("latin-1")),
    "another tool's YAML": ("docker-compose.yaml", b"services:\n  web:\n    image: nginx\n"),
    "empty": ("empty.yaml", b""),
    "a directory": ("folder.yaml", None),
}


@pytest.mark.parametrize("name, data", FOREIGN.values(), ids=FOREIGN.keys())
def test_the_readme_lists_only_gpuctls_recordings(account: Account, tmp_path: Path, name: str, data: bytes | None):
    work = _work(tmp_path)
    rec = work / "rec"
    rec.mkdir()
    if data is None:
        (rec / name).mkdir()
    else:
        (rec / name).write_bytes(data)
    run = account.gpu(*LIST, "--record", "rec", cwd=work)
    assert run.code == 0, run.err
    readme = (rec / "README.md").read_text()
    assert "| `list.yaml` | `gpu serverless list` | local | 1 | " in readme
    assert name not in readme and "services:" not in readme and "caf" not in readme
    assert data is None or (rec / name).read_bytes() == data  # left as it was


def test_record_rewrites_the_readme_of_an_earlier_gpuctl(account: Account, tmp_path: Path):
    """README.md as gpuctl wrote it before the marker line: its title and "Written by" line."""
    work = _work(tmp_path)
    rec = work / "rec"
    rec.mkdir()
    (rec / "README.md").write_text("# gpuctl recordings\n\nWritten by gpuctl 0.1.0 with `--record`. Each `.yaml` file is a cassette.\n")
    run = account.gpu(*LIST, "--record", "rec", cwd=work)
    assert run.code == 0, run.err
    assert "| `list.yaml` |" in (rec / "README.md").read_text()


def test_a_readme_made_while_recording_is_left_alone(tmp_path: Path):
    """`status --watch` records for as long as it runs: a README.md someone writes meanwhile is
    theirs, and the recording goes on without its index."""
    import httpx

    from gpuctl.provider.http import ApiClient
    from gpuctl.provider.recording import Recorder

    recorder = Recorder(tmp_path / "rec", "gpu serverless status", set())
    (tmp_path / "rec" / "README.md").write_text("# Mine\n")
    transport = recorder.transport("https://api.runpod.io", "https://api.runpod.io", httpx.MockTransport(lambda r: httpx.Response(200, json={"endpoints": []})))
    client = ApiClient("https://api.runpod.io", "k", transport=transport)
    client.request("GET", "/v2/serverless")
    client.close()
    assert (tmp_path / "rec" / "README.md").read_text() == "# Mine\n"
    assert sorted(p.name for p in (tmp_path / "rec").iterdir()) == ["README.md", "status.yaml"]
