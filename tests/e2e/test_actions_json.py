"""In GitHub Actions, gpuctl's output is guarded against workflow commands: `##[` (the older
form of one) is written `#\\#[`. Inside a JSON string that is an escape JSON does not have, so a
`--json` document naming anything with `##[` in it (an endpoint named in the console, text from
the account) was no longer JSON. A document writes it `#\\u0023[`: the same string to every JSON
reader, and nothing the runner obeys."""

from __future__ import annotations

import json

NAME = "evil##[error]x"


def test_a_json_document_in_github_actions_stays_json_when_a_name_holds_the_old_command_form(account, tmp_path):
    made = account.server.http.post("/v2/serverless", json={"name": NAME, "type": "QUEUE", "image": "x/y:1", "gpu": {"pools": ["ADA_24"]},
                                                             "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}})
    assert made.status_code == 201, made.text
    listed = account.gpu("serverless", "list", "--all", "--json", cwd=tmp_path, env={"GITHUB_ACTIONS": "true"})
    assert listed.code == 0, listed.err
    assert "##[" not in listed.out
    assert NAME in [row["name"] for row in json.loads(listed.out)["endpoints"]]
    text = account.gpu("serverless", "list", "--all", cwd=tmp_path, env={"GITHUB_ACTIONS": "true", "COLUMNS": "200"})
    assert text.code == 0 and "##[" not in text.out and "evil#\\#[error]x" in text.out, text.out
