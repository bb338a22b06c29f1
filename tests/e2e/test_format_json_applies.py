"""`deploy --format json` is `deploy --json`: a CI step that applies with it and pipes stdout to
jq gets the result document, not the text plan (review 2 F7)."""

import json

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project


def test_format_json_without_plan_prints_the_result_document(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    result = account.gpu("serverless", "deploy", "-y", "--format", "json", cwd=proj)
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert doc["applied"] is True and doc["endpoints"][0]["name"] == "echo"
