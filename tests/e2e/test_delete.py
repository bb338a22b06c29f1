"""delete and template delete: pickers and confirmations on a pseudo-terminal, --force and
no-TTY paths, ownership, volumes kept, templates in use refused."""

from __future__ import annotations

import json

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project
from tests.support.terminal import run_on_terminal


def _deployed(account, tmp_path, **kw):
    proj = project(tmp_path / "p", echo_config(**kw), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    return proj


def test_picker_and_confirmation_on_a_terminal(account, tmp_path):
    proj = _deployed(account, tmp_path, volume="models")
    code, out = run_on_terminal(["serverless", "delete"], proj, account.env, [("Which endpoint?", "1"), ("Delete endpoint echo?", "y")])
    assert code == 0, out
    assert "1) echo (" in out and "Network volume models" in out and "is kept" in out
    assert account.endpoints() == [] and [v["name"] for v in account.volumes()] == ["models"]


def test_answering_no_deletes_nothing(account, tmp_path):
    proj = _deployed(account, tmp_path)
    code, out = run_on_terminal(["serverless", "delete", "echo"], proj, account.env, [("Delete endpoint echo?", "n")])
    assert code == 1 and "cancelled: nothing was deleted" in out, out
    assert len(account.endpoints()) == 1


def test_without_tty_refuses_unless_forced(account, tmp_path):
    proj = _deployed(account, tmp_path)
    refused = account.gpu("serverless", "delete", "echo", cwd=proj)
    assert refused.code == 1 and "pass -y (--yes)" in refused.err and len(account.endpoints()) == 1
    no_name = account.gpu("serverless", "delete", cwd=proj)
    assert no_name.code == 1 and "no terminal" in no_name.err
    forced = account.gpu("serverless", "delete", "echo", "--force", "--json", cwd=proj)
    assert forced.code == 0 and json.loads(forced.out)["deleted"] and account.endpoints() == []
    again = account.gpu("serverless", "delete", "echo", "--force", cwd=proj)
    assert again.code == 1 and 'no endpoint named or with id "echo"' in again.err
    forgiven = account.gpu("serverless", "delete", "echo", "--force", "--ignore-not-found", cwd=proj)
    assert forgiven.code == 0 and "nothing to delete" in forgiven.err


def test_other_projects_endpoints_need_id_and_force(account, tmp_path):
    other = project(tmp_path / "other", echo_config(name="theirs", project_id="someone-else"), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=other).code == 0
    mine = project(tmp_path / "mine", echo_config(), {"handler.py": ECHO_HANDLER})
    theirs = account.endpoints()[0]
    by_name = account.gpu("serverless", "delete", "theirs", "--force", cwd=mine)
    assert by_name.code == 1 and "someone-else" in by_name.err and f"delete {theirs['id']} --force" in by_name.err
    by_id = account.gpu("serverless", "delete", theirs["id"], "--force", cwd=mine)
    assert by_id.code == 0 and account.endpoints() == []


def test_yes_skips_the_question_as_deploy_s_does_and_allows_nothing_else(account, tmp_path):
    """deploy, rollback and local reset skip their question with -y; delete only had --force,
    which also lets another project's endpoint go. -y skips the question and nothing more."""
    other = project(tmp_path / "other", echo_config(name="theirs", project_id="someone-else"), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=other).code == 0
    theirs = account.endpoints()[0]
    mine = _deployed(account, tmp_path)
    not_ours = account.gpu("serverless", "delete", theirs["id"], "-y", cwd=mine)
    assert not_ours.code == 1 and "someone-else" in not_ours.err and len(account.endpoints()) == 2, not_ours.err
    ours = account.gpu("serverless", "delete", "echo", "--yes", "--json", cwd=mine)
    assert ours.code == 0 and json.loads(ours.out)["deleted"] != theirs["id"], ours.err
    assert [e["id"] for e in account.endpoints()] == [theirs["id"]]
    spare = account.server.http.post("/v2/templates", json={"name": "spare-tpl", "image": "ghcr.io/example/echo-worker:0.1.0", "serverless": True}).json()
    asked = account.gpu("serverless", "template", "delete", spare["id"], cwd=mine)
    assert asked.code == 1 and "pass -y (--yes)" in asked.err, asked.err
    freed = account.gpu("serverless", "template", "delete", spare["id"], "-y", cwd=mine)
    assert freed.code == 0 and "deleted template spare-tpl" in freed.err, freed.err


def test_template_in_use_is_refused_and_a_free_one_deleted(account, tmp_path):
    http = account.server.http
    template = {"name": "worker-tpl", "image": "ghcr.io/example/echo-worker:0.1.0", "serverless": True, "startSsh": False, "startJupyter": False}
    used = http.post("/v2/templates", json=template).json()
    free = http.post("/v2/templates", json=template | {"name": "spare-tpl"}).json()
    query = "mutation { saveEndpoint(input: {name: \"bound\", templateId: \"%s\", gpuIds: \"ADA_24\", workersMax: 1}) { id templateId } }" % used["id"]
    answer = http.post("/graphql", json={"query": query}).json()
    assert answer["data"]["saveEndpoint"]["templateId"] == used["id"], answer
    refused = account.gpu("serverless", "template", "delete", used["id"], "--force", cwd=tmp_path)
    assert refused.code == 1 and "is used by endpoint bound" in refused.err
    code, out = run_on_terminal(["serverless", "template", "delete"], tmp_path, account.env,
                                [("Which template?", "1"), ("Delete template spare-tpl?", "y")])
    assert code == 0, out
    assert "deleted template spare-tpl" in out
    assert sorted(t["name"] for t in http.get("/v2/templates").json()["templates"]) == ["worker-tpl"]
    assert f"1) spare-tpl ({free['id']}" in out


def test_delete_takes_gpuctls_records_with_it_so_the_next_plan_is_not_drift(account, tmp_path):
    """A deliberate `delete` is not "deleted in the account": the last-applied record goes too."""
    proj = project(tmp_path / "rec", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    endpoint_id = account.endpoints()[0]["id"]
    names = lambda: [t["name"] for t in account.server.http.get("/v2/templates").json()["templates"]]  # noqa: E731
    assert f"gpuctl-applied-{endpoint_id}" in names()
    assert account.gpu("serverless", "delete", "echo", "--force", cwd=proj).code == 0
    assert not [n for n in names() if n.endswith(endpoint_id)]
    plan = account.gpu("serverless", "deploy", "--plan", "--json", cwd=proj).json()
    created = next(r for r in plan["resource_changes"] if r["kind"] == "endpoint")
    assert created["action"] == "create" and created.get("drift") is None


def test_the_question_says_which_jobs_would_be_lost(account, tmp_path):
    """Deleting an endpoint stops its running jobs and drops its queue; the question used to
    speak of queued jobs only, whatever was running. Now it counts both, from /health."""
    from pathlib import Path

    from tests.support.wait import until

    talker = (Path(__file__).parent / "workers" / "talker.py").read_text()
    config = echo_config(max_workers=1)
    config["serverless"]["local"]["command"] = ["python", "talker.py"]
    proj = project(tmp_path / "p", config, {"talker.py": talker})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    release = tmp_path / "release"
    for _ in range(2):
        queued = account.gpu("serverless", "invoke", "echo", "--async", "--input", json.dumps({"release": str(release)}), cwd=proj)
        assert queued.code == 0, queued.err
    endpoint_id = account.endpoints()[0]["id"]
    until(lambda: account.server.http.get(f"/ai/v2/{endpoint_id}/health").json()["jobs"]["inProgress"] == 1, "one job running")
    code, out = run_on_terminal(["serverless", "delete", "echo"], proj, account.env, [("Delete endpoint echo?", "n")])
    assert code == 1 and "It has 1 running job and 1 queued job, lost with it" in out, out
    assert len(account.endpoints()) == 1
    forced = account.gpu("serverless", "delete", "echo", "--force", cwd=proj)
    assert forced.code == 0 and "It has 1 running job and 1 queued job" in forced.err, forced.err
    release.touch()


def test_the_all_picker_deletes_what_it_offers_after_a_question_that_names_the_owner(account, tmp_path):
    """`delete --all` listed every endpoint with its project, then refused any other project's
    one it was given; and outside a project, `delete` (the contract's "interactive selection
    from all endpoints") said there was no endpoint to choose from."""
    other = project(tmp_path / "other", echo_config(name="theirs", project_id="someone-else"), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=other).code == 0
    mine = project(tmp_path / "mine", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=mine).code == 0
    code, out = run_on_terminal(["serverless", "delete"], mine, account.env, [("Which endpoint?", "0")])
    assert code == 1 and "1) echo (" in out and "theirs" not in out  # this project's only
    code, out = run_on_terminal(["serverless", "delete", "--all"], mine, account.env,
                                [("Which endpoint?", "2"), ('Delete endpoint theirs, which belongs to project "someone-else"?', "y")])
    assert code == 0, out
    assert [e["name"] for e in account.endpoints()] == ["echo"]
    nowhere = tmp_path / "no-project"
    nowhere.mkdir()
    code, out = run_on_terminal(["serverless", "delete"], nowhere, account.env, [("Which endpoint?", "1"), ('which belongs to project "e2e"?', "y")])
    assert code == 0 and "1) echo (" in out, out
    assert account.endpoints() == []


def test_a_project_without_endpoints_points_to_all(account, tmp_path):
    other = project(tmp_path / "other", echo_config(name="theirs", project_id="someone-else"), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=other).code == 0
    mine = project(tmp_path / "mine", echo_config())
    code, out = run_on_terminal(["serverless", "delete"], mine, account.env)
    assert code == 1 and 'project "e2e" has no endpoint in the account to choose from' in out and "--all" in out, out


def test_ctrl_c_at_a_question_is_an_interrupt_not_a_no(account, tmp_path):
    """click turns Ctrl-C at a prompt into the same Abort as answering no: it exited 1,
    "aborted", where every other Ctrl-C exits 130 (docs/errors.md)."""
    from tests.support.terminal import Terminal

    proj = _deployed(account, tmp_path)
    for args, prompt in ((["serverless", "delete", "echo"], "Delete endpoint echo?"), (["serverless", "delete"], "Which endpoint?"),
                         (["serverless", "deploy", "--max-workers", "3"], "Apply")):
        terminal = Terminal(args, proj, account.env)
        terminal.wait_for(prompt)
        terminal.wait_until_reading()
        terminal.child.sendintr()
        assert terminal.exit_code() == 130, terminal.transcript
        assert "interrupted" in terminal.transcript and "aborted" not in terminal.transcript
    assert len(account.endpoints()) == 1 and account.endpoints()[0]["workers"]["max"] == 2


def test_a_delete_racing_a_deploy_of_the_project_waits_for_its_account_lease(account, tmp_path):
    """Two CLI processes: a deploy that holds the project's account lease while it updates
    `echo` (its PATCH held by the provider), and a delete of `echo` from another checkout. The
    delete used to remove the endpoint the deploy was writing; now it exits 3 naming the deploy,
    and runs once that deploy is gone (killed here, so its lease is stale at once)."""
    from tests.support.wait import until

    proj = _deployed(account, tmp_path)
    (proj / "gpu.jsonc").write_text(json.dumps(echo_config(env={"ADDED": "1"})))
    account.faults({"op": "update", "kind": "endpoint", "action": "hang", "seconds": 3600})  # every PATCH held until cleared below, a retry too
    deploy = account.popen("serverless", "deploy", "-y", cwd=proj)
    try:
        until(lambda: account.server.admin("GET", "faults")["rules"][-1]["fired"], "the deploy's endpoint update to be held")
        other = project(tmp_path / "second-checkout", echo_config(), {"handler.py": ECHO_HANDLER})
        held = account.gpu("serverless", "delete", "echo", "--force", cwd=other)
        assert held.code == 3, held.err
        assert "holds the account lease" in held.err and "`gpu serverless deploy`" in held.err and "--lock-timeout" in held.err, held.err
        assert [e["name"] for e in account.endpoints()] == ["echo"]
    finally:
        deploy.kill()
        deploy.wait(timeout=30)
        account.clear_faults()
    after = account.gpu("serverless", "delete", "echo", "--force", cwd=other)
    assert after.code == 0 and "stale lease" in after.err, after.err
    assert account.endpoints() == []
    assert not [t for t in account.server.http.get("/v2/templates").json()["templates"] if t["name"].startswith("gpuctl-lock-")]


def test_delete_waits_with_lock_timeout_and_breaks_a_lease_only_with_break_lock(account, tmp_path):
    from tests.e2e.test_account_lease import plant_lease

    proj = _deployed(account, tmp_path)
    lease = plant_lease(account, "e2e", expires_in=300)
    waiting = account.popen("serverless", "delete", "echo", "--force", "--lock-timeout", "5m", cwd=proj)
    seen = ""
    while "waiting for the account lease" not in seen:  # the event: the delete says whom it waits for
        line = waiting.stderr.readline()
        assert line, (seen, waiting.wait(timeout=30))
        seen += line
    assert "ci-runner-7" in seen and len(account.endpoints()) == 1
    account.server.http.delete(f"/v2/templates/{lease['id']}")  # the deploy holding it finished
    assert waiting.wait(timeout=120) == 0, waiting.stderr.read()
    assert account.endpoints() == []

    proj = _deployed(account, tmp_path / "again")
    plant_lease(account, "e2e", expires_in=300)
    broken = account.gpu("serverless", "delete", "echo", "--force", "--break-lock", cwd=proj)
    assert broken.code == 0 and "breaking, as --break-lock asks, the lease held by pid 4242 on ci-runner-7" in broken.err, broken.err
    assert account.endpoints() == []


def test_an_endpoint_of_no_project_is_deleted_with_a_note_that_there_is_no_lease(account, tmp_path):
    body = {"name": "loose", "type": "QUEUE", "image": "x/y:1", "gpu": {"pools": ["ADA_24"]}, "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}}
    made = account.server.http.post("/v2/serverless", json=body).json()
    nowhere = tmp_path / "no-project"
    nowhere.mkdir()
    gone = account.gpu("serverless", "delete", made["id"], "--force", cwd=nowhere)
    assert gone.code == 0 and "belongs to no project, so there is no account lease to take" in gone.err, gone.err
    assert f"This deletes endpoint loose ({made['id']}, no project)," in gone.err, gone.err  # it said "project unmanaged", as for a project of that name
    assert account.endpoints() == []
    named = project(tmp_path / "named", echo_config(name="theirs", project_id="unmanaged"), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=named).code == 0
    theirs = account.endpoints()[0]
    gone = account.gpu("serverless", "delete", theirs["id"], "--force", cwd=nowhere)
    assert gone.code == 0 and f'This deletes endpoint theirs ({theirs["id"]}, project "unmanaged"),' in gone.err, gone.err


def test_a_record_that_cannot_be_deleted_is_left_to_the_next_deploy_not_to_template_delete(account, tmp_path):
    """The warning used to say `gpu serverless template delete ID --force`, which refuses a
    record: records are pod templates, and that command offers serverless ones only."""
    proj = _deployed(account, tmp_path)
    account.faults({"op": "delete", "kind": "template", "action": "status", "status": 400, "times": 1})
    deleted = account.gpu("serverless", "delete", "echo", "--force", cwd=proj)
    assert deleted.code == 0 and "could not delete gpuctl's record gpuctl-applied-" in deleted.err, deleted.err
    assert "a later deploy of project e2e that applies a change deletes it" in deleted.err and "template delete" not in deleted.err
    account.clear_faults()
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0  # re-creates echo, and the sweep takes the stale record
    assert [t["name"] for t in account.server.http.get("/v2/templates").json()["templates"]] == [f"gpuctl-applied-{account.endpoints()[0]['id']}"]


def test_nothing_to_choose_from_says_what_to_check(account, tmp_path):
    """An empty account gave `there is no endpoint to choose from` and no hint; the likely fix is
    the account itself (the wrong --provider or key)."""
    mine = project(tmp_path / "mine", echo_config())
    for args in (["serverless", "delete"], ["serverless", "template", "delete"]):
        result = account.gpu(*args, cwd=mine)
        assert result.code == 1 and "to choose from" in result.err and "\nhint: " in result.err and "--provider" in result.err, result.err


def test_the_closing_line_counts_kept_volumes_in_words_and_says_nothing_of_none(account, tmp_path):
    """`kept 0 network volume(s)` said nothing worth saying: with no volume the line names
    only the endpoint; with one, `kept 1 network volume`."""
    bare = _deployed(account, tmp_path / "bare")
    none = account.gpu("serverless", "delete", "echo", "-y", cwd=bare)
    assert none.code == 0, none.err
    (line,) = [x for x in none.err.splitlines() if x.startswith("deleted endpoint echo")]
    assert "volume" not in line and "(s)" not in line, line
    with_one = _deployed(account, tmp_path / "one", volume="models")
    one = account.gpu("serverless", "delete", "echo", "-y", cwd=with_one)
    assert one.code == 0, one.err
    (line,) = [x for x in one.err.splitlines() if x.startswith("deleted endpoint echo")]
    assert line.endswith("; kept 1 network volume"), line


def test_a_picker_answer_that_is_no_number_is_told_what_to_type(account, tmp_path):
    """An arrow key or a name at "Which endpoint?" got click's `Error: '\\x1b[B' is not a valid
    integer range.`: jargon, and the keys typed played back."""
    proj = _deployed(account, tmp_path)
    code, out = run_on_terminal(["serverless", "delete"], proj, account.env,
                                [("Which endpoint?", "echo"), ("type the number of one of the 1 listed above", "1"), ("Delete endpoint echo?", "n")])
    assert "integer range" not in out and "'echo'" not in out, out
    assert "type the number of one of the 1 listed above (1 to 1), or 0 to cancel" in out, out


def test_a_ref_that_is_one_endpoints_id_and_anothers_name_is_refused_not_guessed(account, tmp_path):
    """An endpoint named like another's id: `delete <that string> --force` deleted the endpoint
    of that id, though the endpoint of that name may have been meant. Now both are named and
    nothing is deleted; each stays reachable the other way (by name, by id)."""
    proj = _deployed(account, tmp_path)
    (mine,) = account.endpoints()
    made = account.server.http.post("/v2/serverless", json={"name": mine["id"], "type": "QUEUE", "image": "x/y:1", "gpu": {"pools": ["ADA_24"]},
                                                            "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}})
    assert made.status_code == 201, made.text
    lookalike = made.json()["id"]
    for args in (("delete", mine["id"], "--force"), ("status", mine["id"]), ("delete", mine["id"], "--force", "--ignore-not-found")):
        refused = account.gpu("serverless", *args, cwd=proj)
        assert refused.code == 1 and "Traceback" not in refused.err, refused.err
        assert f'"{mine["id"]}" is the id of endpoint echo (project e2e) and the name of endpoint {lookalike} (project none)' in refused.err, refused.err
    assert sorted(e["id"] for e in account.endpoints()) == sorted([mine["id"], lookalike])
    assert account.gpu("serverless", "status", "echo", cwd=proj).code == 0
    assert account.gpu("serverless", "delete", lookalike, "--force", cwd=proj).code == 0
    assert [e["id"] for e in account.endpoints()] == [mine["id"]]
