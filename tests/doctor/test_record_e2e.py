"""`--record DIR` through the real CLI against the local provider: canaries planted in gpu.jsonc
(literal env, `${VAR}`, a secret reference), in an env value set in the account and as a
credential-looking field of the answers never reach a recording; the recording of
`deploy --plan` replays offline (vcrpy, the server stopped) to the same plan; and --record is
refused where it could record a write."""

from __future__ import annotations

import json
from pathlib import Path

import vcr

from gpuctl.catalog import load_catalog
from gpuctl.config import build_desired, load_config
from gpuctl.config.locate import ConfigLocator
from gpuctl.local.client import lifecycle
from gpuctl.plan import plan as make_plan
from gpuctl.provider.graphql import GraphQL
from gpuctl.provider.http import ApiClient
from gpuctl.provider.runpod import RunPodProvider
from gpuctl.render.document import to_document
from tests.e2e.conftest import Account, echo_config, project

CANARY = {"literal": "canary-literal-env-41", "var": "canary-dollar-var-42", "account": "canary-set-in-console-43", "token_field": "canary-api-token-44"}


def _config() -> dict:
    config = echo_config(volume="models")
    config["serverless"]["runpod"]["env"] |= {"LITERAL": CANARY["literal"], "FROM_VAR": "${CANARY_VAR}", "HF_TOKEN": {"secret": "hf_token"}}
    return config


def _json_body(recorded, sent) -> None:
    def parse(request):
        return json.loads(request.body) if request.body else None

    assert parse(recorded) == parse(sent)


def test_no_canary_reaches_any_recording(account: Account, tmp_path: Path):
    env = {"CANARY_VAR": CANARY["var"]}
    proj = project(tmp_path / "proj", _config())
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env=env).code == 0
    endpoint = account.endpoints()[0]
    account.server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"env": endpoint["env"] | {"SET_IN_CONSOLE": CANARY["account"]}}).raise_for_status()
    account.faults({"action": "extra_field", "op": "list", "kind": "endpoint", "field": "apiToken", "value": CANARY["token_field"]})
    account.server.admin("POST", "requests/reset")
    rec = tmp_path / "rec"
    for args in (["serverless", "deploy", "--plan"], ["serverless", "list", "--all"], ["serverless", "status", "echo"], ["serverless", "snapshot"], ["doctor"]):
        run = account.gpu(*args, "--record", str(rec), cwd=proj, env=env)
        assert run.code in (0, 6), run.err  # doctor fails its shapes check on the planted field, as it should
    assert account.writes() == 0
    written = {p.name: p.read_text() for p in rec.iterdir()}
    assert set(written) == {"README.md", "deploy-plan.yaml", "list.yaml", "status.yaml", "snapshot.yaml", "doctor.yaml"}
    from gpuctl.plan.drift import digest

    # the record's digest of a literal (unsalted, the endpoint id beside it) would confirm a guess of it offline
    secrets = CANARY | {"local token": account.server.token, "literal digest": digest(endpoint["id"], "env.LITERAL", CANARY["literal"])}
    for name, text in written.items():
        leaked = [what for what, value in secrets.items() if value in text]
        assert not leaked, f"{name} holds {leaked}"
    assert '\\"SET_IN_CONSOLE\\":\\"(redacted by gpuctl)\\"' in written["deploy-plan.yaml"]  # the key is kept, its value is not
    assert "127.0.0.1" not in "".join(written.values())


def test_a_recorded_plan_replays_offline_to_the_same_plan(account: Account, tmp_path: Path):
    proj = project(tmp_path / "proj", echo_config(volume="models"))
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    proj = project(proj, echo_config(volume="models", max_workers=3, idle_timeout=30))  # something to plan
    run = account.gpu("serverless", "deploy", "--plan", "--json", "--record", str(tmp_path / "rec"), cwd=proj)
    assert run.code == 0, run.err
    live = run.json()
    assert [c["action"] for c in live["resource_changes"] if c["kind"] == "endpoint"] == ["update"]
    lifecycle.stop(account.server.data_dir)  # no server from here on: the replay is offline

    replay = vcr.VCR(record_mode="none", match_on=["method", "scheme", "host", "port", "path", "query", "json_body"])
    replay.register_matcher("json_body", _json_body)
    catalog = load_catalog()
    loaded = load_config(proj / "gpu.jsonc", (), catalog, "gpu.jsonc")
    desired = build_desired(loaded, {}, catalog)
    control = ApiClient("https://api.runpod.io", "replay-key")
    provider = RunPodProvider("local", control, ApiClient("https://api.runpod.ai/v2", "replay-key"), GraphQL(control))
    with replay.use_cassette(str(tmp_path / "rec" / "deploy-plan.yaml")) as cassette:
        replayed = to_document(make_plan(desired, desired.observe(provider), catalog, target="local"), ConfigLocator(loaded))  # keys named as deploy names them
        assert cassette.all_played
    rest = [{k: v for k, v in doc.items() if k not in ("notes", "observed_digest")} for doc in (live, replayed)]
    assert rest[0] == rest[1]
    # what differs: the recording redacts env values, which the replayed plan says in a note (and so its digest differs)
    extra = [n for n in replayed["notes"] if n not in live["notes"]]
    assert [n["code"] for n in extra] == ["redacted-env"] and [n for n in live["notes"] if n not in replayed["notes"]] == []


def test_record_is_refused_where_it_could_record_a_write(cli, tmp_path: Path):
    for args, said in ((["serverless", "deploy", "--record", "rec"], "add --plan"),
                       (["serverless", "deploy", "--plan", "--observed", "snap.json", "--record", "rec"], "drop --observed")):
        result = cli(args, tmp_path)
        assert result.code == 1 and said in result.err and "Traceback" not in result.err
    assert not (tmp_path / "rec").exists()
