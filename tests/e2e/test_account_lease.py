"""One writer per project across machines (issue 9, item 1): two checkouts of one project
deploying at once, as two CI runners do, never duplicate anything. The lease is a template in
the account; these tests drive the real CLI against the local provider."""

from __future__ import annotations

import json
import os
import socket
import time

import pytest

from gpuctl.author import holder_name
from gpuctl.engine.lease import EXPIRES, HOLDER, HOST, PID, PID_SPACE, TOKEN, lease_name, pid_space
from tests.e2e.conftest import ECHO_HANDLER, echo_config, project
from tests.support.wait import until

pytestmark = pytest.mark.e2e

RACES = 10
# A lease taken before it expired (--break-lock, a dead holder) is followed by a wait of the
# visibility grace (GPUCTL_VISIBILITY_GRACE, 20 s by default) for what its holder may have just
# created, then a new plan; 1 s here.
SHORT_GRACE = {"GPUCTL_VISIBILITY_GRACE": "1"}


def checkouts(tmp_path, project_id: str, name: str = "echo") -> tuple:
    config = echo_config(name=name, project_id=project_id)
    return tuple(project(tmp_path / f"{project_id}-runner-{i}", config, {"handler.py": ECHO_HANDLER}) for i in (1, 2))


def templates(account) -> list[dict]:
    return account.server.http.get("/v2/templates").json()["templates"]


def plant_lease(account, project_id: str, *, expires_in: float = 0.0, host: str = "ci-runner-7", pid: int = 4242, name: str | None = None,
                expires: str | None = None, space: str | None = "0123456789abcdef", place: str | None = None) -> dict:
    """A lease as another machine's deploy leaves it (`name`: a name claim it holds instead;
    `expires`: the expiry written as it is, instead of `expires_in` seconds from now; `space`:
    the pid space its pid belongs to, None for a lease of a gpuctl that recorded none; `place`:
    the `owner/repo:branch` of a run of GitHub Actions that holds it)."""
    env = {"GPUCTL_PROJECT": project_id, HOLDER: f"{holder_name(pid, host, place)} (`gpu serverless deploy`)",
           EXPIRES: f"{time.time() + expires_in:.0f}" if expires is None else expires, TOKEN: "0123456789abcdef", HOST: host, PID: str(pid)}
    if space is not None:
        env[PID_SPACE] = space
    body = {"name": name or lease_name("project", project_id), "image": "gpuctl/lease:none", "env": env, "category": "CPU",
            "serverless": False, "startSsh": False, "startJupyter": False}
    answer = account.server.http.post("/v2/templates", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


@pytest.mark.parametrize("wait", ["0s", "60s"], ids=["no-wait", "lock-timeout"])
def test_two_runners_deploying_at_once_never_duplicate(account, tmp_path, wait):
    for race in range(RACES):
        project_id = f"race{race}"
        first, second = checkouts(tmp_path / wait, project_id, name=f"echo-{race}")
        runs = [account.popen("serverless", "deploy", "-y", "--lock-timeout", wait, cwd=d) for d in (first, second)]
        results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in runs]
        mine = [e for e in account.endpoints() if (e.get("env") or {}).get("GPUCTL_PROJECT") == project_id]
        assert len(mine) == 1, (race, results)
        for code, out, err in results:
            assert code in (0, 3), (code, err)
            if code == 3:
                assert "holds the account lease" in err and "pid " in err and socket.gethostname() in err, err
        if wait == "60s":
            assert [c for c, _, _ in results] == [0, 0], results
    assert not [t for t in templates(account) if t["name"].startswith("gpuctl-lock-")]  # every lease was released


@pytest.mark.parametrize("place", [None, "acme/ml-api:main"], ids=["laptop", "actions-run"])
def test_a_live_lease_of_another_machine_is_shown_and_only_broken_when_asked(account, tmp_path, place):
    """The hint names the holder as the refusal does: a run of GitHub Actions with its place
    (it said `if you are sure pid 4242 on ci-runner-7 is gone`, as of a laptop)."""
    proj, _ = checkouts(tmp_path, "held")
    plant_lease(account, "held", expires_in=240, place=place)
    holder = "pid 4242 on ci-runner-7" + (f" in {place}" if place else "")
    refused = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert refused.code == 3 and f"holds the account lease: {holder} (" in refused.err, refused.err
    assert f"if you are sure {holder} is gone, --break-lock" in refused.err, refused.err
    assert account.endpoints() == []
    broken = account.gpu("serverless", "deploy", "-y", "--break-lock", cwd=proj, env=SHORT_GRACE)
    assert broken.code == 0, broken.err
    assert "pid 4242 on ci-runner-7" in broken.err  # the holder is shown before it is broken
    assert [e["name"] for e in account.endpoints()] == ["echo"]


def test_a_lease_whose_holder_clock_runs_hours_ahead_says_so_and_how_to_get_past_it(account, tmp_path):
    """Its expiry 3 h ahead (less than the day that makes it damaged): exit 3 said only
    "expires in 10800s unless renewed" and "--lock-timeout 5m", a wait that never sees it
    stale (that takes the TTL plus the skew unrenewed, 6 minutes)."""
    proj, _ = checkouts(tmp_path, "ahead")
    plant_lease(account, "ahead", expires_in=3 * 3600)
    refused = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert refused.code == 3 and account.endpoints() == [], refused.err
    assert "further than the 360s a holder with a correct clock writes: the holder's clock seems about 2h5" in refused.err, refused.err
    assert "Pass --lock-timeout 7m to wait that long" in refused.err, refused.err
    assert "check that pid 4242 on ci-runner-7 is gone and pass --break-lock" in refused.err, refused.err
    assert "Traceback" not in refused.err


def test_break_lock_also_takes_the_name_claims_its_holder_left(account, tmp_path):
    """A runner died mid-apply on another machine, holding the project's lease and the claim
    on the name it was creating. `--break-lock` took the lease, then waited a minute on that
    claim (left by the same holder, who renews nothing now) and exited 3 telling the operator
    to wait for "another deploy". A claim of the holder whose lease was taken is taken with it."""
    proj, _ = checkouts(tmp_path, "runner-lost")
    plant_lease(account, "runner-lost", expires_in=240)
    plant_lease(account, "runner-lost", expires_in=50, name=lease_name("endpoint", "echo"))
    result = account.gpu("serverless", "deploy", "-y", "--break-lock", cwd=proj, env={"GPUCTL_VISIBILITY_GRACE": "1"})
    assert result.code == 0, result.err
    assert "taking over the claim on the endpoint name 'echo', left by pid 4242 on ci-runner-7" in result.err, result.err
    assert [e["name"] for e in account.endpoints()] == ["echo"]
    assert not [t for t in templates(account) if t["name"].startswith("gpuctl-lock-")]


def test_a_stale_lease_is_taken_over_with_a_note(account, tmp_path):
    proj, _ = checkouts(tmp_path, "stale")
    plant_lease(account, "stale", expires_in=-3600)
    result = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert result.code == 0, result.err
    assert "stale lease" in result.err and "ci-runner-7" in result.err


DAMAGED = {"inf": "is not a finite time", "-inf": "is not a finite time", "nan": "is not a finite time",
           "1e30": "is more than a day ahead of this machine's clock", "tomorrow": "is not a time"}


@pytest.mark.parametrize("kind", ["lease", "claim"])
@pytest.mark.parametrize("expires", sorted(DAMAGED))
def test_a_lease_or_claim_with_a_damaged_expiry_is_stale_with_a_note_naming_it(account, tmp_path, kind, expires):
    """A lease whose expiry is `inf` (or NaN, or centuries ahead) never expired: a damaged or
    hostile template blocked the project's deploys for ever, and a name claim (which no
    --break-lock reaches) blocked every project that creates that name. Nobody renews a damaged
    lease: it is stale, taken over with a note naming the template and what is wrong."""
    proj, _ = checkouts(tmp_path, "damaged")
    name = lease_name("project", "damaged") if kind == "lease" else lease_name("endpoint", "echo")
    planted = plant_lease(account, "damaged" if kind == "lease" else "someone-else", expires=expires, name=name)
    result = account.gpu("serverless", "deploy", "-y", cwd=proj, env={"GPUCTL_VISIBILITY_GRACE": "1"})
    assert result.code == 0, result.err
    assert f"the lease template {name} ({planted['id']}) is damaged: its GPUCTL_LEASE_EXPIRES '{expires}' {DAMAGED[expires]}" in result.err, result.err
    assert "pid 4242 on ci-runner-7" in result.err and "waiting for" not in result.err, result.err
    assert [e["name"] for e in account.endpoints()] == ["echo"]
    assert not [t for t in templates(account) if t["name"].startswith("gpuctl-lock-")]


def a_pid_that_is_gone() -> int:
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    return dead


def test_a_lease_of_a_dead_process_on_this_machine_is_stale_at_once(account, tmp_path):
    """kill -9 leaves the lease behind; on the same machine the next deploy sees its holder is gone."""
    proj, _ = checkouts(tmp_path, "crashed")
    plant_lease(account, "crashed", expires_in=240, host=socket.gethostname(), pid=a_pid_that_is_gone(), space=pid_space())
    result = account.gpu("serverless", "deploy", "-y", cwd=proj, env=SHORT_GRACE)
    assert result.code == 0, result.err
    assert "stale lease" in result.err


@pytest.mark.parametrize("space", ["another", None], ids=["another-pid-space", "no-pid-space-recorded"])
def test_a_live_lease_of_another_container_with_this_host_name_is_not_taken_over(account, tmp_path, space):
    """Review 2, L13: "this machine" was judged by the host name alone. Two CI jobs in
    containers with host networking (or one `--hostname`) share it, each with its own pids: the
    pid of a deploy applying in the other container is no process here, so this deploy took its
    live lease over at once and both wrote. The pid space (kernel boot and pid namespace) must
    match too; a lease that does not say which space its pid is of (an older gpuctl's) waits
    for its expiry like any other machine's."""
    proj, _ = checkouts(tmp_path, "sibling")
    planted = plant_lease(account, "sibling", expires_in=240, host=socket.gethostname(), pid=a_pid_that_is_gone(),
                          space=None if space is None else "fedcba9876543210")
    result = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert result.code == 3, result.err
    assert "holds the account lease" in result.err and "taking over" not in result.err, result.err
    assert account.endpoints() == []
    assert [t["id"] for t in templates(account) if t["name"] == lease_name("project", "sibling")] == [planted["id"]]


def test_a_deploy_with_nothing_to_change_takes_no_lease(account, tmp_path):
    proj, _ = checkouts(tmp_path, "quiet")
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    plant_lease(account, "quiet", expires_in=240)  # someone else is applying; we have nothing to do
    writes = account.writes()
    again = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert again.code == 0 and account.writes() == writes, again.err


def test_a_plan_reviewed_at_the_prompt_is_not_applied_if_the_account_changed_meanwhile(account, tmp_path):
    """Covered without a prompt: --from-plan is the reviewed plan, and it is refused after another
    runner applied first (the saved plan's account digest no longer matches)."""
    first, second = checkouts(tmp_path, "reviewed")
    assert account.gpu("serverless", "deploy", "--plan", "--out", "plan.json", cwd=second).code == 0
    assert account.gpu("serverless", "deploy", "-y", cwd=first).code == 0
    stale = account.gpu("serverless", "deploy", "--from-plan", "plan.json", cwd=second)
    assert stale.code == 1 and "the account changed since the plan was made" in stale.err
    assert len([e for e in account.endpoints() if e["name"] == "echo"]) == 1
    json.loads((second / "plan.json").read_text())  # the saved plan is left as it was


def test_two_projects_racing_on_one_name_never_both_create_it(account, tmp_path):
    """Different projects hold different leases; the name claim still lets only one create
    `shared-N` (and the volume both declare), and the other says who has it."""
    for race in range(RACES):
        dirs = [project(tmp_path / f"{who}-{race}", echo_config(name=f"shared-{race}", project_id=f"{who}-{race}", volume=f"vol-{race}"),
                        {"handler.py": ECHO_HANDLER}) for who in ("alpha", "beta")]
        runs = [account.popen("serverless", "deploy", "-y", cwd=d) for d in dirs]
        results = [(p.wait(timeout=120), p.stderr.read()) for p in runs]
        named = [e for e in account.endpoints() if e["name"] == f"shared-{race}"]
        assert len(named) == 1, (race, results)
        assert len([v for v in account.volumes() if v["name"] == f"vol-{race}"]) == 1, (race, results)
        codes = sorted(code for code, _ in results)
        assert codes == [0, 1], results
        loser = next(err for code, err in results if code == 1)
        assert f'"shared-{race}"' in loser and "Traceback" not in loser and "internal error" not in loser, loser


def test_duplicates_left_from_before_get_a_plan_that_says_which_to_keep(account, tmp_path):
    proj, _ = checkouts(tmp_path, "dupes")
    body = {"name": "echo", "type": "QUEUE", "image": "x/y:1", "gpu": {"pools": ["ADA_24"]}, "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4},
            "env": {"GPUCTL_PROJECT": "dupes"}}
    made = [account.server.http.post("/v2/serverless", json=body).json() for _ in range(2)]
    older, newer = (e["id"] for e in sorted(made, key=lambda e: (e["createdAt"], e["id"])))  # oldest first; same second: by id
    plan = account.gpu("serverless", "deploy", "--plan", cwd=proj)
    assert plan.code == 1
    assert f"keep {older} (the oldest), delete {newer}" in plan.err and f"gpu serverless delete {newer} --force" in plan.err, plan.err
    assert account.gpu("serverless", "delete", newer, "--force", cwd=proj).code == 0
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    assert [e["id"] for e in account.endpoints()] == [older]


def test_a_name_claim_held_by_another_project_is_named_as_that_not_as_this_projects_account_lease(account, monkeypatch):
    """Parallel apply holds one claim per name it creates; when another project's deploy holds
    the claim, the error named *this* project's deploy and the account lease (and hinted
    --break-lock, which claims ignore)."""
    from gpuctl.engine import lease
    from gpuctl.errors import GpuctlError
    from gpuctl.plan.model import Action, Kind, ResourceChange
    from gpuctl.provider.graphql import GraphQL
    from gpuctl.provider.http import ApiClient
    from gpuctl.provider.runpod import RunPodProvider

    control = ApiClient(account.server.url, account.server.token)
    provider = RunPodProvider("local", control, ApiClient(account.server.url, account.server.token), GraphQL(control))
    change = ResourceChange(Kind.ENDPOINT, "shared", "endpoint.shared", Action.CREATE)
    notes = []
    monkeypatch.setattr(lease, "CLAIM_WAIT_S", 0.0)
    try:
        with lease.name_claim(provider, "other-team", change, notes.append):
            with pytest.raises(GpuctlError) as held:
                with lease.name_claim(provider, "platform", change, notes.append):
                    pass
    finally:
        provider.close()
    message = held.value.format()
    assert message.startswith("error: the claim on the endpoint name 'shared' is held by project 'other-team', pid "), message
    assert "platform" not in message and "account lease" not in message and "--break-lock" not in message, message


def test_two_projects_growing_one_shared_volume_at_once_both_succeed(account, tmp_path):
    """Projects alpha and beta share the volume "data" and grow it at once, to 40 and 60 GB.
    Growing took no claim: alpha read 20 GB and sent 40 while beta had just grown it to 60, and
    RunPod refuses a PATCH that would shrink a volume, so alpha failed. A resize now holds the
    claim on the volume's name and reads the size again under it: alpha's PATCH is held up by
    the server until beta waits for alpha's claim, and both succeed."""
    def configs(size: int) -> list:
        made = []
        for who in ("alpha", "beta"):
            config = echo_config(name=f"echo-{who}", project_id=who, volume="data")
            config["serverless"]["volume"]["size_gb"] = size if who == "alpha" else size + 20 * (size > 20)
            made.append(project(tmp_path / who, config, {"handler.py": ECHO_HANDLER}))
        return made

    for proj in configs(20):
        assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    alpha, beta = configs(40)  # alpha: 40 GB, beta: 60 GB
    # alpha's PATCH is held until beta waits for alpha's claim (or has ended), then let go: a
    # 15 s hang raced beta's start on a loaded machine and then proved nothing.
    account.faults({"op": "update", "kind": "network_volume", "action": "hang", "seconds": 3600})
    first = account.popen("serverless", "deploy", "-y", cwd=alpha)
    theirs = []
    try:
        until(lambda: account.server.admin("GET", "faults")["rules"][0]["fired"] or first.poll() is not None, "alpha's PATCH to be held")
        second = account.popen("serverless", "deploy", "-y", cwd=beta)
        for line in second.stderr:  # until beta waits for alpha's claim on the name, or ends
            theirs.append(line)
            if "waiting for the claim on the volume name" in line:
                break
    finally:
        account.clear_faults()
    code, rest = first.wait(timeout=120), first.stderr.read()
    other, more = second.wait(timeout=120), second.stderr.read()
    assert (code, other) == (0, 0), (rest, "".join(theirs) + more)
    assert any("waiting for the claim on the volume name" in line for line in theirs), "".join(theirs) + more
    assert [v["size"] for v in account.volumes() if v["name"] == "data"] == [60]
    assert not [t for t in templates(account) if t["name"].startswith("gpuctl-lock-")]


FORGED = "error: a line gpuctl never wrote"
HOSTILE_HOLDER = f"pid 1 on x\n{FORGED}\x1b[2J\u202e" + "A" * 1_000_000


def _plant_hostile(account, project_id: str, **kw) -> None:
    """A lease whose holder, host and pid someone with the account's key wrote: a megabyte,
    a newline that starts a line like gpuctl's, a terminal escape and a bidi override."""
    planted = plant_lease(account, project_id, **kw)
    env = planted["env"] | {HOLDER: HOSTILE_HOLDER, HOST: "h\nerror: forged host" + "H" * 100_000, PID: "7\n" + "9" * 100_000}
    answer = account.server.http.patch(f"/v2/templates/{planted['id']}", json={"env": env})
    assert answer.status_code == 200, answer.text


def _one_short_line(text: str) -> None:
    assert len(text) < 20_000, len(text)
    assert f"\n{FORGED}" not in text and "\nerror: forged host" not in text and "\x1b" not in text and "\u202e" not in text, text[:500]
    assert "pid 1 on x" in text and "nerror: a line gpuctl never wrote" in text, text[:2000]  # its newline escaped (and Markdown's or JSON's backslash)


def test_a_hostile_lease_holder_is_shown_as_one_short_line_everywhere(account, tmp_path):
    """The holder text of a lease is whatever the account hands back: one of a megabyte was
    printed whole (deploy's exit 3, drift in every format), and its newline began a line that
    read like gpuctl's own error. It is shown clipped, on its line, escaped."""
    proj, _ = checkouts(tmp_path, "hostile")
    _plant_hostile(account, "hostile", expires_in=240)
    refused = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert refused.code == 3, refused.err[:500]
    _one_short_line(refused.err)
    for form in ("text", "json"):
        drift = account.gpu("serverless", "drift", "--format", form, cwd=proj)
        assert drift.code == 2, drift.err[:500]
        _one_short_line(drift.out)
    markdown = account.gpu("serverless", "drift", "--format", "markdown", cwd=proj)  # an issue body: a holder gpuctl did not write is not shown (ADR 39)
    assert markdown.code == 2 and len(markdown.out) < 20_000 and "a holder not shown here" in markdown.out, markdown.out[:2000]
    assert "forged" not in markdown.out and "line gpuctl never wrote" not in markdown.out, markdown.out[:2000]
    broken = account.gpu("serverless", "deploy", "-y", "--break-lock", cwd=proj, env=SHORT_GRACE)
    assert broken.code == 0, broken.err[:500]
    _one_short_line(broken.err)


def test_a_hostile_name_claim_left_behind_is_named_in_one_short_line(account, tmp_path):
    proj, _ = checkouts(tmp_path, "hostile-claim")
    _plant_hostile(account, "hostile-claim", expires_in=-3600, name=lease_name("endpoint", "gone"))
    result = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert result.code == 0, result.err[:500]
    assert "deleted the name claim gpuctl-lock-endpoint-gone" in result.err, result.err[:2000]
    _one_short_line(result.err)
