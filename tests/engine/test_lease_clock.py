"""The account lease and the name claims on a fake clock (gpuctl.engine.lease): waiting is
recorded, never slept, so a test sees what happens minutes later without waiting for it. The
account is a small in-memory one with RunPod's rule that template names are unique."""

from __future__ import annotations

import itertools

import pytest

from gpuctl.engine.lease import CLAIM_TTL_S, EXPIRES, HOLDER, HOST, PID, RENEW_S, SKEW_S, TOKEN, TTL_S, Lease, lease_name, name_claim
from gpuctl.engine.lock import LockHeld
from gpuctl.plan.model import Action, Kind, ResourceChange
from gpuctl.provider.errors import NotFound, Rejected

START = 1_800_000_000.0


class Account:
    """Templates by id; a create of a name that exists is refused, as RunPod refuses it."""

    def __init__(self) -> None:
        self.templates: dict[str, dict] = {}
        self.ids = (f"t{n}" for n in itertools.count())
        self.on_list = lambda: None

    def create_template(self, body: dict) -> dict:
        if any(t["name"] == body["name"] for t in self.templates.values()):
            raise Rejected(f"template name {body['name']} is taken", status=400)
        made = {"id": next(self.ids), "name": body["name"], "env": dict(body.get("env") or {})}
        self.templates[made["id"]] = made
        return made

    def list_templates(self) -> list[dict]:
        self.on_list()
        return [dict(t, env=dict(t["env"])) for t in self.templates.values()]

    def update_template(self, template_id: str, patch: dict) -> dict:
        self.templates[template_id]["env"].update(patch.get("env") or {})
        return self.templates[template_id]

    def delete_template(self, template_id: str) -> None:
        if self.templates.pop(template_id, None) is None:
            raise NotFound("no such template")


class Clock:
    def __init__(self) -> None:
        self.now, self.slept = START, 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


def plant(account: Account, name: str, expires: float, project: str = "other") -> dict:
    """A lease as a deploy on another machine (whose process this one cannot look up) left it."""
    return account.create_template({"name": name, "env": {"GPUCTL_PROJECT": project, HOLDER: "pid 4242 on ci-runner-7 (`gpu serverless deploy`)",
                                                          EXPIRES: f"{expires:.0f}", TOKEN: "0123456789abcdef", HOST: "ci-runner-7", PID: "4242"}})


def test_an_expiry_further_ahead_than_any_holder_writes_goes_stale_once_nobody_renews_it():
    """A holder writes its clock plus the TTL; one whose clock ran 50 minutes ahead, killed,
    left a lease that blocked the project for 55 minutes. Nobody renewed it for the TTL plus the
    skew allowance since this deploy first saw it: its holder is gone, whatever it wrote."""
    account, clock, notes = Account(), Clock(), []
    planted = plant(account, lease_name("project", "app"), START + 3000)
    lease = Lease(account, lease_name("project", "app"), "app", "me", clock=clock, sleep=clock.sleep, on_note=notes.append)
    lease.acquire(timeout=TTL_S + SKEW_S + 10)
    assert lease.template_id is not None and planted["id"] not in account.templates
    assert TTL_S + SKEW_S <= clock.slept <= TTL_S + SKEW_S + 2
    taken = notes[-1]
    assert taken.startswith("note: taking over the stale lease of pid 4242 on ci-runner-7"), notes
    assert f"the lease template gpuctl-lock-app ({planted['id']}) says it expires" in taken and "was not renewed for" in taken, notes


def test_a_holder_that_keeps_renewing_a_far_expiry_keeps_its_lease():
    """The same far expiry from a holder that is alive: every renewal writes a new one, so the
    lease stays its holder's however long the other deploy waits."""
    account, clock = Account(), Clock()
    planted = plant(account, lease_name("project", "app"), START + 3000)
    renewed = [START]

    def renew() -> None:  # as its keep_alive thread does, every RENEW_S
        if clock.now - renewed[0] >= RENEW_S:
            renewed[0] = clock.now
            account.templates[planted["id"]]["env"][EXPIRES] = f"{clock.now + 3000:.0f}"

    account.on_list = renew
    lease = Lease(account, lease_name("project", "app"), "app", "me", clock=clock, sleep=clock.sleep)
    with pytest.raises(LockHeld):
        lease.acquire(timeout=3 * (TTL_S + SKEW_S))
    assert planted["id"] in account.templates


@pytest.mark.parametrize("ahead", [0.0, SKEW_S], ids=["same-clock", "holder-clock-a-minute-ahead"])
def test_a_claim_left_by_a_killed_deploy_of_another_project_is_waited_out_not_refused(ahead):
    """Another project's deploy was killed just after renewing its claim on the name "shared".
    The claim goes stale once its expiry plus the skew allowance passes (up to a minute later
    again when its holder's clock ran ahead); the wait for a claim was 60 s, shorter than
    that, so this deploy exited 3 saying another deploy was creating the name, and nobody was."""
    account, clock, notes = Account(), Clock(), []
    left = plant(account, lease_name("endpoint", "shared"), START + ahead + CLAIM_TTL_S)
    change = ResourceChange(Kind.ENDPOINT, "shared", "endpoint.shared", Action.CREATE)
    with name_claim(account, "platform", change, notes.append, clock=clock, sleep=clock.sleep):
        mine = [t for t in account.templates.values() if t["name"] == "gpuctl-lock-endpoint-shared"]
        assert left["id"] not in account.templates and [t["env"]["GPUCTL_PROJECT"] for t in mine] == ["platform"]
    assert not account.templates  # released
    assert notes[0].startswith("waiting for the claim on the endpoint name 'shared' held by pid 4242 on ci-runner-7"), notes
    assert notes[-1].startswith("note: taking over the claim on the endpoint name 'shared', left by pid 4242 on ci-runner-7"), notes


@pytest.mark.parametrize("expires_in", [TTL_S, 3 * 3600.0], ids=["just-renewed", "holder-clock-3h-ahead"])
def test_the_lock_timeout_that_exit_3_suggests_outlasts_a_stopped_holder(expires_in):
    """Exit 3 said "pass --lock-timeout 5m" whatever the lease: a holder killed just after a
    renewal leaves a lease stale only 6 minutes later, and one whose clock runs 3 h ahead (less
    than the day that makes an expiry damaged) looked live for 3 h, the message said only
    "expires in 10800s". The hint now names a wait that does take such a lease over, and the
    message says the holder's clock seems ahead."""
    from gpuctl.cli.durations import seconds_of

    account, clock = Account(), Clock()
    planted = plant(account, lease_name("project", "app"), START + expires_in)
    with pytest.raises(LockHeld) as refused:
        Lease(account, lease_name("project", "app"), "app", "me", clock=clock, sleep=clock.sleep).acquire(timeout=0)
    hint = refused.value.hint
    suggested = seconds_of(hint.split("--lock-timeout ")[1].split()[0])
    assert "--break-lock" in hint and "pid 4242 on ci-runner-7" in hint, hint
    if expires_in > TTL_S + SKEW_S:
        assert "the holder's clock seems about 2h55m ahead" in refused.value.summary, refused.value.summary
        assert "its holder's clock seems ahead" in hint, hint
    lease = Lease(account, lease_name("project", "app"), "app", "me", clock=clock, sleep=clock.sleep)
    lease.acquire(timeout=suggested)
    assert lease.template_id is not None and planted["id"] not in account.templates


@pytest.mark.parametrize("expiry", ["inf", "nan", "soon", f"{START + 2 * 86_400:.0f}"], ids=["inf", "nan", "text", "two-days-ahead"])
def test_a_damaged_lease_is_no_holder_a_drift_report_names(expiry):
    """drift names the holder of the project's lease as a deploy applying now. A lease whose
    expiry is damaged is taken at once by the next deploy (`Lease._judge`), so it holds
    nothing: the report named "pid 4242 ... (its expiry is damaged)" as applying for an `inf`
    expiry or one two days ahead, as if a deploy were writing. The report judges the lease as
    the plan does (`seen_by_plan`): such a lease is `unclear`, never `held`, the status drift
    names as applying."""
    from gpuctl.engine.lease import seen_by_plan

    account = Account()
    planted = plant(account, lease_name("project", "app"), START, project="app")
    live = seen_by_plan(account.list_templates(), "app", START)
    assert live is not None and live.status == "held" and live.holder.startswith("pid 4242 on ci-runner-7")  # a live one is named
    account.templates[planted["id"]]["env"][EXPIRES] = expiry
    damaged = seen_by_plan(account.list_templates(), "app", START)
    assert damaged is not None and damaged.status == "unclear", damaged


def test_a_plan_reads_the_lease_as_held_unclear_or_nothing_and_never_fails_over_it():
    """What `deploy --plan` says of the project's account lease (`seen_by_plan`, review L12):
    a live holder is `held`; an expiry it cannot judge, or a template of a shape no gpuctl
    writes, is `unclear` (never an error: the plan is not about the lease); a stale lease, and
    another project's, are nothing. The token is never kept."""
    from gpuctl.engine.lease import seen_by_plan

    account = Account()
    planted = plant(account, lease_name("project", "app"), START + TTL_S, project="app")
    plant(account, lease_name("project", "other"), START + TTL_S)
    held = seen_by_plan(account.list_templates(), "app", START)
    assert (held.status, held.template, held.holder, held.detail) == ("held", "gpuctl-lock-app", "pid 4242 on ci-runner-7 (`gpu serverless deploy`)",
                                                                      f"expires in {TTL_S:.0f}s unless renewed")
    assert "0123456789abcdef" not in repr(held)
    assert seen_by_plan(account.list_templates(), "app", START + TTL_S + SKEW_S + 1) is None  # stale: the next deploy takes it over
    assert seen_by_plan(account.list_templates(), "nobody", START) is None
    account.templates[planted["id"]]["env"][EXPIRES] = str(START + 3 * 3600)
    ahead = seen_by_plan(account.list_templates(), "app", START)
    assert ahead.status == "unclear" and "ahead of this machine's clock" in ahead.detail
    account.templates[planted["id"]]["env"][EXPIRES] = "inf"
    assert seen_by_plan(account.list_templates(), "app", START).detail == "its GPUCTL_LEASE_EXPIRES 'inf' is not a finite time"
    odd = seen_by_plan([{"name": "gpuctl-lock-app", "env": [["GPUCTL_LEASE_EXPIRES"]]}], "app", START)  # edited by hand into a shape no gpuctl writes
    assert (odd.status, odd.holder) == ("unclear", None) and odd.detail.startswith("the lease template could not be read"), odd


@pytest.mark.parametrize("ahead", [240.0, -30.0, 400.0, 7_000.0, 72_000.0, 72_030.0])
def test_a_lease_s_lasting_detail_is_the_same_however_far_its_expiry_is(ahead):
    """The drift issue is edited only when the drift changes (`gpu github drift`): the lease's
    detail it shows (`lasting_detail`) names no span that changes from one read to the next,
    for each kind of detail `describe_expiry` gives; the kind itself is kept."""
    import re

    from gpuctl.engine.lease import describe_expiry, lasting_detail

    detail = describe_expiry({"env": {EXPIRES: f"{START + ahead:.0f}"}}, START)
    steady = lasting_detail(detail)
    assert steady == lasting_detail(describe_expiry({"env": {EXPIRES: f"{START + ahead + 5:.0f}"}}, START)), steady
    assert re.sub(r"the 360s", "", steady) == re.sub(r"[0-9]", "", re.sub(r"the 360s", "", steady)), steady
    kind = "further ahead" if ahead > TTL_S + SKEW_S else "expires" if ahead > 0 else "expired"
    assert kind in steady and lasting_detail(steady) == steady, steady
    assert lasting_detail("its expiry is damaged") == "its expiry is damaged"
