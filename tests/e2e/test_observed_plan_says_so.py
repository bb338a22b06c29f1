"""A plan against a snapshot says so (review 2 F10): the header named only the provider and
the in-sync summary said "The account matches gpu.jsonc", so a fork-PR comment made from an
old snapshot read as a statement about the live account."""

from __future__ import annotations

import json

import jsonschema

from tests.e2e.conftest import ECHO_HANDLER, ROOT, echo_config, project

PLAN_SCHEMA = json.loads((ROOT / "schema" / "plan.schema.json").read_text())


def test_a_plan_against_a_snapshot_names_it_in_every_rendering(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    taken = account.gpu("serverless", "snapshot", "--config", "gpu.jsonc", "--out", "snap.json", cwd=proj)
    assert taken.code == 0, taken.err

    text = account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", "--observed", "snap.json", cwd=proj)
    assert text.code == 0, text.out + text.err
    assert text.out.splitlines()[0] == 'gpuctl plan for project "e2e" (provider local, config gpu.jsonc, against snapshot snap.json)'
    assert "No changes. gpu.jsonc matches the snapshot." in text.out and "The account matches" not in text.out

    markdown = account.gpu("serverless", "deploy", "--plan", "--format", "markdown", "--observed", "snap.json", cwd=proj)
    assert markdown.code == 0, markdown.err
    assert markdown.out.startswith("### gpuctl plan: No changes. gpu.jsonc matches the snapshot.\n")
    assert "· provider `local` · against snapshot `snap.json` ·" in markdown.out

    document = account.gpu("serverless", "deploy", "--plan", "--json", "--observed", "snap.json", cwd=proj).json()
    assert document["observed_from"] == "snap.json"
    jsonschema.validate(document, PLAN_SCHEMA)

    live = account.gpu("serverless", "deploy", "--plan", "--json", cwd=proj).json()  # against the account: no such key
    assert "observed_from" not in live
    jsonschema.validate(live, PLAN_SCHEMA)
    live_text = account.gpu("serverless", "deploy", "--plan", cwd=proj)
    assert "against snapshot" not in live_text.out and "No changes. The account matches gpu.jsonc." in live_text.out
