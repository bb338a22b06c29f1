"""The drift issue's "Ending this drift" section, from the drift document's structured fields."""

from __future__ import annotations

import jsonschema

from gpuctl.catalog import load_catalog
from gpuctl.github.drift_flow import ending
from gpuctl.render import drift as render_drift
from tests.e2e.conftest import ROOT
from tests.test_drift_document import plan, resource

import json

DRIFT_SCHEMA = json.loads((ROOT / "schema" / "drift.schema.json").read_text())
THEIRS = {"ep7": {"id": "ep7", "name": "echo", "env": {"GPUCTL_PROJECT": "other"}}}
NOBODYS = {"ep7": {"id": "ep7", "name": "echo", "env": {}}}


def test_another_project_s_endpoint_is_told_apart_by_the_finding_s_owner_not_by_its_advice_s_words(monkeypatch):
    """The ending chose "Another project's" when the row's advice began with the words
    label_advice happened to use: reworded advice would have sent the reader to adopt the
    endpoint, taking it from the project that runs it. The finding says whose marker it
    carries (`owner`), and the ending reads that."""
    reworded = render_drift.label_advice
    monkeypatch.setattr(render_drift, "label_advice", lambda *a, **k: "Reworded: " + reworded(*a, **k))
    doc = render_drift.build(plan(resource("no-op", id="ep7", drift="unmanaged")), load_catalog(), THEIRS)
    jsonschema.validate(doc, DRIFT_SCHEMA)
    (entry,) = doc["drift"]
    assert entry["owner"] == "other" and entry["what_to_do"].startswith("Reworded: ")
    said = ending(doc)
    assert "**Another project's**" in said and "**Unmanaged**" not in said and "gpu serverless import" not in said, said


def test_an_endpoint_of_no_project_is_unmanaged_in_the_ending():
    doc = render_drift.build(plan(resource("no-op", id="ep7", drift="unmanaged")), load_catalog(), NOBODYS)
    jsonschema.validate(doc, DRIFT_SCHEMA)
    assert doc["drift"][0]["owner"] is None
    said = ending(doc)
    assert "**Unmanaged**" in said and "gpu serverless import ep7 --write" in said and "**Another project's**" not in said, said


def test_two_orphans_of_one_name_are_named_by_their_ids_in_the_ending():
    """`gpu serverless delete old` stops when two endpoints are named "old" and asks for an id,
    so the issue's advice names each by its id (every endpoint, since R5-3: a name is the
    account's, and may be a shell command); each command given then finds its endpoint."""
    import re

    from gpuctl.cli.resolve import find_endpoint

    mine = {"GPUCTL_PROJECT": "demo"}
    account = [{"id": "ep8", "name": "old", "env": mine}, {"id": "ep9", "name": "old", "env": mine}, {"id": "ep5", "name": "gone", "env": mine}]
    doc = render_drift.build(plan(*(resource("orphan", name=e["name"], id=e["id"], desired=None) for e in account)), load_catalog(),
                             {e["id"]: e for e in account})
    jsonschema.validate(doc, DRIFT_SCHEMA)
    said = ending(doc)
    deletes = re.findall(r"`gpu serverless delete (\S+)`", said)
    imports = re.findall(r"`gpu serverless import (\S+) --write`", said)
    assert deletes == ["ep8", "ep9", "ep5"] and imports == ["ep8", "ep9", "ep5"], said  # always by id (R5-3)
    for ref, expected in zip(deletes, ("ep8", "ep9", "ep5")):
        assert find_endpoint(account, ref, "demo")["id"] == expected


def test_an_endpoint_no_config_here_declares_is_drift_with_its_own_ending():
    """Review 7, R7-2: an endpoint last applied from a gpu.jsonc this checkout lacks, with no
    proof it left the repository, is kept (a no-op) with a `config-unproven` note; the report is
    not in sync, so the nightly issue opens, and it says what ends it, and notifies on it."""
    from gpuctl.github.drift_flow import drift_items

    message = "endpoint ep3 ... delete it with `gpu serverless delete ep3`"
    doc = render_drift.build(plan(resource("no-op", name="sb", id="ep3")) | {"notes": [
        {"code": "config-unproven", "address": "endpoint.sb", "message": message, "level": "note"}]}, load_catalog(), {})
    jsonschema.validate(doc, DRIFT_SCHEMA)
    assert doc["in_sync"] is False and doc["drift"] == [] and doc["notes"][0]["code"] == "config-unproven"
    said = ending(doc)
    assert "**Declared by no gpu.jsonc in this checkout**" in said and "endpoint.sb" in said and "--prune" not in said, said
    assert drift_items(doc) == ["endpoint.sb: declared by no gpu.jsonc in this checkout"]
