"""A plan made while another command of the project applies says so (review L12): `deploy
--plan` made while a CI deploy held the project's account lease said nothing, and the other
deploy's pending half read as this plan's own changes. The plan (text, JSON, Markdown) now
carries a warning naming the holder as the lease records it; it reads the lease from the same
read of the account, never takes it, never waits for it, and never fails over it."""

from __future__ import annotations

import json

import jsonschema
import pytest

from gpuctl.engine.lease import TOKEN, lease_name
from tests.e2e.conftest import ECHO_HANDLER, ROOT, echo_config, project
from tests.e2e.test_account_lease import plant_lease, templates
from tests.support.terminal import Terminal

pytestmark = pytest.mark.e2e

PLAN_SCHEMA = json.loads((ROOT / "schema" / "plan.schema.json").read_text())
HELD = "another gpuctl command of this project holds its account lease (gpuctl-lock-e2e): "
AGAIN = "plan again once it has finished"


def plan(account, proj, *args: str):
    result = account.gpu("serverless", "deploy", "--plan", *args, cwd=proj)
    assert result.code == 0, result.err
    return result


def test_a_plan_made_while_another_deploy_applies_names_its_holder_in_every_rendering(account, tmp_path):
    base = project(tmp_path / "base", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=base).code == 0
    merged = project(tmp_path / "merged", echo_config(max_workers=3), {"handler.py": ECHO_HANDLER})
    review = project(tmp_path / "review", echo_config(max_workers=4), {"handler.py": ECHO_HANDLER})
    account.faults({"op": "update", "kind": "endpoint", "action": "hang", "seconds": 300})  # until clear_faults lets it go
    deploy = account.popen("serverless", "deploy", "-y", cwd=merged)  # the merge, applied by CI
    try:
        for line in deploy.stderr:
            if "updating" in line:  # under the lease, its write held by the account
                break
        (lease,) = [t for t in templates(account) if t["name"] == lease_name("project", "e2e")]
        token = lease["env"][TOKEN]
        before = account.server.admin("GET", "requests")  # the write count and the log of one moment
        writes, seen = before["writes"], len(before["requests"])

        text = plan(account, review)
        (warning,) = [line for line in text.out.splitlines() if line.startswith("warning: ")]
        assert text.out.splitlines().index(warning) == 1, text.out  # right under the header, above every change
        assert warning.startswith(f"warning: {HELD}pid {deploy.pid} on "), warning
        assert "(`gpu serverless deploy`, since 20" in warning and "expires in " in warning, warning
        assert "the account may still change" in warning and AGAIN in warning, warning

        doc = plan(account, review, "--json").json()
        jsonschema.validate(doc, PLAN_SCHEMA)
        assert doc["lease"]["status"] == "held" and doc["lease"]["template"] == "gpuctl-lock-e2e", doc["lease"]
        assert doc["lease"]["holder"].startswith(f"pid {deploy.pid} on "), doc["lease"]
        assert doc["lease"]["message"].startswith(f"{HELD}{doc['lease']['holder']} (expires in ") and doc["lease"]["message"].endswith(AGAIN)

        markdown = plan(account, review, "--format", "markdown").out
        assert f"\n> **Warning:** another gpuctl command of this project holds its account lease (gpuctl-lock-e2e): pid {deploy.pid} on " in markdown
        assert markdown.index("**Warning:**") < markdown.index("<details")

        saved = account.gpu("serverless", "deploy", "--plan", "--out", "plan.json", cwd=review)
        assert saved.code == 0 and json.loads((review / "plan.json").read_text())["lease"]["status"] == "held", saved.err

        snap = account.gpu("serverless", "snapshot", "--out", "snap.json", cwd=review)
        assert snap.code == 0, snap.err
        observed = plan(account, review, "--json", "--observed", "snap.json").json()  # a snapshot has no lease to read
        assert "lease" not in observed and "warning: another" not in plan(account, review, "--observed", "snap.json").out

        # the plans took no lease and wrote nothing: the writes meanwhile are the deploy's renewals
        # of its lease, one a minute (RENEW_S), which these seven runs outlast on a loaded machine
        logged = account.server.admin("GET", "requests")
        renewals = [r for r in logged["requests"][seen:] if (r["method"], r["path"]) == ("PATCH", f"/v2/templates/{lease['id']}")]
        assert logged["writes"] == writes + len(renewals), logged["requests"][seen:]
        for run in (text.out + text.err, json.dumps(doc), markdown, (review / "plan.json").read_text()):
            assert token not in run
    finally:
        account.clear_faults()
    assert deploy.wait(timeout=120) == 0
    after = plan(account, review, "--json").json()
    assert "lease" not in after, after.get("lease")
    assert "warning: another" not in plan(account, review).out


def test_a_lease_the_plan_cannot_judge_is_said_and_the_plan_goes_on(account, tmp_path):
    """A damaged expiry, or one further ahead than a holder with a correct clock writes: whether
    a command is applying cannot be told. The plan says so and is made as usual."""
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    planted = plant_lease(account, "e2e", expires="tomorrow", host="runner-7")
    doc = plan(account, proj, "--json").json()
    jsonschema.validate(doc, PLAN_SCHEMA)
    assert doc["in_sync"] and doc["lease"]["status"] == "unclear", doc
    assert doc["lease"]["message"] == ("the project's account lease (gpuctl-lock-e2e) names pid 4242 on runner-7 (`gpu serverless deploy`), "
                                       "but its GPUCTL_LEASE_EXPIRES 'tomorrow' is not a time: whether it is applying now cannot be told. "
                                       f"If it is, the account may still change, and what that command has yet to write shows in this plan "
                                       f"as changes of its own: {AGAIN}")
    assert account.server.http.delete(f"/v2/templates/{planted['id']}").status_code in (200, 204)

    plant_lease(account, "e2e", expires_in=3 * 3600, host="runner-7")
    ahead = plan(account, proj)
    assert "warning: the project's account lease (gpuctl-lock-e2e) names pid 4242 on runner-7" in ahead.out, ahead.out
    assert "ahead of this machine's clock" in ahead.out and "No changes." in ahead.out, ahead.out


def test_a_stale_lease_is_no_command_applying(account, tmp_path):
    """An expired lease (its holder stopped; the next deploy takes it over): no warning."""
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    plant_lease(account, "e2e", expires_in=-3600)
    doc = plan(account, proj, "--json").json()
    assert "lease" not in doc and doc["in_sync"], doc.get("lease")


def test_the_plan_deploy_asks_about_says_another_command_holds_the_lease(account, tmp_path):
    """The plan an interactive deploy shows before `Apply these changes?` is the plan `--plan`
    shows, lease warning included (review 5, E): it said nothing of a lease another command held,
    the person said yes, and only then was told the lease was held (or, waiting for it, had the
    plan they approved refused as changed)."""
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    (proj / "gpu.jsonc").write_text(json.dumps(echo_config(max_workers=3), indent=2))
    plant_lease(account, "e2e", expires_in=240, host="runner-7")
    deploying = Terminal(["serverless", "deploy"], proj, account.env)
    shown = deploying.wait_for("Apply these changes?")
    assert f"warning: {HELD}pid 4242 on runner-7 (`gpu serverless deploy`) (expires in " in shown, shown
    assert shown.index("warning: another gpuctl command") < shown.index("max_workers"), shown  # above every change, as in --plan
    deploying.answer("", "y")
    assert deploying.exit_code() == 3, deploying.transcript  # --lock-timeout 0s: the lease is in the way, as the plan said
    assert "pid 4242 on runner-7" in deploying.transcript.split("Apply these changes?")[1]
    [endpoint] = account.endpoints()
    assert endpoint["workers"]["max"] == 2

    doc = account.gpu("serverless", "deploy", "--json", cwd=proj).json()  # the refused document's plan is the plan made, with its lease
    assert doc["error"] and "holds the account lease" in doc["error"] and doc["plan"]["lease"]["status"] == "held", doc
