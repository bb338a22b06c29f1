"""`drift` and `deploy --plan` judge the project's account lease by one rule
(`engine.lease.seen_by_plan`): the same account gives the same answer in both, in text and in
JSON. They had a rule each (drift's `live_holder` and a note of its own), and disagreed: a lease
whose expiry is damaged was a warning in the plan and nothing in drift; one whose expiry is far
ahead was a warning in the plan and a note on drift's stderr, never in its report; a lease of a
process of this machine that is gone was still a lease in one or the other (with a damaged expiry,
the plan's "cannot be told"; far ahead, drift's note); and drift read a lease from a snapshot,
which the plan never does."""

from __future__ import annotations

import re
import socket
import subprocess
import sys

import jsonschema
import pytest

from gpuctl.engine.lease import pid_space
from tests.e2e.conftest import ECHO_HANDLER, ROOT, echo_config, project
from tests.e2e.test_account_lease import plant_lease

pytestmark = pytest.mark.e2e

SCHEMAS = {kind: __import__("json").loads((ROOT / "schema" / f"{kind}.schema.json").read_text()) for kind in ("drift", "plan")}
JUDGED = ("status", "template", "holder", "detail")  # what the lease is judged to be; `message` is each command's own sentence


def applied(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    return proj


def both(account, proj, *args: str) -> tuple[dict, dict]:
    """(drift --json, deploy --plan --json) of the same account, each checked against its schema."""
    drift = account.gpu("serverless", "drift", "--json", *args, cwd=proj)
    plan = account.gpu("serverless", "deploy", "--plan", "--json", *args, cwd=proj)
    assert drift.code == 0 and plan.code == 0, drift.err + plan.err
    jsonschema.validate(drift.json(), SCHEMAS["drift"])
    jsonschema.validate(plan.json(), SCHEMAS["plan"])
    return drift.json(), plan.json()


def texts(account, proj, *args: str) -> tuple[str, str]:
    """(drift, deploy --plan) as a terminal shows them, stdout and stderr."""
    drift = account.gpu("serverless", "drift", *args, cwd=proj)
    plan = account.gpu("serverless", "deploy", "--plan", *args, cwd=proj)
    return drift.out + drift.err, plan.out + plan.err


def judged(lease: dict) -> dict:
    return {k: lease[k] for k in JUDGED}


def test_a_damaged_expiry_is_unclear_in_drift_as_in_the_plan(account, tmp_path):
    proj = applied(account, tmp_path)
    plant_lease(account, "e2e", expires="tomorrow", host="runner-7")
    drift, plan = both(account, proj)
    assert plan["lease"]["status"] == "unclear", plan.get("lease")
    assert judged(drift.get("lease") or {}) == judged(plan["lease"]), (drift.get("lease"), plan["lease"])
    assert drift["applying"] is None  # not a command applying: `gpu github drift` reports as usual
    said = "names pid 4242 on runner-7 (`gpu serverless deploy`), but its GPUCTL_LEASE_EXPIRES 'tomorrow' is not a time: whether it is applying now cannot be told"
    drift_text, plan_text = texts(account, proj)
    assert said in plan_text and said in drift_text, drift_text
    markdown = account.gpu("serverless", "drift", "--format", "markdown", cwd=proj).out
    assert "is not a time: whether it is applying now cannot be told" in markdown, markdown


def test_a_clock_far_ahead_is_unclear_in_drift_as_in_the_plan(account, tmp_path):
    proj = applied(account, tmp_path)
    plant_lease(account, "e2e", expires_in=3 * 3600, host="runner-7")
    drift, plan = both(account, proj)
    assert plan["lease"]["status"] == "unclear", plan.get("lease")
    lease = drift.get("lease") or {}
    assert {k: lease.get(k) for k in ("status", "template", "holder")} == {k: plan["lease"][k] for k in ("status", "template", "holder")}, lease
    assert re.match(r"its expiry is (2h5\dm|3h00m) ahead of this machine's clock", lease["detail"]), lease  # 3 h less the seconds the run took
    assert drift["applying"] is None
    drift = account.gpu("serverless", "drift", cwd=proj)
    assert drift.err == "", drift.err  # said in the report, where the plan says it, not in a note of drift's own
    assert re.search(r"names pid 4242 on runner-7 \(`gpu serverless deploy`\), but its expiry is (2h5\dm|3h00m) ahead", drift.out), drift.out


@pytest.mark.parametrize("expiry", [{"expires_in": 300.0}, {"expires": "tomorrow"}, {"expires_in": 3 * 3600}], ids=["live", "damaged", "far-ahead"])
def test_a_lease_of_a_process_here_that_is_gone_is_no_lease_in_either(account, tmp_path, expiry):
    """A deploy killed with -9 on this machine: the next deploy here takes its lease at once
    (`Lease._judge`: dead), whatever its expiry says, so nobody is applying under it."""
    proj = applied(account, tmp_path)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    plant_lease(account, "e2e", host=socket.gethostname(), pid=int(gone.stdout), space=pid_space(), **expiry)
    drift, plan = both(account, proj)
    assert "lease" not in plan and "lease" not in drift and drift["applying"] is None, (plan.get("lease"), drift.get("lease"))
    for text in texts(account, proj):
        assert f"pid {int(gone.stdout)}" not in text, text


def test_a_snapshot_has_no_lease_for_drift_as_for_the_plan(account, tmp_path):
    """A snapshot taken while a deploy held the lease is read later: nobody can say whether that
    command is still applying, and the plan against it never reads a lease from it."""
    proj = applied(account, tmp_path)
    plant_lease(account, "e2e", expires_in=300.0, host="runner-7")
    taken = account.gpu("serverless", "snapshot", "--out", "snap.json", cwd=proj)
    assert taken.code == 0, taken.err
    drift, plan = both(account, proj, "--observed", "snap.json")
    assert "lease" not in plan and "lease" not in drift and drift["applying"] is None, drift.get("applying")
    live, _ = both(account, proj)  # the account itself: held, in both
    assert live["lease"]["status"] == "held" and live["applying"].startswith("pid 4242 on runner-7"), live.get("lease")
