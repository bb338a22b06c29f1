"""Names are printable (issue 9, item 8): control characters are rejected in gpu.jsonc, and a
name the account holds (made by another tool) is shown with its control characters escaped,
never replayed to the terminal."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import echo_config, project

pytestmark = pytest.mark.e2e

EVIL = "evil\x1b[2J\x1b]0;pwned\x07\x00[bold]x[/]"


@pytest.mark.parametrize("key", ["name", "volume.name", "project_id"])
def test_control_characters_in_names_are_rejected_at_config_load(account, tmp_path, key):
    config = echo_config(volume="models")
    if key == "project_id":
        config["project_id"] = "p\x1bq"
    elif key == "name":
        config["serverless"]["name"] = "a\x1b[31mb"
    else:
        config["serverless"]["volume"]["name"] = "v\x00x"
    proj = project(tmp_path / "proj", config)
    result = account.gpu("config", "validate", cwd=proj)
    assert result.code == 1 and key.split(".")[-1] in result.err
    assert "\x1b" not in result.err and "\x00" not in result.err
    assert "control characters" in result.err


def raw_endpoint(account, name: str) -> str:
    body = {"name": name, "type": "QUEUE", "image": "x/y:1", "gpu": {"pools": ["ADA_24"]}, "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}}
    answer = account.server.http.post("/v2/serverless", json=body)
    assert answer.status_code < 300, answer.text
    return answer.json()["id"]


def assert_escaped(text: str) -> None:
    assert "\x1b" not in text and "\x00" not in text and "\x07" not in text, repr(text)
    assert "\\x1b" in text, text


def test_account_names_are_escaped_in_list_and_status(account, tmp_path):
    endpoint_id = raw_endpoint(account, EVIL)
    listed = account.gpu("serverless", "list", "--all", cwd=tmp_path)
    assert listed.code == 0, listed.err
    assert_escaped(listed.out)
    assert "[bold]x[/]" in listed.out  # shown as written, never read as markup
    status = account.gpu("serverless", "status", endpoint_id, cwd=tmp_path)
    assert status.code == 0, status.err
    assert_escaped(status.out)
    as_json = account.gpu("serverless", "list", "--all", "--json", cwd=tmp_path)
    assert EVIL in [e["name"] for e in as_json.json()["endpoints"]]  # JSON keeps the real name, escaped by JSON itself
    assert "\x1b" not in as_json.out


def test_account_names_are_escaped_in_errors_and_plans(account, tmp_path):
    raw_endpoint(account, EVIL)
    missing = account.gpu("serverless", "status", "evil", cwd=tmp_path)
    assert missing.code == 1
    assert "\x1b" not in missing.err and "\x00" not in missing.err
    proj = project(tmp_path / "proj", echo_config())
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    mine = next(e for e in account.endpoints() if e["name"] == "echo")
    account.server.http.patch(f"/v2/serverless/{mine['id']}", json={"name": EVIL})
    (proj / "gpu.jsonc").write_text(json.dumps(echo_config(name="other")))
    for fmt in ("text", "markdown"):
        plan = account.gpu("serverless", "deploy", "--plan", "--format", fmt, cwd=proj)
        assert plan.code == 0, plan.err
        assert_escaped(plan.out)  # the orphan's name came from the account


FORGED = "\nerror: a line gpuctl never wrote\x1b[2J"


def test_delete_shows_account_names_escaped_on_one_line(account, tmp_path):
    """`delete` writes what it is about to delete straight to stderr: an endpoint named with ESC
    and a newline (by another tool) recoloured the terminal and began a line that read like
    gpuctl's own error; so did a template's name and image in `template delete`."""
    proj = project(tmp_path / "proj", echo_config(project_id="evil"))
    body = {"name": "mine" + FORGED, "type": "QUEUE", "image": "x/y:1", "gpu": {"pools": ["ADA_24"]}, "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4},
            "env": {"GPUCTL_PROJECT": "evil"}}
    endpoint_id = account.server.http.post("/v2/serverless", json=body).json()["id"]
    template = account.server.http.post("/v2/templates", json={"name": "tpl" + FORGED, "image": "img" + FORGED, "serverless": True})
    assert template.status_code == 201, template.text
    for args in (("serverless", "delete", endpoint_id, "-y"), ("serverless", "template", "delete", template.json()["id"], "-y")):
        done = account.gpu(*args, cwd=proj)
        assert done.code == 0, done.err
        assert "\x1b" not in done.err and "\nerror: a line" not in done.err, done.err
        assert "\\nerror: a line gpuctl never wrote\\x1b[2J" in done.err, done.err
    assert account.endpoints() == []



BIDI = "a\u202eb\x9bc"  # U+202E reverses the rest of a line; \x9b is an 8-bit CSI


def _unseen(text: str) -> bool:
    return "\u202e" not in text and "\x9b" not in text


def test_pull_shows_account_values_escaped_in_its_diff_and_json(account, tmp_path):
    """pull quotes the account's value in its diff and its --json document: a bidi override or
    an 8-bit CSI in it is written as an escape, never to the terminal as it is."""
    proj = project(tmp_path / "proj", echo_config())
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    (mine,) = account.endpoints()
    answer = account.server.http.patch(f"/v2/serverless/{mine['id']}", json={"env": {**mine["env"], "GREETING": "hi " + BIDI}})
    assert answer.status_code == 200, answer.text
    text = account.gpu("serverless", "pull", "--literal-env", "GREETING", cwd=proj)  # no secret: pull may copy it (R11)
    assert text.code == 0, text.err
    assert "GREETING" in text.out and _unseen(text.out + text.err), repr(text.out)
    as_json = account.gpu("serverless", "pull", "--json", "--literal-env", "GREETING", cwd=proj)
    assert as_json.code == 0, as_json.err
    assert _unseen(as_json.out) and "hi " + BIDI in as_json.json()["diff"]  # the same value to a JSON reader


def test_import_shows_account_strings_escaped_in_its_block_and_json(account, tmp_path):
    """import quotes the account's name in its notes, its plan and its --json document, all
    escaped (the block itself is gpu.jsonc text, which refuses such characters)."""
    body = {"name": "ep" + BIDI, "type": "QUEUE", "image": "x/y:1", "gpu": {"pools": ["ADA_24"]}, "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}}
    answer = account.server.http.post("/v2/serverless", json=body)
    assert answer.status_code < 300, answer.text
    proj = project(tmp_path / "proj", echo_config())
    text = account.gpu("serverless", "import", answer.json()["id"], "--name", "taken", cwd=proj)
    assert '"image_name"' in text.out and _unseen(text.out + text.err), repr(text.out + text.err)
    as_json = account.gpu("serverless", "import", answer.json()["id"], "--name", "taken", "--json", cwd=proj)
    assert _unseen(as_json.out + as_json.err), repr(as_json.out + as_json.err)
    assert as_json.json()["endpoint"]["name"] == "ep" + BIDI  # the same value to a JSON reader
