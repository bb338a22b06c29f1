"""RunPod secrets on the local provider (review 3, R2; docs/adr/0032-local-secrets.md): a
worker's `{{ RUNPOD_SECRET_<name> }}` env value (gpu.jsonc's {"secret": NAME}) resolves from
`gpu local secret set`, as RunPod resolves it from the account's secrets when a worker boots;
a reference to a secret there is none of fails the worker's start naming the secret, instead
of handing real worker code the placeholder text. The value never leaves: not in gpu's output,
the provider's answers, its log or the workers' logs."""

from __future__ import annotations

import hashlib
import json
import re
import stat

import pytest

from tests.e2e.conftest import ROOT, STAYS, echo_config, project
from tests.local.secret_damage import DAMAGE, damage
from tests.support.wait import until

pytestmark = pytest.mark.e2e

VALUE = "tok-local-secret-canary-7f3e91"
DIGEST = hashlib.sha256(VALUE.encode()).hexdigest()
# A real RunPod worker that answers with a digest of what it got in API_TOKEN (never the value).
HANDLER = '''import hashlib, os
import runpod


def handler(job):
    got = os.environ.get("API_TOKEN", "")
    return {"sha256": hashlib.sha256(got.encode()).hexdigest(), "placeholder": "RUNPOD_SECRET" in got}


if __name__ == "__main__":
    runpod.serverless.start({"handler": handler})
'''


def _secret_project(tmp_path, name: str = "api_tok"):
    return project(tmp_path / "p", echo_config(env={"API_TOKEN": {"secret": name}}, idle_timeout=STAYS), {"handler.py": HANDLER})


def _everything_the_provider_wrote(account) -> str:
    root = account.server.data_dir
    texts = [p.read_text(errors="replace") for p in root.rglob("*") if p.is_file() and p.parent.name != "secrets" and not p.name.startswith("state.db")]
    return "\n".join(texts)


def test_a_secret_reference_resolves_in_the_worker_and_never_leaves(account, tmp_path):
    proj = _secret_project(tmp_path)
    made = account.gpu("local", "secret", "set", "api_tok", cwd=proj, input=VALUE + "\n")
    assert made.code == 0, made.err
    assert "secret api_tok created" in made.out
    stored = account.server.data_dir / "secrets" / "api_tok"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600 and stored.read_text() == VALUE  # one trailing newline dropped
    listed = account.gpu("local", "secret", "list", "--json", cwd=proj)
    assert listed.code == 0 and listed.json() == ["api_tok"]

    deployed = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert deployed.code == 0, deployed.err
    assert account.endpoints()[0]["env"]["API_TOKEN"] == "{{ RUNPOD_SECRET_api_tok }}"  # the account keeps the reference, as RunPod's does

    called = account.gpu("serverless", "invoke", "echo", "--input", "{}", "--json", cwd=proj)
    assert called.code == 0, called.err
    assert called.json()["output"] == {"sha256": DIGEST, "placeholder": False}

    runs = [made, listed, deployed, called, account.gpu("serverless", "logs", "echo", cwd=proj), account.gpu("local", "secret", "list", cwd=proj)]
    assert all(VALUE not in r.out + r.err for r in runs)
    assert VALUE not in json.dumps(account.endpoints()) + account.server.http.get("/v2/templates").text
    assert VALUE not in _everything_the_provider_wrote(account)


def test_a_reference_to_a_missing_secret_fails_the_start_naming_it(account, tmp_path):
    proj = _secret_project(tmp_path, "nobody_made")
    deployed = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert deployed.code == 0, deployed.err

    called = account.gpu("serverless", "invoke", "echo", "--input", "{}", cwd=proj)
    assert called.code != 0
    said = called.out + called.err
    assert "env API_TOKEN refers to secret nobody_made" in said and "gpu local secret set nobody_made" in said
    assert "placeholder" not in said  # no worker ran with the reference's text

    logs = "\n".join(p.read_text() for p in (account.server.data_dir / "logs").rglob("*.jsonl"))
    assert "not started: env API_TOKEN refers to secret nobody_made" in logs

    assert account.gpu("local", "secret", "set", "nobody_made", cwd=proj, input=VALUE).code == 0
    again = account.gpu("serverless", "invoke", "echo", "--input", "{}", "--json", cwd=proj)
    assert again.code == 0, again.err
    assert again.json()["output"]["sha256"] == DIGEST


def test_import_then_plan_names_the_secrets_to_create_and_the_local_plan_says_which_are_missing(account, tmp_path):
    """R2 (import): `import --write` turns the account's working values into {"secret": KEY}; the
    next `deploy -y` replaced them with references to secrets nobody had made, exit 0, the
    plan silent. Import and the plan now say the same thing: which secrets to create, and how;
    against the local provider, which knows its secrets, the plan says which are missing, and
    says nothing once they exist."""
    console = project(tmp_path / "console", echo_config(name="console-ep", project_id="console", env={"HF_TOKEN": VALUE}), {"handler.py": HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=console).code == 0
    mine = tmp_path / "mine"
    mine.mkdir()
    imported = account.gpu("serverless", "import", "console-ep", "--force", "--write", cwd=mine)
    assert imported.code == 0, imported.err
    assert "Before deploying, create each with `gpu local secret set NAME` (the value on stdin): GREETING, HF_TOKEN" in imported.err, imported.err
    assert "HF_TOKEN refers to secret HF_TOKEN, which the local provider does not have" in imported.out + imported.err  # the preview plan too

    plan = account.gpu("serverless", "deploy", "--plan", cwd=mine)
    assert plan.code == 0, plan.err
    for key in ("GREETING", "HF_TOKEN"):
        assert f"env.{key} refers to secret {key}, which the local provider does not have" in plan.out + plan.err, plan.out + plan.err
    as_json = account.gpu("serverless", "deploy", "--plan", "--json", cwd=mine).json()
    missing = [n for n in as_json["warnings"] if n["code"] == "secret-missing"]
    assert sorted(n["message"].split(" refers")[0] for n in missing) == ["env.GREETING", "env.HF_TOKEN"]
    assert {n["address"] for n in missing} == {"endpoint.console-ep"}

    for key in ("GREETING", "HF_TOKEN"):
        assert account.gpu("local", "secret", "set", key, cwd=mine, input=VALUE).code == 0
    quiet = account.gpu("serverless", "deploy", "--plan", cwd=mine)
    assert quiet.code == 0 and "secret" not in (quiet.out + quiet.err).replace("RunPod secret", ""), quiet.out + quiet.err
    assert all(VALUE not in r.out + r.err for r in (imported, plan, quiet))


PASTED = "hf/Xq7+tok-canary=="  # a value pasted where NAME goes: no secret name, and never to be shown


@pytest.mark.parametrize("verb", ["set", "delete"])
def test_a_name_no_secret_can_have_is_a_usage_error_that_does_not_repeat_it(tmp_path, verb):
    """A bad NAME was `error: gpu local secret set: '<what was typed>' is not a secret name`
    (and `delete` said there was no such secret), quoting the words typed, where every other
    usage error says `invalid value for ... : the value given ...` (docs/errors.md)."""
    from tests.test_usage_errors import _gpu

    done = _gpu("local", "secret", verb, PASTED, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(f"error: invalid value for NAME of `gpu local secret {verb}`: the value given is not a secret name: "), done.stderr
    assert "hint: see `gpu local secret" in done.stderr
    assert "canary" not in done.stderr + done.stdout and not list(tmp_path.rglob("secrets"))


def test_set_refuses_a_bad_name_before_it_asks_for_the_value(tmp_path):
    """At a terminal `set` asked for the value, hidden, and only then refused the name: the
    secret was typed for nothing."""
    from tests.support.terminal import Terminal

    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "NO_COLOR": "1", "PYTHONPATH": str(ROOT), "GPUCTL_LOCAL_DIR": str(tmp_path / "local")}
    term = Terminal(["local", "secret", "set", "bad/name"], tmp_path, env)
    said = term.rest()
    term.child.wait()
    assert term.child.exitstatus == 1, said
    assert "value of secret" not in said and "invalid value for NAME of `gpu local secret set`" in said, said


# A handler that hands its secret back every way a worker can: in its output, its error and its log.
LEAKY = '''import os
import runpod


def handler(job):
    got = os.environ.get("API_TOKEN", "")
    print("ENV " + got, flush=True)
    if job["input"].get("fail"):
        raise RuntimeError("boom " + got)
    return {"API_TOKEN": got}


if __name__ == "__main__":
    runpod.serverless.start({"handler": handler})
'''


def test_a_secrets_value_is_masked_wherever_the_worker_hands_it_back(account, tmp_path):
    """Review 4, R4-1: the values of `{"secret": NAME}` references, the form policy's
    `require_secret_env` asks for, printed in clear from invoke, invoke --json, logs and job
    status, while `${VAR}` values were masked: gpuctl protected the env as the account holds it,
    which is the reference text, never the value a worker is given."""
    proj = project(tmp_path / "p", echo_config(env={"API_TOKEN": {"secret": "api_tok"}}, idle_timeout=STAYS), {"handler.py": LEAKY})
    assert account.gpu("local", "secret", "set", "api_tok", cwd=proj, input=VALUE).code == 0
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0

    shown = account.gpu("serverless", "invoke", "echo", "--input", "{}", cwd=proj)
    assert shown.code == 0 and json.loads(shown.out) == {"API_TOKEN": "(redacted)"}, shown.out + shown.err
    as_json = account.gpu("serverless", "invoke", "echo", "--input", "{}", "--json", cwd=proj)
    assert as_json.code == 0 and as_json.json()["output"] == {"API_TOKEN": "(redacted)"}, as_json.out + as_json.err
    failed = account.gpu("serverless", "invoke", "echo", "--input", '{"fail": true}', cwd=proj)
    assert failed.code == 1 and "RuntimeError: boom (redacted)" in failed.err, failed.err
    job_id = re.search(r"job (\S+) failed", failed.err).group(1)
    status = account.gpu("serverless", "job", "status", "echo", job_id, cwd=proj)
    assert status.code == 0 and "boom (redacted)" in status.out, status.out + status.err
    status_json = account.gpu("serverless", "job", "status", "echo", job_id, "--json", cwd=proj)
    assert status_json.code == 0 and "\"error_message\": \"boom (redacted)\"" in status_json.json()["error"], status_json.out
    logs = until(lambda: (r := account.gpu("serverless", "logs", "echo", cwd=proj)).out.count("ENV ") >= 3 and r, "the three ENV lines in the logs")
    assert logs.out.count("ENV (redacted)") == 3, logs.out

    runs = [shown, as_json, failed, status, status_json, logs]
    assert all(VALUE not in r.out + r.err for r in runs)


def test_the_missing_secret_error_names_the_reference_unmasked(account, tmp_path):
    """R4-1: the reference text was masked instead of the value, which garbled gpuctl's own
    advice: "RunPod resolves (redacted) from the account's secrets". A reference is a name."""
    proj = project(tmp_path / "p", echo_config(env={"API_TOKEN": {"secret": "nobody_made"}}, idle_timeout=STAYS), {"handler.py": LEAKY})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    called = account.gpu("serverless", "invoke", "echo", "--input", "{}", cwd=proj)
    assert called.code != 0
    assert "RunPod resolves {{ RUNPOD_SECRET_nobody_made }} from the account's secrets" in called.err, called.err
    assert "(redacted)" not in called.out + called.err


def test_a_damaged_secret_gets_the_same_verdict_from_the_worker_and_from_list(account, tmp_path):
    """Review 4, R4-9: with `secrets/api_tok` replaced by bytes that are not UTF-8, a 2 MB file, a
    FIFO or a link, workers said the provider "does not have" it while `gpu local secret list`
    listed it; an empty file reached the worker as API_TOKEN="". Each is now the one verdict,
    from the worker's start and from `list`, and setting it again is the fix."""
    proj = _secret_project(tmp_path)
    assert account.gpu("local", "secret", "set", "api_tok", cwd=proj, input=VALUE).code == 0
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    secrets_dir = account.server.data_dir / "secrets"
    for kind in ("not UTF-8", "2 MB", "FIFO", "symlink", "empty"):
        damage(secrets_dir, "api_tok", kind)
        called = account.gpu("serverless", "invoke", "echo", "--input", "{}", cwd=proj)
        verdict = f"secret api_tok is damaged ({DAMAGE[kind]}"
        assert called.code == 1 and "env API_TOKEN refers to secret api_tok, so no worker was started: " + verdict in called.err, (kind, called.err)
        assert "set it again with `gpu local secret set api_tok`" in called.err and "does not have" not in called.err
        listed = account.gpu("local", "secret", "list", cwd=proj)
        assert listed.code == 0 and listed.out == "api_tok\n" and f"warning: {verdict}" in listed.err, (kind, listed.err)
        line = next(x for x in listed.err.splitlines() if x.startswith("warning: "))
        assert line.removeprefix("warning: ") in called.err  # the same words, fix included

    assert account.gpu("local", "secret", "set", "api_tok", cwd=proj, input=VALUE).code == 0
    again = account.gpu("serverless", "invoke", "echo", "--input", "{}", "--json", cwd=proj)
    assert again.code == 0 and again.json()["output"] == {"sha256": DIGEST, "placeholder": False}, again.err
    listed = account.gpu("local", "secret", "list", cwd=proj)
    assert listed.out == "api_tok\n" and "warning" not in listed.err


@pytest.mark.parametrize("kind", ["not UTF-8", "2 MB", "FIFO", "symlink", "empty", "directory"])
def test_the_plan_gives_a_damaged_secret_the_verdict_a_worker_start_gives(account, tmp_path, kind):
    """Stop 17, D1: a damaged local secret (R4-9's verdict, which fails a worker's start) was
    counted as present by `deploy --plan`, which said nothing, and the deploy's workers failed
    later. The plan now warns with the same verdict and fix as the worker's start and `list`."""
    proj = _secret_project(tmp_path)
    assert account.gpu("local", "secret", "set", "api_tok", cwd=proj, input=VALUE).code == 0
    damage(account.server.data_dir / "secrets", "api_tok", kind)
    plan = account.gpu("serverless", "deploy", "--plan", "--json", cwd=proj)
    assert plan.code == 0, plan.err
    damaged = [n for n in plan.json()["warnings"] if n["code"] == "secret-damaged"]
    assert len(damaged) == 1 and damaged[0]["address"] == "endpoint.echo", plan.out
    said = damaged[0]["message"]
    assert said.startswith("env.API_TOKEN refers to secret api_tok, ") and f"secret api_tok is damaged ({DAMAGE[kind]}" in said, said
    assert "gpu local secret set api_tok" in said and "does not have" not in said, said
    listed = account.gpu("local", "secret", "list", cwd=proj)
    line = next(x for x in listed.err.splitlines() if x.startswith("warning: "))
    assert line.removeprefix("warning: ") in said  # the same words, fix included, as `list` and a worker's start
    text = account.gpu("serverless", "deploy", "--plan", cwd=proj)
    assert text.code == 0 and "secret api_tok is damaged" in text.out + text.err, text.out + text.err
    assert "tok-of-someone-else" not in plan.out + text.out + text.err

    if kind == "directory":
        (account.server.data_dir / "secrets" / "api_tok").rmdir()
    assert account.gpu("local", "secret", "set", "api_tok", cwd=proj, input=VALUE).code == 0
    quiet = account.gpu("serverless", "deploy", "--plan", "--json", cwd=proj)
    assert quiet.code == 0 and not [n for n in quiet.json()["warnings"] if n["code"].startswith("secret-")], quiet.out


def _secret_cmd(tmp_path, *args: str, input: str | None = None):
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "NO_COLOR": "1", "PYTHONPATH": str(ROOT), "GPUCTL_LOCAL_DIR": str(tmp_path / "local")}
    return subprocess.run([sys.executable, "-m", "gpuctl", "local", "secret", *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60, **({"input": input} if input is not None else {"stdin": subprocess.DEVNULL}))


def test_delete_names_a_directory_in_a_secrets_place_instead_of_saying_there_is_none(tmp_path):
    """Stop 17, D2: `delete NAME` with a directory at secrets/NAME said "there is no local secret",
    while `list` listed NAME as damaged and `set` refused to replace it."""
    there = tmp_path / "local" / "secrets" / "api_tok"
    there.mkdir(parents=True)
    done = _secret_cmd(tmp_path, "delete", "api_tok")
    assert done.returncode == 1, done.stderr
    assert "no local secret" not in done.stderr and f"{there} is a directory, not a secret gpuctl wrote" in done.stderr, done.stderr
    assert f"remove the directory {there}" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert there.is_dir()  # gpuctl removes no directory it did not make


@pytest.mark.parametrize("what", ["file", "dangling link"])
def test_a_secrets_directory_that_is_no_directory_is_named_by_set_list_and_delete(tmp_path, what):
    """Stop 17, D2 (the same mistake elsewhere): with the data dir's `secrets` a file or a link to
    nothing, `list` said "no local secrets", `delete` "there is no local secret", and `set`
    failed with an internal error (FileExistsError)."""
    (tmp_path / "local").mkdir()
    store = tmp_path / "local" / "secrets"
    if what == "file":
        store.write_text("not a directory")
    else:
        store.symlink_to(tmp_path / "nowhere")
    for args, given in ((("list",), None), (("delete", "api_tok"), None), (("set", "api_tok"), VALUE)):
        done = _secret_cmd(tmp_path, *args, input=given)
        said = done.stderr
        assert done.returncode == 1, (args, said)
        assert f"{store} is not a directory" in said and "no local secret" not in said and "internal error" not in said, (args, said)
        assert f"move {store} out of the way" in said, (args, said)
    assert not store.is_dir() and VALUE not in store.read_text() if what == "file" else not store.exists()
