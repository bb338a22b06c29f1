"""`gpu serverless pull` end to end: a console user edits the account through the local
provider's REST v2 API; pull prints a diff of gpu.jsonc and changes nothing, `pull --write`
rewrites the file keeping every comment, and then `deploy --plan` has nothing to do. Values
gpu.jsonc reads from `${VAR}` or a RunPod secret, and env the console added, are listed and
never written or printed."""

from __future__ import annotations

from gpuctl.config.edit import comments
from tests.e2e.conftest import ROOT

HANDLER = (ROOT / "examples" / "echo" / "handler.py").read_text()

COMMENTED = """\
// The echo endpoint, as the team keeps it.
/* Reviewed in every PR: gpuctl deploy --plan posts the diff. */
{
  "project_id": "e2e", // the ownership marker
  "serverless": {
    "name": "echo",
    "template": "custom-image", /* our own worker */
    // A 4090 first; the 3090 when 4090s are scarce.
    "gpu_type": "NVIDIA GeForce RTX 4090",
    "gpu_types": [
      "NVIDIA GeForce RTX 3090", // same pool as the L4
    ],
    "scaling": {
      "min_workers": 0, // scale to zero at night
      "max_workers": 2,
      /* seconds */ "idle_timeout": 5,
    },
    "runpod": {
      "image_name": "ghcr.io/example/echo-worker:0.1.0",
      "execution_timeout_ms": 600000, // ten minutes
      "env": {
        "GREETING": "hello", // what the worker says
        "MODE": "fast",
      },
    },
    "local": { "command": ["python", "handler.py"] }, // the local provider runs this
  },
}
// end of file
"""


def _project(tmp_path, text: str):
    proj = tmp_path / "p"
    proj.mkdir()
    (proj / "gpu.jsonc").write_text(text)
    (proj / "handler.py").write_text(HANDLER)
    return proj


def _deployed(account, proj, env: dict | None = None) -> dict:
    done = account.gpu("serverless", "deploy", "-y", cwd=proj, env=env)
    assert done.code == 0, done.err
    (endpoint,) = account.endpoints()
    return endpoint


def _console(account, endpoint_id: str, patch: dict) -> None:
    response = account.server.http.patch(f"/v2/serverless/{endpoint_id}", json=patch)
    assert response.status_code == 200, response.text


def test_pull_shows_a_diff_then_write_makes_the_plan_empty_and_keeps_every_comment(account, tmp_path):
    proj = _project(tmp_path, COMMENTED)
    live = _deployed(account, proj)
    _console(account, live["id"], {
        "workers": {"min": 1, "max": 4, "idleTimeout": 30},
        "timeout": 900_000,
        "flashboot": "OFF",
        "gpu": {"pools": ["ADA_24", "AMPERE_24", "AMPERE_48"], "excludedTypes": ["NVIDIA L4", "NVIDIA RTX A5000", "NVIDIA RTX A6000"]},
        "env": {**live["env"], "GREETING": "bonjour", "API_KEY": "{{ RUNPOD_SECRET_echo.key }}"},
    })
    writes = account.writes()

    shown = account.gpu("serverless", "pull", "--literal-env", "GREETING", cwd=proj)
    assert shown.code == 0, shown.err
    assert (proj / "gpu.jsonc").read_text() == COMMENTED and account.writes() == writes
    assert shown.out.startswith("--- a/gpu.jsonc\n+++ b/gpu.jsonc\n")
    for line in ('-      "max_workers": 2,', '+      "max_workers": 4,', '+        "GREETING": "bonjour", // what the worker says',
                 '+        "API_KEY": {"secret": "echo.key"},', '+      "NVIDIA A40",'):
        assert line in shown.out.splitlines(), shown.out
    assert "pull --write" in shown.err and "(redacted)" not in shown.out  # gpu.jsonc's own text is shown as it is

    written = account.gpu("serverless", "pull", "--write", "--literal-env", "GREETING", cwd=proj)  # "bonjour" is no secret
    assert written.code == 0, written.err
    text = (proj / "gpu.jsonc").read_text()
    assert comments(text) == comments(COMMENTED)
    assert '"min_workers": 1, // scale to zero at night' in text and '/* seconds */ "idle_timeout": 30,' in text
    assert '"execution_timeout_ms": 900000, // ten minutes' in text and '"flashboot": false' in text
    assert text.index('"gpu_type"') < text.index('"gpu_types"') < text.index('"scaling"')  # key order kept

    plan = account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj)
    assert plan.code == 0, plan.out
    again = account.gpu("serverless", "pull", cwd=proj)
    assert again.code == 0 and again.out == "" and "nothing to pull" in again.err


def test_var_and_secret_values_are_listed_never_written_or_shown(account, tmp_path):
    config = COMMENTED.replace('"MODE": "fast",', '"TOKEN": "${ECHO_TOKEN}",\n        "DB": {"secret": "echo.db"},')
    proj = _project(tmp_path, config)
    live = _deployed(account, proj, env={"ECHO_TOKEN": "token-from-ci-4411"})
    _console(account, live["id"], {"env": {**live["env"], "TOKEN": "console-token-9137", "DB": "console-db-5521", "EXTRA": "console-extra-7703"}})

    for env in ({"ECHO_TOKEN": "token-from-ci-4411"}, {}):
        result = account.gpu("serverless", "pull", "--write", "--json", cwd=proj, env=env)
        assert result.code == 0, result.err
        for secret in ("console-token-9137", "console-db-5521", "console-extra-7703", "token-from-ci-4411"):
            assert secret not in result.out + result.err + (proj / "gpu.jsonc").read_text()
        doc = result.json()
        assert doc["pulled"] == [] and doc["written"] is False and doc["diff"] == ""
        assert (proj / "gpu.jsonc").read_text() == config
    listed = {item["field"]: item["reason"] for item in doc["left"]}
    assert set(listed) == {"env.DB", "env.EXTRA"}  # TOKEN: ECHO_TOKEN is not set here, so it is not compared
    assert "RunPod secret" in listed["env.DB"] and "added in the account" in listed["env.EXTRA"]

    text = account.gpu("serverless", "pull", cwd=proj, env={"ECHO_TOKEN": "token-from-ci-4411"})
    assert "left for you:" in text.err and "env.TOKEN: gpu.jsonc reads it from ${ECHO_TOKEN}" in text.err


def test_pull_takes_the_accounts_change_and_keeps_gpu_jsonc_s_own(account, tmp_path):
    """A field changed in gpu.jsonc after the apply is git's own (origin "config", from the
    last-applied record): pull keeps it, and takes the field the console changed."""
    proj = _project(tmp_path, COMMENTED)
    live = _deployed(account, proj)
    moved = COMMENTED.replace('"max_workers": 2,', '"max_workers": 3,')
    (proj / "gpu.jsonc").write_text(moved)
    _console(account, live["id"], {"workers": {**live["workers"], "min": 1}})
    plan = account.gpu("serverless", "deploy", "--plan", "--json", cwd=proj).json()
    assert {c["path"]: c["origin"] for r in plan["resource_changes"] for c in r["changes"]} == {"workers.max": "config", "workers.min": "account"}

    doc = account.gpu("serverless", "pull", "echo", "--write", "--json", cwd=proj).json()
    assert [(p["field"], p["origin"]) for p in doc["pulled"]] == [("workers.min", "account")]
    assert [k["field"] for k in doc["kept"]] == ["workers.max"]
    assert (proj / "gpu.jsonc").read_text() == moved.replace('"min_workers": 0,', '"min_workers": 1,')

    missing = account.gpu("serverless", "pull", "ecoh", cwd=proj)
    assert missing.code == 1 and 'no endpoint named "ecoh" in gpu.jsonc' in missing.err and "echo" in missing.err
    assert "Traceback" not in missing.err


def test_pull_without_gpu_jsonc_says_what_to_do(account, tmp_path):
    result = account.gpu("serverless", "pull", cwd=tmp_path)
    assert result.code == 1 and "no gpu.jsonc here" in result.err and "hint:" in result.err
    assert "Traceback" not in result.err


def test_pull_write_through_a_symlinked_gpu_jsonc_updates_the_file_it_names_and_keeps_the_link_and_bom(account, tmp_path):
    """gpu.jsonc as a link into a shared configs directory, saved with a BOM and CRLF by an
    editor: `pull --write` replaced the link with a regular file (the shared file kept the old
    value, the link was gone) and dropped the BOM."""
    shared = tmp_path / "configs" / "echo.jsonc"
    shared.parent.mkdir()
    shared.write_bytes(b"\xef\xbb\xbf" + COMMENTED.replace("\n", "\r\n").encode())
    proj = tmp_path / "p"
    proj.mkdir()
    (proj / "handler.py").write_text(HANDLER)
    (proj / "gpu.jsonc").symlink_to(shared)
    live = _deployed(account, proj)
    _console(account, live["id"], {"workers": {"max": 4}})

    written = account.gpu("serverless", "pull", "--write", cwd=proj)
    assert written.code == 0, written.err
    assert (proj / "gpu.jsonc").is_symlink() and (proj / "gpu.jsonc").resolve() == shared.resolve()
    raw = shared.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b'"max_workers": 4,\r\n' in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert not [p.name for p in shared.parent.iterdir() if p.name.startswith(".echo.jsonc")]  # no temporary file left beside it
    plan = account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj)
    assert plan.code == 0, plan.out


def _answers(account, action: str, field: str, **extra) -> None:
    """The account's endpoint answers (get and list) with `field` left out or set to a value."""
    account.faults(*({"op": op, "kind": "endpoint", "action": action, "field": field} | extra for op in ("get", "list")))


def test_a_field_absent_from_the_accounts_answer_is_left_as_gpu_jsonc_has_it_and_said(account, tmp_path):
    """workers.max absent from the answer (not null): nothing is known of it, so gpu.jsonc keeps
    its value. Pull wrote nothing, as it should, but said "gpu.jsonc already declares every
    value the account changed", when it had not seen that value at all; the console's other
    change is still pulled."""
    proj = _project(tmp_path, COMMENTED)
    live = _deployed(account, proj)
    _console(account, live["id"], {"workers": {**live["workers"], "min": 1}})
    _answers(account, "omit_field", "workers.max")
    try:
        doc = account.gpu("serverless", "pull", "--write", "--json", cwd=proj).json()
        text = account.gpu("serverless", "pull", cwd=proj)
    finally:
        account.clear_faults()
    assert [p["field"] for p in doc["pulled"]] == ["workers.min"]
    written = (proj / "gpu.jsonc").read_text()
    assert '"max_workers": 2,' in written and '"min_workers": 1, // scale to zero at night' in written
    (left,) = doc["left"]
    assert left["field"] == "workers.max" and "did not report" in left["reason"] and "keeps" in left["reason"], left
    assert "workers.max: the account did not report it" in text.err and "already declares every value" not in text.err, text.err


def test_a_field_the_account_answers_null_is_left_for_you_and_the_rest_is_pulled(account, tmp_path):
    """workers.max and flashboot answered as null: gpu.jsonc cannot declare null there. Pull
    refused the whole edit ("the account's values do not fit gpu.jsonc", and for flashboot
    "after the edit these still differ ... report this"), so the console's other change was
    not pulled either. Now each null field is left for you, named, and the rest is written."""
    proj = _project(tmp_path, COMMENTED)
    live = _deployed(account, proj)
    _console(account, live["id"], {"workers": {**live["workers"], "min": 1}})
    for field in ("workers.max", "flashboot", "timeout", "env.GREETING"):
        _answers(account, "extra_field", field, value=None)
        try:
            result = account.gpu("serverless", "pull", "--write", "--json", cwd=proj)
        finally:
            account.clear_faults()
        assert result.code == 0, result.err
        doc = result.json()
        assert [p["field"] for p in doc["pulled"]] == ["workers.min"], (field, doc)
        assert [(i["field"], "null" in i["reason"]) for i in doc["left"]] == [(field, True)], (field, doc)
        written = (proj / "gpu.jsonc").read_text()
        assert '"min_workers": 1, // scale to zero at night' in written and '"max_workers": 2,' in written
        assert "flashboot" not in written and '"execution_timeout_ms": 600000' in written and '"GREETING": "hello"' in written
        (proj / "gpu.jsonc").write_text(COMMENTED)


PASTED = "ghp_pastedInTheConsole7731xyz"


def test_a_literal_the_console_changed_is_not_copied_by_pull_unless_literal_env_says_it_is_no_secret(account, tmp_path):
    """Review 3, R11: drift hid a console-changed env literal as "(sensitive)" (it may be a pasted
    credential) and advised `pull --write`, which copied it into gpu.jsonc in clear, to be committed
    and shown in the next pull request's plan. Pull now lists it with what works; drift's advice
    names `pull --write --literal-env KEY`; with that flag pull copies it."""
    proj = _project(tmp_path, COMMENTED)
    live = _deployed(account, proj)
    _console(account, live["id"], {"env": {**live["env"], "GREETING": PASTED}, "workers": {**live["workers"], "max": 3}})

    found = account.gpu("serverless", "drift", "--json", cwd=proj)
    assert found.code == 2, found.err
    (greeting,) = [c for e in found.json()["drift"] for c in e["changes"] if c["path"] == "env.GREETING"]
    assert "pull --write --literal-env GREETING" in greeting["what_to_do"], greeting
    text = account.gpu("serverless", "drift", cwd=proj)
    said = " ".join(text.out.split())
    assert "--literal-env GREETING" in said, text.out
    for view in (found, text):
        assert PASTED not in view.out + view.err

    pulled = account.gpu("serverless", "pull", "--write", "--json", cwd=proj)
    assert pulled.code == 0, pulled.err
    doc = pulled.json()
    assert [p["field"] for p in doc["pulled"]] == ["workers.max"]
    (left,) = [item for item in doc["left"] if item["field"] == "env.GREETING"]
    assert "not copied" in left["reason"] and "--literal-env GREETING" in left["reason"], left
    kept = (proj / "gpu.jsonc").read_text()
    assert '"GREETING": "hello"' in kept and '"max_workers": 3' in kept
    assert PASTED not in pulled.out + pulled.err + kept

    copied = account.gpu("serverless", "pull", "--write", "--literal-env", "GREETING", cwd=proj)
    assert copied.code == 0, copied.err
    assert f'"GREETING": "{PASTED}", // what the worker says' in (proj / "gpu.jsonc").read_text()
    plan = account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj)
    assert plan.code == 0, plan.out


def _held_while(account, proj, args: tuple[str, ...], edit) -> tuple[int, str]:
    """`gpu *args` with its listing of endpoints held by the account; `edit()` runs while it is
    held (another command or an editor writing gpu.jsonc), then the listing is let go."""
    from tests.support.wait import until

    account.faults({"op": "list", "kind": "endpoint", "action": "hang", "seconds": 3600})
    process = account.popen(*args, cwd=proj)
    try:
        until(lambda: account.server.admin("GET", "faults")["rules"][0]["fired"] == 1, "the listing of endpoints held")
        edit()
    finally:
        account.clear_faults()
    _, err = process.communicate(timeout=120)
    return process.returncode, err


def test_pull_write_never_overwrites_an_edit_made_while_it_ran(account, tmp_path):
    """Review 4, R4-3: pull read gpu.jsonc, asked the account, then replaced the file with its
    edit of the text it had read: a block `import --write` added meanwhile, or a person's
    editor save, was lost, and both said they wrote. The file is now replaced only if it still
    holds the text pull read; else nothing is written and pull says to run it again."""
    proj = _project(tmp_path, COMMENTED)
    endpoint = _deployed(account, proj)
    _console(account, endpoint["id"], {"workers": {**endpoint["workers"], "max": 3}})
    edited = COMMENTED.replace('"MODE": "fast"', '"MODE": "slow"')

    code, err = _held_while(account, proj, ("serverless", "pull", "--write"), lambda: (proj / "gpu.jsonc").write_text(edited))
    assert code == 1, err
    assert "gpu.jsonc changed while gpu serverless pull ran" in err and "nothing was written" in err, err
    assert (proj / "gpu.jsonc").read_text() == edited  # the other writer's edit stands

    again = account.gpu("serverless", "pull", "--write", cwd=proj)
    assert again.code == 0, again.err
    text = (proj / "gpu.jsonc").read_text()
    assert '"MODE": "slow"' in text and '"max_workers": 3' in text


def test_import_write_never_overwrites_an_edit_made_while_it_ran(account, tmp_path):
    proj = _project(tmp_path, COMMENTED)
    _deployed(account, proj)
    made = account.server.http.post("/v2/serverless", json={"name": "gamma", "type": "QUEUE", "image": "x/y:1", "gpu": {"pools": ["ADA_24"]},
                                                             "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}})
    assert made.status_code == 201, made.text
    edited = COMMENTED.replace('"MODE": "fast"', '"MODE": "slow"')

    code, err = _held_while(account, proj, ("serverless", "import", "gamma", "--write"), lambda: (proj / "gpu.jsonc").write_text(edited))
    assert code == 1, err
    assert "gpu.jsonc changed while gpu serverless import ran" in err and "nothing was written" in err, err
    assert (proj / "gpu.jsonc").read_text() == edited
