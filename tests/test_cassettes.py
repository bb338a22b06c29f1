"""The RunPod client against RunPod's documented shapes: vcrpy cassettes built from RunPod's
OpenAPI examples, and every recording contributed to fixtures/cassettes/contributed/ (made with
`--record DIR`), replayed with recording disabled."""

from __future__ import annotations

import json

import pytest
import vcr

from gpuctl.doctor.openapi import problems as shape_problems
from gpuctl.provider.errors import AuthError, ProviderError, Rejected
from gpuctl.provider.graphql import GraphQL
from gpuctl.provider.http import ApiClient
from gpuctl.provider.recording import Redactor
from gpuctl.provider.runpod import RunPodProvider
from gpuctl.model import REDACTED
from gpuctl.redact import APPLIED_ENV, DECLARED
from tests.support import cassettes

KEY = "rpa_cassette_canary_key_77"


def _json_body(recorded, sent) -> None:
    """Bodies match as JSON values, whatever the spacing."""
    def parse(request):
        return json.loads(request.body) if request.body else None

    assert parse(recorded) == parse(sent)


REPLAY = vcr.VCR(cassette_library_dir=str(cassettes.OUT), record_mode="none", filter_headers=["authorization"],
                 match_on=["method", "scheme", "host", "port", "path", "query", "json_body"])
REPLAY.register_matcher("json_body", _json_body)


def _provider() -> RunPodProvider:
    """A provider whose pauses pass at once: its clock moves forward by what it sleeps."""
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    control = ApiClient(cassettes.API, KEY, sleep=sleep, clock=lambda: now[0])
    jobs = ApiClient(cassettes.JOBS, KEY, sleep=sleep, clock=lambda: now[0])
    return RunPodProvider("runpod", control, jobs, GraphQL(control))


def test_cassettes_are_built_from_the_openapi_examples():
    for name, interactions in cassettes.scenarios().items():
        assert (cassettes.OUT / f"{name}.yaml").read_text() == cassettes.render(interactions), f"{name}.yaml is stale: python -m tests.support.cassettes"


def test_no_credentials_in_cassettes():
    for path in cassettes.OUT.rglob("*.yaml"):
        text = path.read_text()
        assert "authorization" not in text.lower() and KEY not in text
        assert not any(secret in text for secret in ("rpa_", "Bearer ")), path


def _env_in(value, found: list[tuple[str, object]]) -> list[tuple[str, object]]:
    """Every (name, value) of an env at any depth of a JSON value, the JSON text a string holds
    (a body, a GraphQL env entry, a record) read too; a last-applied record's digests come as
    ("GPUCTL_APPLIED", {path: digest})."""
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            value = json.loads(value)
        except ValueError:
            return found
    if isinstance(value, list):
        for item in value:
            _env_in(item, found)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "env" and isinstance(item, (dict, list)):
                pairs = item.items() if isinstance(item, dict) else [(e.get("key"), e.get("value")) for e in item if isinstance(e, dict)]
                for name, literal in pairs:
                    parsed = json.loads(literal) if name == APPLIED_ENV and isinstance(literal, str) and literal.startswith("{") else literal
                    found.append((name, parsed))
            _env_in(item, found)
    return found


@pytest.mark.parametrize("path", sorted(cassettes.OUT.rglob("*.yaml")), ids=lambda p: p.name)
def test_no_env_value_nor_its_digest_in_a_committed_cassette(path):
    """A cassette is shared: an env value is REDACTED but for gpuctl's own bookkeeping, and a
    last-applied record keeps no digest of an env value the file does not show ("set"): the
    contributed local-*.yaml, recorded before `--record` wrote "set", held the digest of the
    test's GREETING=hello (6f13f0a382ede77e, unsalted but for the endpoint id next to it, so a
    guess is confirmed offline) and of GPUCTL_LOCAL_COMMAND and GPUCTL_LOCAL_CWD, which the same
    file redacts."""
    recorded = path in cassettes.contributed()  # the others are RunPod's documented examples (MODEL_NAME: sdxl)
    found = _env_in([i for item in cassettes.interactions(path) for i in (item["request"].get("body"), item["response"]["body"]["string"])], [])
    for name, value in found:
        if name == APPLIED_ENV:
            leaked = {k: v for k, v in value.items() if k.startswith("env.") and not Redactor.kept(k.removeprefix("env.")) and v != DECLARED}
            assert not leaked, f"{path.name}: digests of env values in a last-applied record: {leaked}"
        elif recorded and not Redactor.kept(name):
            assert value in (REDACTED, None), f"{path.name}: env {name} is written as {value!r}"


def test_observe_reads_the_documented_list_shapes():
    with REPLAY.use_cassette("observe.yaml"):
        observed = _provider().observe()
    assert [e["id"] for e in observed.endpoints] == ["4m7x2k9q"]
    assert observed.endpoints[0]["gpu"]["pools"] == ["ADA_24"]
    assert [v["dataCenter"] for v in observed.network_volumes] and observed.templates
    assert observed.registries is None  # no block declares runpod.registry_auth: not read


def test_observe_reads_the_registry_credentials_when_asked():
    """`GET /v2/registries` as RunPod documents it: `{id, name}` each, no credential."""
    with REPLAY.use_cassette("observe.yaml"):
        observed = _provider().observe(registries=True)
    assert observed.registries == ({"id": "6n2k8v4d", "name": "dockerhub-private"},)


def test_create_and_read_back():
    provider = _provider()
    with REPLAY.use_cassette("create.yaml") as cassette:
        volume = provider.create_volume(cassettes.request_example("/v2/network-volumes", "post", "networkVolume"))
        endpoint = provider.create_endpoint(cassettes.request_example("/v2/serverless", "post", "serverlessEndpoint"))
        assert provider.get_endpoint(endpoint["id"])["workers"] == {"min": 0, "max": 5, "idleTimeout": 5}
        assert provider.get_volume(volume["id"])["id"] == volume["id"]
        assert cassette.all_played


def test_update_then_delete_twice():
    provider = _provider()
    with REPLAY.use_cassette("update-delete.yaml") as cassette:
        updated = provider.update_endpoint("4m7x2k9q", cassettes.request_example("/v2/serverless/{id}", "patch", "scaleEndpoint"))
        assert updated["id"] == "4m7x2k9q"
        assert provider.delete_endpoint("4m7x2k9q") is True
        assert provider.delete_endpoint("4m7x2k9q") is False  # already gone: success with a note
        assert cassette.all_played


def test_documented_errors_become_typed_errors():
    provider = _provider()
    with REPLAY.use_cassette("errors.yaml") as cassette:
        with pytest.raises(AuthError) as auth:
            provider.list_endpoints()
        assert auth.value.detail == "missing bearer token" and "gpu auth login" in auth.value.hint
        with pytest.raises(Rejected) as rejected:
            provider.create_endpoint(cassettes.request_example("/v2/serverless", "post", "serverlessEndpoint"))
        assert rejected.value.status == 422 and "validation failed" in rejected.value.detail.lower()
        assert provider.list_volumes()  # 429 with Retry-After, then the answer
        assert cassette.all_played


def test_job_api_shapes():
    provider = _provider()
    with REPLAY.use_cassette("jobs.yaml") as cassette:
        assert provider.runsync("4m7x2k9q", {"input": {"prompt": "a cat in space"}})["status"] == "COMPLETED"
        job = provider.run("4m7x2k9q", {"input": {"prompt": "a cat in space"}})
        assert provider.status("4m7x2k9q", job["id"])["output"] == {"images": ["ok"]}
        assert provider.health("4m7x2k9q")["workers"]["idle"] == 0
        assert cassette.all_played


def test_day_two_calls_read_the_documented_shapes():
    provider = _provider()
    with REPLAY.use_cassette("day2.yaml") as cassette:
        workers = provider.workers("4m7x2k9q")
        assert set(workers["summary"]) >= {"running", "idle", "initializing", "throttled", "unhealthy", "total"}
        assert provider.releases("4m7x2k9q")["rollout"]["percentOnLatest"] == 50
        assert [r["line"] for r in provider.worker_logs("4m7x2k9q", "w8k2m4p1")] == ["Worker ready."]
        pod = provider.create_pod(cassettes.request_example("/v2/pods", "post", "gpuPod"))
        assert provider.get_pod(pod["id"])["id"] == pod["id"]
        assert provider.delete_pod(pod["id"]) is True
        assert provider.template_users() == {"30zmvf89kd": [{"id": "4m7x2k9q", "name": "image-generator"}]}
        assert provider.cancel("4m7x2k9q", cassettes.JOB_ID)["status"] == "CANCELLED"
        assert cassette.all_played


def _documented(request: dict) -> str | None:
    """The REST v2 path of a control-plane request (None for the job API and GraphQL)."""
    uri = request["uri"]
    return uri.removeprefix(cassettes.API).split("?")[0] if uri.startswith(f"{cassettes.API}/v2/") else None


@pytest.mark.parametrize("path", cassettes.contributed(), ids=lambda p: p.name)
def test_a_contributed_recording_replays_through_the_client(path):
    """Every exchange goes through the provider method that makes it and gives what the client
    expects: an answer for a success, the typed error of its status otherwise; every REST v2
    answer has what RunPod's OpenAPI document requires, in the types it names (fields the
    document does not know are the local parity test's business)."""
    provider = _provider()
    items = cassettes.interactions(path)
    with CONTRIBUTED.use_cassette(str(path)) as cassette:
        for index, item in enumerate(items):
            if cassette.play_counts[index]:  # already played by the client's own retry of an earlier one
                continue
            request, status = item["request"], item["response"]["status"]["code"]
            call = cassettes.client_call(request)
            if status < 300 or status in (429, 500, 502, 503, 504):  # the client retries what is transient
                assert call(provider) is not None
            else:
                with pytest.raises(ProviderError) as raised:
                    call(provider)
                assert raised.value.status == status
            documented = _documented(request)
            if documented and status < 300:
                broken = [p for p in shape_problems("GET", documented, status, json.loads(item["response"]["body"]["string"])) if p.kind != "unknown"]
                assert not broken, (request["uri"], broken)
        assert cassette.all_played


CONTRIBUTED = vcr.VCR(cassette_library_dir=str(cassettes.CONTRIBUTED), record_mode="none", match_on=["method", "scheme", "host", "port", "path", "query", "json_body"])
CONTRIBUTED.register_matcher("json_body", _json_body)


def test_contributed_recordings_are_there():
    """The folder is read by name: the first contribution (gpuctl against its local provider)
    keeps the tests above from passing on an empty list."""
    assert {"local-deploy-plan.yaml", "local-doctor.yaml", "local-status.yaml"} <= {p.name for p in cassettes.contributed()}


def test_a_recording_dropped_anywhere_in_the_cassettes_folder_is_picked_up(tmp_path, monkeypatch):
    """Not only contributed/: any `.yaml` in fixtures/cassettes/ that is not built from the
    document is replayed, so a recording put in the wrong folder is not silently ignored."""
    monkeypatch.setattr(cassettes, "OUT", tmp_path)
    for name in cassettes.scenarios():
        (tmp_path / f"{name}.yaml").write_text("")
    (tmp_path / "contributed").mkdir()
    dropped = [tmp_path / "runpod-doctor.yaml", tmp_path / "contributed" / "runpod-status.yaml", tmp_path / "eu" / "runpod-list.yaml"]
    dropped[2].parent.mkdir()
    for path in dropped:
        path.write_text("")
    assert cassettes.contributed() == sorted(dropped)
