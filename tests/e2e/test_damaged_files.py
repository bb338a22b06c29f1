"""Damaged files of ours get a clear error and a way out, never `internal error` (issue 9,
item 5): the journal and lock in `.gpu/`, and saved plans given to `--from-plan`."""

from __future__ import annotations

import json
import os

import pytest

from tests.e2e.conftest import echo_config, project

pytestmark = pytest.mark.e2e

VALID = json.dumps({"at": 1.0, "address": "endpoint.echo", "op": "create", "state": "done", "id": None})
JOURNALS = {
    "binary": b"\x00\xff\xfe garbage \x80\n",
    "not-an-object": b"[1, 2, 3]\n" + VALID.encode() + b"\n",
    "no-at": json.dumps({"address": "endpoint.echo", "op": "create", "state": "intent"}).encode() + b"\n",
    "at-is-text": json.dumps({"at": "yesterday", "address": "endpoint.echo", "op": "create", "state": "intent"}).encode() + b"\n",
}


def assert_clear(result, *words: str) -> None:
    assert result.code == 1, result.out + result.err
    assert "internal error" not in result.err and "Traceback" not in result.err, result.err
    for word in words:
        assert word in result.err, result.err


@pytest.mark.parametrize("case", sorted(JOURNALS))
def test_a_damaged_journal_names_the_file_and_that_deleting_gpu_is_safe(account, tmp_path, case):
    proj = project(tmp_path / "proj", echo_config())
    (proj / ".gpu").mkdir()
    (proj / ".gpu" / "journal.jsonl").write_bytes(JOURNALS[case])
    result = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj)
    assert_clear(result, "journal.jsonl", "deleting .gpu/ is always safe")
    assert account.endpoints() == []  # refused before any write
    (proj / ".gpu" / "journal.jsonl").unlink()
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj).code == 0


def test_a_torn_last_line_is_what_kill_9_leaves_and_is_not_an_error(account, tmp_path):
    proj = project(tmp_path / "proj", echo_config())
    (proj / ".gpu").mkdir()
    (proj / ".gpu" / "journal.jsonl").write_text(VALID + '\n{"at": 2.0, "addr')
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj).code == 0


def test_gpu_dir_that_is_a_file(account, tmp_path):
    proj = project(tmp_path / "proj", echo_config())
    (proj / ".gpu").write_text("not a directory")
    assert_clear(account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj), ".gpu is not a directory", "always safe")


@pytest.mark.parametrize("name", ["journal.jsonl", "deploy.lock"])
def test_a_file_of_ours_that_is_a_directory(account, tmp_path, name):
    proj = project(tmp_path / "proj", echo_config())
    (proj / ".gpu" / name).mkdir(parents=True)
    assert_clear(account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj), f"{name} is a directory", "always safe")


@pytest.mark.parametrize("name", ["journal.jsonl", "deploy.lock", ".gitignore"])
def test_a_file_of_ours_that_is_a_link_is_refused_and_its_target_left_alone(account, tmp_path, name):
    """A checkout holds what its repository holds: a `.gpu/deploy.lock` committed as a link to
    another file of the user's had that file truncated by the next deploy (the journal's lines
    would have been appended to it). gpuctl never writes its files through a link; a dangling
    `.gitignore` link is left as it is, not followed to create its target."""
    proj = project(tmp_path / "proj", echo_config())
    victim = tmp_path / "precious.txt"
    victim.write_text("precious\n")
    (proj / ".gpu").mkdir()
    (proj / ".gpu" / name).symlink_to(victim if name != ".gitignore" else tmp_path / "created-through-the-link")
    if name == "journal.jsonl":  # the journal is written only once the lock is held
        (proj / ".gpu" / "deploy.lock").write_text("")
    result = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj)
    if name == ".gitignore":
        assert result.code == 0, result.err
        assert not (tmp_path / "created-through-the-link").exists()
    else:
        assert_clear(result, f".gpu/{name} is a symbolic link", "always safe")
        assert account.endpoints() == []
    assert victim.read_text() == "precious\n"


@pytest.mark.parametrize("name", ["journal.jsonl", "deploy.lock"])
def test_a_file_of_ours_that_is_a_named_pipe_is_refused(account, tmp_path, name):
    """A FIFO in place of the journal made deploy wait for a writer for ever; in place of the lock
    it was an internal error ("File or stream is not seekable")."""
    proj = project(tmp_path / "proj", echo_config())
    (proj / ".gpu").mkdir()
    os.mkfifo(proj / ".gpu" / name)
    assert_clear(account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj), f"{name} is a named pipe", "always safe")
    assert account.endpoints() == []


def test_a_lock_file_with_binary_bytes_is_taken_over(account, tmp_path):
    """The lock file only names the holder; the kernel lock is the lock. Garbage in it names nobody."""
    proj = project(tmp_path / "proj", echo_config())
    (proj / ".gpu").mkdir()
    (proj / ".gpu" / "deploy.lock").write_bytes(b"\xff\xfe\x00[1]")
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj).code == 0


SAVED = {
    "not-json": b"this is not json",
    "a-list": b"[1, 2]",
    "empty": b"",
    "binary": b"\x00\xff\xfe\x80",
    "missing-keys": b'{"format_version": "1"}',
}


@pytest.mark.parametrize("case", sorted(SAVED))
def test_from_plan_with_a_file_that_is_not_a_plan(account, tmp_path, case):
    proj = project(tmp_path / "proj", echo_config())
    (proj / "plan.json").write_bytes(SAVED[case])
    result = account.gpu("serverless", "deploy", "--from-plan", "plan.json", "--provider", "local", cwd=proj)
    assert_clear(result, "plan.json", "is not a saved plan", "deploy --plan --out")
    assert account.endpoints() == []


def test_from_plan_of_an_unknown_format_version_is_refused(account, tmp_path):
    proj = project(tmp_path / "proj", echo_config())
    made = account.gpu("serverless", "deploy", "--plan", "--out", "plan.json", "--provider", "local", cwd=proj)
    assert made.code == 0, made.err
    doc = json.loads((proj / "plan.json").read_text())
    (proj / "plan.json").write_text(json.dumps({**doc, "format_version": "99"}))
    result = account.gpu("serverless", "deploy", "--from-plan", "plan.json", "--provider", "local", cwd=proj)
    assert_clear(result, 'plan format "99"', 'format "1" only')
    assert account.endpoints() == []
    (proj / "plan.json").write_text(json.dumps(doc))
    assert account.gpu("serverless", "deploy", "--from-plan", "plan.json", "--provider", "local", cwd=proj).code == 0


ENDPOINT = {"id": "ep1", "name": "echo", "env": {"GPUCTL_PROJECT": "e2e"}}
SNAPSHOTS = {
    "deeply-nested": "[" * 100_000 + "]" * 100_000,
    "name-is-a-list": json.dumps({"endpoints": [{**ENDPOINT, "name": []}]}),
    "env-is-a-number": json.dumps({"endpoints": [{**ENDPOINT, "env": 1}]}),
    "env-value-is-a-number": json.dumps({"endpoints": [{**ENDPOINT, "env": {"X": 1}}]}),
    "workers-max-is-text": json.dumps({"endpoints": [{**ENDPOINT, "workers": {"min": 0, "max": "lots"}}]}),
    "item-is-a-string": json.dumps({"endpoints": ["ep1"]}),
    "volume-without-size": json.dumps({"networkVolumes": [{"id": "v1", "name": "models", "dataCenter": "EU-RO-1"}]}),
    "endpoints-is-an-object": json.dumps({"endpoints": {"id": "ep1"}}),
    "binary": "\udcff",
}


@pytest.mark.parametrize("case", sorted(SNAPSHOTS))
def test_observed_snapshot_of_the_wrong_shape(account, tmp_path, case):
    proj = project(tmp_path / "proj", echo_config())
    path = proj / "account.json"
    if case == "binary":
        path.write_bytes(b"\xff\xfe\x00\x81")
    else:
        path.write_text(SNAPSHOTS[case])
    result = account.gpu("serverless", "deploy", "--plan", "--observed", "account.json", cwd=proj)
    assert_clear(result, "account.json")
    assert "gpu serverless snapshot" in result.err, result.err


@pytest.mark.parametrize("given", ["NaN", '{"x": Infinity}', '{"a": ' * 50_000 + "1" + "}" * 50_000], ids=["nan", "infinity", "deep"])
def test_invoke_input_that_is_not_plain_json(account, tmp_path, given):
    proj = project(tmp_path / "proj", echo_config())
    (proj / "input.json").write_text(given)
    result = account.gpu("serverless", "invoke", "echo", "--input", "@input.json", cwd=proj)
    assert_clear(result, "job input", "input.json")
