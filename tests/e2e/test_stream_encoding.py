"""gpu writes on a stream of any encoding (review 4, R4-10): under PYTHONIOENCODING=ascii a
plan's arrow (→), its cost's × and an em dash ended the command in "internal error:
UnicodeEncodeError". Text now degrades to `\\uXXXX` escapes and JSON stays the same JSON (the
escape is JSON's own), whatever the stream can encode."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project

pytestmark = pytest.mark.e2e


def _gpu_bytes(account, *args: str, cwd, encoding: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`gpu *args` with stdout and stderr as the bytes written (not decoded as UTF-8)."""
    return subprocess.run([sys.executable, "-m", "gpuctl", *args], cwd=cwd, env=account.env | {"PYTHONIOENCODING": encoding} | (env or {}),
                          capture_output=True, stdin=subprocess.DEVNULL, timeout=120)


def _escaped(text: str, encoding: str) -> str:
    def encodable(c: str) -> bool:
        try:
            c.encode(encoding)
        except UnicodeEncodeError:
            return False
        return True

    return "".join(c if encodable(c) else json.dumps(c)[1:-1] for c in text)


@pytest.fixture
def changed(account, tmp_path):
    """A project deployed, then changed in gpu.jsonc: its plan has an update (→) and costs (×)."""
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    project(proj, echo_config(max_workers=3) | {"project_id": "e2e"})
    return proj


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_plan_on_a_stream_that_cannot_encode_its_characters_is_written_with_escapes(account, changed, encoding):
    utf8 = account.gpu("serverless", "deploy", "--plan", cwd=changed)
    assert utf8.code == 0 and "→" in utf8.out, utf8.out + utf8.err  # the character this is about
    run = _gpu_bytes(account, "serverless", "deploy", "--plan", cwd=changed, encoding=encoding)
    out, err = run.stdout.decode(encoding), run.stderr.decode(encoding)
    assert run.returncode == 0, err
    assert "internal error" not in err and err == ""
    assert "\\u2192" in out  # → as its escape, in either encoding
    assert out == _escaped(utf8.out, encoding)  # the same text, each character the stream cannot hold as its escape


@pytest.mark.parametrize(("encoding", "env"), [("ascii", {}), ("latin-1", {}), ("ascii", {"GITHUB_ACTIONS": "true"})])
def test_json_on_a_stream_that_cannot_encode_its_characters_is_the_same_json(account, changed, encoding, env):
    """In GitHub Actions too, where gpu's streams are wrapped to keep the runner's commands out."""
    utf8 = account.gpu("serverless", "deploy", "--plan", "--json", cwd=changed)
    assert utf8.code == 0, utf8.err
    assert any(not c.isascii() for c in utf8.out)  # the plan's cost (×) is in the document
    run = _gpu_bytes(account, "serverless", "deploy", "--plan", "--json", cwd=changed, encoding=encoding, env=env)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.decode(encoding)) == json.loads(utf8.out)


def test_an_error_on_such_a_stream_is_the_error_not_an_internal_one(account, tmp_path):
    """Text on stderr degrades the same way: a usage error quoting a non-ASCII name."""
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    run = _gpu_bytes(account, "serverless", "status", "naïve—name", cwd=proj, encoding="ascii")
    err = run.stderr.decode("ascii")
    assert run.returncode == 1 and "internal error" not in err
    assert "na\\u00efve\\u2014name" in err
