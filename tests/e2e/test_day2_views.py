"""The read-only day-2 views (`list`, `status`, `logs`, `invoke`, `job`) a week after the first
deploy, when the account or the working copy is not as the deploy left them: a block's name
held by an endpoint this project does not own, gpu.jsonc half edited. They still show the
account, and say what they could not take into account."""

from __future__ import annotations

import io
import json

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project
from tests.support.wait import until


def _by_hand(account, name: str, env: dict | None = None) -> str:
    """An endpoint made outside gpuctl (no GPUCTL_PROJECT marker): its id."""
    made = account.server.http.post("/v2/serverless", json={"name": name, "type": "QUEUE", "image": "x/y:1", "gpu": {"pools": ["ADA_24"]},
                                                             "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}, "env": env or {}})
    assert made.status_code == 201, made.text
    return made.json()["id"]


def _two_blocks(name: str = "echo") -> dict:
    config = echo_config(name)
    second = json.loads(json.dumps(config["serverless"])) | {"name": f"{name}-b"}
    return {"project_id": config["project_id"], "serverless": [config["serverless"], second]}


def test_list_shows_a_block_whose_name_an_endpoint_of_no_project_holds_and_the_other_blocks(account, tmp_path):
    """The block's endpoint was deleted and someone made one of that name by hand: `list` still
    lists the project, the block as "taken" by that endpoint (never "in sync": it is not ours)
    and the others as they are; deploy is what refuses."""
    proj = project(tmp_path / "p", _two_blocks())
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    ours = {e["name"]: e["id"] for e in account.endpoints()}
    theirs = _by_hand(account, "echo")
    beside = {r["name"]: r for r in account.gpu("serverless", "list", "--json", cwd=proj).json()["endpoints"]}
    assert (beside["echo"]["state"], beside["echo"]["id"]) == ("in sync", ours["echo"]), "the one beside ours was listed as the block's"
    assert account.server.http.delete(f"/v2/serverless/{ours['echo']}").status_code in (200, 204)

    listed = account.gpu("serverless", "list", "--json", cwd=proj)
    assert listed.code == 0, listed.err
    rows = {r["name"]: r for r in listed.json()["endpoints"]}
    assert rows["echo-b"]["state"] == "in sync" and rows["echo-b"]["id"] == ours["echo-b"]
    assert rows["echo"]["state"] == "taken" and rows["echo"]["id"] is None, rows["echo"]
    assert rows["echo"]["taken_by"] == {"id": theirs, "project": None}
    assert rows["echo-b"]["taken_by"] is None, "every row has the same keys"

    text = account.gpu("serverless", "list", cwd=proj)
    assert text.code == 0, text.err
    line = next(x for x in text.out.splitlines() if x.startswith("echo "))
    assert f"taken by {theirs} (unmanaged)" in line, text.out


def test_list_shows_a_block_whose_name_another_project_holds(account, tmp_path):
    mine = project(tmp_path / "mine", _two_blocks())
    other = project(tmp_path / "other", echo_config("echo", project_id="other"))
    assert account.gpu("serverless", "deploy", "-y", cwd=other).code == 0
    theirs = account.endpoints()[0]["id"]

    listed = account.gpu("serverless", "list", "--json", cwd=mine)
    assert listed.code == 0, listed.err
    rows = {r["name"]: r for r in listed.json()["endpoints"]}
    assert rows["echo"]["state"] == "taken" and rows["echo"]["taken_by"] == {"id": theirs, "project": "other"}
    assert rows["echo-b"]["state"] == "missing"


def test_the_commands_that_only_read_the_account_work_beside_a_half_edited_gpu_jsonc(account, tmp_path):
    """A week later gpu.jsonc is mid-edit (a syntax error): looking at the endpoint, its logs,
    calling it and its jobs still work, each with one note naming the file's first problem and
    its place; what needs the project (list without --all, delete) still stops on the error."""
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    endpoint_id = account.endpoints()[0]["id"]
    (proj / "gpu.jsonc").write_text('{\n  "project_id": "e2e",\n  "serverless": {"name": "echo",,}\n}\n')

    for args in (["status", "echo", "--json"], ["logs", "echo"], ["list", "--all", "--json"], ["history", "echo"]):
        done = account.gpu("serverless", *args, cwd=proj)
        assert done.code == 0, (args, done.err)
        assert "note: gpu.jsonc could not be read (gpu.jsonc:3:33:" in done.err, (args, done.err)
    called = account.gpu("serverless", "invoke", endpoint_id, "--input", '{"prompt": "hi"}', "--json", cwd=proj)
    assert called.code == 0 and called.json()["output"] == {"echo": "hi", "words": 1}, called.err
    job = account.gpu("serverless", "job", "status", "echo", called.json()["id"], cwd=proj)
    assert job.code == 0 and "COMPLETED" in job.out, job.err

    for args in (["list"], ["delete", endpoint_id, "--yes"]):
        refused = account.gpu("serverless", *args, cwd=proj)
        assert refused.code == 1 and refused.err.startswith("error: gpu.jsonc could not be read\ngpu.jsonc:3:33:"), (args, refused.err)
    assert [e["id"] for e in account.endpoints()] == [endpoint_id]


def test_a_gpu_jsonc_that_parses_but_is_not_valid_still_names_the_project_whose_endpoint_a_name_means(account, tmp_path):
    """An unknown key (a newer gpuctl's, a typo) leaves project_id readable: `status echo`
    means this project's echo, not an unmanaged endpoint of the same name beside it."""
    proj = project(tmp_path / "p", echo_config())
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    ours = account.endpoints()[0]["id"]
    _by_hand(account, "echo")
    config = echo_config()
    config["serverless"]["scaling"]["max_wokers"] = 3
    (proj / "gpu.jsonc").write_text(json.dumps(config, indent=2))

    shown = account.gpu("serverless", "status", "echo", "--json", cwd=proj)
    assert shown.code == 0 and shown.json()["id"] == ours, shown.err
    assert "note: gpu.jsonc is not valid (gpu.jsonc:" in shown.err and "max_wokers" in shown.err, shown.err


def test_the_note_about_a_gpu_jsonc_that_is_not_valid_never_shows_a_value_it_reads_from_a_variable(account, tmp_path):
    db_url = "postgres://app:s3cr3t-canary@db.internal/app"
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    config = echo_config(env={"DATABASE_URL": "${DB_URL}"})
    config["serverless"]["gpu_type"] = db_url
    (proj / "gpu.jsonc").write_text(json.dumps(config, indent=2))
    shown = account.gpu("serverless", "status", "echo", cwd=proj, env={"DB_URL": db_url})
    assert shown.code == 0 and "serverless.gpu_type" in shown.err, shown.err
    assert "s3cr3t-canary" not in shown.out + shown.err, shown.err


def test_list_all_and_status_say_the_same_of_an_endpoint_s_project_and_no_project_is_never_a_name(account, tmp_path):
    """`list --all --json` said "unmanaged" where `status --json` says null for an endpoint of no
    project, and a project may well be called "unmanaged": a script could not tell the two
    apart. Both say null now; the status panel names the project too."""
    named = project(tmp_path / "named", echo_config("echo", project_id="unmanaged"))
    assert account.gpu("serverless", "deploy", "-y", cwd=named).code == 0
    theirs = _by_hand(account, "by-hand")
    listed = account.gpu("serverless", "list", "--all", "--json", cwd=tmp_path)
    assert listed.code == 0, listed.err
    projects = {r["name"]: r["project"] for r in listed.json()["endpoints"]}
    assert projects == {"echo": "unmanaged", "by-hand": None}
    for ref, project_id in (("echo", "unmanaged"), (theirs, None)):
        shown = account.gpu("serverless", "status", ref, "--json", cwd=tmp_path)
        assert shown.code == 0 and shown.json()["project"] == project_id, shown.err
    panel = account.gpu("serverless", "status", theirs, cwd=tmp_path)
    assert "project  none (unmanaged: no GPUCTL_PROJECT marker)" in panel.out, panel.out
    panel = account.gpu("serverless", "status", "echo", cwd=tmp_path)
    assert "project  unmanaged " in panel.out, panel.out


def test_list_all_text_tells_no_project_from_any_project_id(account, tmp_path):
    """The table's PROJECT cell said "unmanaged" for an endpoint of no project, just what it says
    for a project called "unmanaged". No project is "-" now, like every empty cell, and a
    project that is called "-" is shown quoted."""
    for directory, name, project_id in (("named", "echo", "unmanaged"), ("dash", "dashed", "-")):
        assert account.gpu("serverless", "deploy", "-y", cwd=project(tmp_path / directory, echo_config(name, project_id=project_id))).code == 0
    _by_hand(account, "by-hand")
    listed = account.gpu("serverless", "list", "--all", cwd=tmp_path)
    assert listed.code == 0, listed.err
    cells = {line.split()[0]: line.split()[-2] for line in listed.out.splitlines()[1:]}  # NAME ... PROJECT URL
    assert cells == {"echo": "unmanaged", "dashed": '"-"', "by-hand": "-"}, listed.out


def test_an_endpoint_paused_at_max_workers_0_is_said_so_instead_of_a_job_that_waits_out_its_timeout(account, tmp_path):
    """max_workers 0 (an on-call pause): no worker can start, so a sync invoke or a GPU warm-up
    waited its whole --timeout (600 s, 900 s) and then said "raise --timeout". They stop at once,
    queue nothing and say why; --async still queues (the job runs once max_workers is raised),
    with a note; status says it."""
    proj = project(tmp_path / "p", echo_config(min_workers=0, max_workers=0), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0

    for args in (["invoke", "echo"], ["invoke", "echo", "--stream"], ["warm", "echo"]):
        refused = account.gpu("serverless", *args, cwd=proj)
        assert refused.code == 1 and "error: endpoint echo has max workers 0, so no worker can start" in refused.err, (args, refused.err)
        assert "scaling.max_workers" in refused.err, refused.err
    shown = account.gpu("serverless", "status", "echo", "--json", cwd=proj).json()
    assert shown["jobs"].get("inQueue", 0) == 0, "a refused job was queued all the same"
    assert shown["paused"] is True

    queued = account.gpu("serverless", "invoke", "echo", "--async", cwd=proj)
    assert queued.code == 0 and queued.out.strip(), queued.err
    assert "max workers 0" in queued.err, queued.err
    panel = account.gpu("serverless", "status", "echo", cwd=proj)
    assert "0..0 workers (paused: no worker can start)" in panel.out, panel.out
    watching = account.popen("serverless", "status", "echo", "--watch", cwd=proj)
    try:
        line = watching.stdout.readline()
    finally:
        watching.kill()
        watching.communicate()
    assert "jobs 1 in queue" in line and line.rstrip().endswith("max workers 0 (paused: no worker can start)"), line


def test_template_delete_of_a_name_not_there_offers_no_picker_where_there_is_nothing_to_pick(account, tmp_path):
    """gpuctl's own record templates (not serverless templates of yours) are never offered nor
    deleted; with no template of yours, the hint said to pick one on a terminal, where the picker
    then says there is nothing to choose from."""
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    record = next(t for t in account.server.http.get("/v2/templates").json()["templates"] if t["name"].startswith("gpuctl-"))
    for ref in ("nope", record["name"], record["id"]):
        missing = account.gpu("serverless", "template", "delete", ref, "--yes", cwd=proj)
        assert missing.code == 1 and "no serverless template of yours" in missing.err, missing.err
        assert "to pick one" not in missing.err and "has no serverless template of yours" in missing.err, missing.err
    assert record["id"] in {t["id"] for t in account.server.http.get("/v2/templates").json()["templates"]}


def test_a_name_gpu_jsonc_declares_that_resolves_to_an_endpoint_not_of_this_project_is_said_so(account, tmp_path):
    """This project's echo was deleted and an unmanaged endpoint holds the name: `invoke echo`
    in the project called that one without a word, as if it were the project's. The commands
    that take a name say whose endpoint they found; a name gpu.jsonc does not declare is an
    endpoint asked for on purpose, and gets no note."""
    proj = project(tmp_path / "p", _two_blocks(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    ours = {e["name"]: e["id"] for e in account.endpoints()}
    assert account.server.http.delete(f"/v2/serverless/{ours['echo']}").status_code in (200, 204)
    theirs = _by_hand(account, "echo")
    other = _by_hand(account, "elsewhere")

    note = f'note: endpoint echo ({theirs}) is not this project\'s: it is unmanaged, and project "e2e" has no endpoint named echo'
    for args in (["invoke", "echo", "--async"], ["status", "echo"], ["logs", "echo"], ["job", "status", "echo", "5e0ae067-4a83-49b5-8368-8961f7067018-u1"]):
        done = account.gpu("serverless", *args, cwd=proj)
        assert note in done.err, (args, done.err)
    for args in (["status", "echo-b"], ["status", "elsewhere"], ["status", theirs], ["status", other]):
        done = account.gpu("serverless", *args, cwd=proj)
        assert done.code == 0 and "note:" not in done.err, (args, done.err)


def test_delete_by_name_where_there_is_no_gpu_jsonc_says_there_is_no_project_here(account, tmp_path):
    """Out of the project directory, `delete echo` was refused as belonging to project "e2e",
    "not to this project", where there is no project: the error says there is no gpu.jsonc
    here and how to get one, or to name it by id with --force."""
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    endpoint_id = account.endpoints()[0]["id"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    refused = account.gpu("serverless", "delete", "echo", "--yes", cwd=elsewhere)
    assert refused.code == 1 and "not to this project" not in refused.err, refused.err
    assert f'error: no gpu.jsonc here, so endpoint echo ({endpoint_id}) of project "e2e" cannot be checked as this project\'s' in refused.err, refused.err
    assert "pass --config" in refused.err and f"gpu serverless delete {endpoint_id} --force" in refused.err, refused.err
    assert [e["id"] for e in account.endpoints()] == [endpoint_id]


def test_a_job_still_in_the_queue_when_invoke_stops_waiting_is_said_to_be_queued_not_running(account, tmp_path):
    """The one worker is busy, so the job is IN_QUEUE when --timeout runs out: "it keeps
    running" told on-call a worker had it."""
    busy = account.server.create_endpoint("busy")
    release = tmp_path / "release"
    held = account.server.job(busy["id"], "run", {"input": {"hold": str(release)}}).json()["id"]
    until(lambda: account.server.job(busy["id"], f"status/{held}", method="GET").json()["status"] == "IN_PROGRESS", "the holding job to run")
    try:
        waited = account.gpu("serverless", "invoke", "busy", "--timeout", "1", "--wait-ms", "1000", cwd=tmp_path)
    finally:
        release.touch()
    assert waited.code == 1 and "(it is IN_QUEUE)" in waited.err, waited.err
    assert "it keeps running" not in waited.err and "it stays in the queue until a worker takes it" in waited.err, waited.err


def test_status_never_cuts_the_url_at_a_narrow_width_or_in_a_pipe(account, tmp_path):
    """COLUMNS=20: `status` cut the URL to "http://…" and the labels to "proje…", in a pipe as
    on a terminal, so the one value an on-call engineer copies was gone. In a pipe it is now as
    wide as it needs (as `list` is), and on a narrow terminal long values fold instead."""
    from rich.console import Console

    from gpuctl.render.status import status_panel

    endpoint_id = _by_hand(account, "echo")
    url = f"{account.server.url}/ai/v2/{endpoint_id}/runsync"
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    piped = account.gpu("serverless", "status", "echo", cwd=cwd, env={"COLUMNS": "20"})
    assert piped.code == 0, piped.err
    assert any(line.split() == ["│", "url", url, "│"] for line in piped.out.splitlines()), piped.out
    assert "…" not in piped.out, piped.out

    doc = account.gpu("serverless", "status", "echo", "--json", cwd=cwd).json()
    console = Console(width=20, record=True, color_system=None, file=io.StringIO())
    console.print(status_panel(doc))
    narrow = console.export_text()
    assert max(map(len, narrow.splitlines())) <= 20
    assert url in "".join(narrow.split()).replace("│", ""), narrow  # folded over lines, every character there
    assert "project" in narrow and "proje…" not in narrow
