"""deploy --json's result document is written as made (ADR 38): the fields that quote text
from outside gpuctl are masked where it is built (gpuctl.render.result), every other field is
gpuctl's own and kept as it is, even when it equals a protected value."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

from gpuctl.cli.context import AppContext
from gpuctl.engine.apply import Outcome
from gpuctl.render import result

SECRET = "canary_value_0123"


def test_only_the_fields_quoting_outside_text_are_masked(monkeypatch):
    monkeypatch.setattr(result, "to_document", lambda plan, locate: {"plan": plan})
    app = AppContext(environ={}, stdout=io.StringIO(), stderr=io.StringIO())
    app.protect(SECRET)
    said = f"refused: {SECRET}"
    outcome = Outcome(done=[(f"endpoint.{SECRET}", "create", "id1")], failed=[("endpoint.b", "create", said)], not_attempted=[("endpoint.c", "create")])
    warmed = [{"status": "warmed", "endpoint": {"id": "id1", "name": SECRET}, "mode": "gpu", "seconds": 1.0, "job": {"id": SECRET},
               "handler_error": said, "models": [SECRET], "new_field_from_a_worker": SECRET},
              {"status": "failed", "endpoint": {"id": "id1", "name": SECRET}, "mode": "cpu", "error": said, "detail": said, "hint": said,
               "retry": f"gpu serverless warm {SECRET}"}]
    health = {"healthy": False, "endpoints": [{"name": SECRET, "endpoint_id": "id1", "healthy": False, "steps": [
        {"step": "rollout", "status": "passed", "version": 2, "seconds": 0.5},
        {"step": "smoke", "route": "run", "status": "failed", "job": {"id": "j", "workerId": SECRET}, "error": said, "seconds": 1.0}]}]}
    ran = SimpleNamespace(plan=SECRET, outcome=outcome, warmed=warmed, health=health,
                          endpoints=[{"name": SECRET, "endpoint_id": "id1", "url": f"http://u:{SECRET}@h/v2/id1/runsync"}])
    doc = result.result_document(ran, "local", locate=None, mask=app.mask, error=said)

    assert doc["error"] == "refused: (redacted)" and doc["outcome"]["failed"][0]["error"] == "refused: (redacted)"
    assert doc["endpoints"] == [{"name": SECRET, "endpoint_id": "id1", "url": "http://u:(redacted)@h/v2/id1/runsync"}]
    assert doc["outcome"]["done"][0]["address"] == f"endpoint.{SECRET}" and doc["plan"] == {"plan": SECRET}
    warm, failed = doc["prewarm"]
    assert warm["endpoint"]["name"] == SECRET and warm["seconds"] == 1.0
    assert warm["job"] == {"id": "(redacted)"} and warm["handler_error"] == "refused: (redacted)" and warm["models"] == ["(redacted)"]
    assert warm["new_field_from_a_worker"] == "(redacted)"  # a field not known to be gpuctl's own is masked
    assert [failed[k] for k in ("error", "detail", "hint")] == ["refused: (redacted)"] * 3 and failed["retry"].endswith(SECRET)
    endpoint = doc["health"]["endpoints"][0]
    assert endpoint["name"] == SECRET and endpoint["steps"][0] == health["endpoints"][0]["steps"][0]
    assert endpoint["steps"][1]["error"] == "refused: (redacted)" and endpoint["steps"][1]["job"] == {"id": "j", "workerId": "(redacted)"}
    assert health["endpoints"][0]["steps"][1]["error"] == said  # the flow's own report is not changed
    json.dumps(doc)


def test_a_refused_document_masks_its_reason():
    app = AppContext(environ={"MY_TOKEN": SECRET}, stdout=io.StringIO(), stderr=io.StringIO())
    doc = result.refused_document(None, f"unknown GPU type {SECRET!r}", mask=app.mask)
    assert doc["error"] == "unknown GPU type '(redacted)'" and doc["plan"] is None and not doc["applied"]
