"""Switching the scaler (queue delay → request count) sends `scaling` whole, which removes the
account's `scaling.queueDelay`: the plan shows that removal in every format, the apply makes
it, and the endpoint read back matches the plan."""

from __future__ import annotations

from tests.e2e.conftest import echo_config, project


def test_switching_the_scaler_plans_the_removal_the_apply_makes(account, tmp_path):
    config = echo_config()
    config["serverless"]["runpod"] |= {"scaler_type": "queue_delay", "scaler_value": 4}
    proj = project(tmp_path / "p", config)
    assert (done := account.gpu("serverless", "deploy", "-y", cwd=proj)).code == 0, done.err
    assert account.endpoints()[0]["scaling"] == {"type": "QUEUE_DELAY", "queueDelay": 4}

    config["serverless"]["runpod"] |= {"scaler_type": "request_count", "scaler_value": 3}
    config["serverless"]["scaling"].pop("idle_timeout")
    project(proj, config)
    planned = account.gpu("serverless", "deploy", "--plan", "--json", cwd=proj)
    assert planned.code == 0, planned.err
    (endpoint,) = [r for r in planned.json()["resource_changes"] if r["kind"] == "endpoint"]
    changes = {c["path"]: (c["before"], c["after"]) for c in endpoint["changes"]}
    assert changes == {"scaling.type": ("QUEUE_DELAY", "REQUEST_COUNT"), "scaling.requestCount": (None, 3), "scaling.queueDelay": (4, None)}
    assert endpoint["reason"].startswith("3 fields differ")

    text = account.gpu("serverless", "deploy", "--plan", cwd=proj)
    assert text.code == 0 and "- scaling.queueDelay" in text.out, text.out
    markdown = account.gpu("serverless", "deploy", "--plan", "--format", "markdown", cwd=proj)
    assert markdown.code == 0 and "- scaling.queueDelay" in markdown.out, markdown.out

    assert (done := account.gpu("serverless", "deploy", "-y", cwd=proj)).code == 0, done.err
    assert account.endpoints()[0]["scaling"] == {"type": "REQUEST_COUNT", "requestCount": 3}  # as planned: queueDelay gone
    again = account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", "--json", cwd=proj)
    assert again.code == 0, (again.out, again.err)
