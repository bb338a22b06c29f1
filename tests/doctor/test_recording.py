"""The recording transport: canaries planted everywhere a secret can travel never reach the
cassette, the cassette is YAML vcrpy replays, and a write is refused before it is sent. The
answers come from httpx.MockTransport standing in for RunPod, beneath the real transport."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import vcr
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gpuctl.model import REDACTED
from gpuctl.provider import recording
from gpuctl.provider.cassette import yaml_lines
from gpuctl.provider.http import ApiClient
from gpuctl.provider.recording import Recorder, RecordingRefusedWrite

CANARIES = {
    "api_key": "rpa_CANARYAPIKEY0000000001",
    "env": "canary-env-value-0002",
    "var": "canary-dollar-var-0003",
    "graphql_env": "canary-graphql-env-0004",
    "diff_old": "canary-release-diff-old-0005",
    "diff_new": "canary-release-diff-new-0006",
    "webhook": "https://hooks.example.com/canary-webhook-0007",
    "password": "canary-password-0008",
    "nested_token": "canary-nested-token-0009",
    "url_user": "canary-url-password-0010",
    "query_key": "canary-query-key-0011",
    "hf": "hf_CANARYHUGGINGFACETOKEN0012",
    "text_body": "canary-log-line-0013",
    "person": "canary-user-id-0014",
    "email": "canary-0015@example.com",
    "header": "canary-cookie-0016",
    "in_image": "canary-var-in-image-0017",
    "env_digest": "c0ffeecanary0018",  # a last-applied record's digest of an env literal: it would confirm a guess of the literal
    "own_env_digest": "c0ffeecanary0019",  # the digest of a GPUCTL_* value the recording redacts (GPUCTL_LOCAL_CWD: a path)
}


def _answer(request: httpx.Request) -> httpx.Response:
    c = CANARIES
    if request.url.path == "/v2/serverless":
        body = {"endpoints": [{
            "id": "ep123", "name": "canary-free-name", "image": f"registry.example.com/{c['in_image']}:1",
            "env": {"GPUCTL_PROJECT": "demo", "SECRET_ONE": c["env"], "FROM_VAR": c["var"]},
            "webhook": c["webhook"], "settings": {"password": c["password"], "deep": [{"apiToken": c["nested_token"]}]},
            "callback": f"https://user:{c['url_user']}@example.com/x", "link": f"https://example.com/?api_key={c['query_key']}",
            "note": c["hf"], "createdByUserId": c["person"], "email": c["email"],
            "requestUrls": {"run": "http://127.0.0.1:9999/ai/v2/ep123/run"},
        }]}
    elif request.url.path == "/v2/serverless/ep123/releases":
        body = {"releases": [{"id": "r1", "diff": [{"field": "template.env", "old": {"A": c["diff_old"]}, "new": {"A": c["diff_new"]}},
                                                   {"field": "template.imageName", "old": "a:1", "new": "a:2"}]}]}
    elif request.url.path == "/graphql":
        body = {"data": {"myself": {"podTemplates": [{"id": "t1", "env": [{"key": "K", "value": c["graphql_env"]}, {"key": "GPUCTL_PROJECT", "value": "demo"},
                                                                                 {"key": "GPUCTL_APPLIED", "value": json.dumps({"env.SECRET_ONE": c["env_digest"], "env.GPUCTL_LOCAL_CWD": c["own_env_digest"],
                                                                                                                          "env.GPUCTL_PROJECT": "0fedcba987654321", "image": "0123456789abcdef"})}]}]}}}
    else:
        return httpx.Response(200, text=f"plain text {c['text_body']}", headers={"Set-Cookie": c["header"]})
    return httpx.Response(200, json=body, headers={"Set-Cookie": c["header"], "RateLimit": '"minute";r=5;t=10', "X-Request-Id": "abc"})


def _record(tmp_path: Path) -> tuple[Recorder, list[httpx.Response]]:
    secrets = {CANARIES["api_key"]}
    recorder = Recorder(tmp_path / "rec", "gpu doctor", secrets)
    secrets.add(CANARIES["var"])  # registered after the recorder was made, as deploy does with ${VAR} values
    secrets.add(CANARIES["in_image"])
    recorder.transport("http://127.0.0.1:9999/ai/v2", "https://api.runpod.ai/v2", httpx.MockTransport(_answer))  # the job API client's, as connect() makes both
    control = ApiClient("http://127.0.0.1:9999", CANARIES["api_key"], transport=recorder.transport("http://127.0.0.1:9999", "https://api.runpod.io", httpx.MockTransport(_answer)))
    answers = [control.request("GET", "/v2/serverless"), control.request("GET", "/v2/serverless/ep123/releases"),
               control.request("POST", "/graphql", json={"query": "query Q { myself { podTemplates { id env { key value } } } }"}, write=False),
               control.http.get("/v2/serverless/ep123/workers/w1/logs", params={"token": CANARIES["query_key"]})]  # text, as the log stream (events()) reads it
    control.close()
    return recorder, answers


def test_no_canary_reaches_the_recording(tmp_path):
    recorder, _ = _record(tmp_path)
    written = {p.name: p.read_text() for p in (tmp_path / "rec").iterdir()}
    assert set(written) == {"doctor.yaml", "README.md"}
    for name, text in written.items():
        leaked = [k for k, v in CANARIES.items() if v in text]
        assert not leaked, f"{name} holds {leaked}"


def test_the_recording_keeps_what_makes_it_coherent(tmp_path):
    _record(tmp_path)
    items = yaml.safe_load((tmp_path / "rec" / "doctor.yaml").read_text())["interactions"]
    endpoint = json.loads(items[0]["response"]["body"]["string"])["endpoints"][0]
    assert endpoint["id"] == "ep123" and endpoint["name"] == "canary-free-name"
    assert endpoint["env"] == {"GPUCTL_PROJECT": "demo", "SECRET_ONE": REDACTED, "FROM_VAR": REDACTED}
    assert endpoint["createdByUserId"] == "person-1" and endpoint["requestUrls"]["run"] == "https://api.runpod.ai/v2/ep123/run"
    assert items[0]["request"]["uri"] == "https://api.runpod.io/v2/serverless"
    assert items[3]["request"]["uri"] == "https://api.runpod.io/v2/serverless/ep123/workers/w1/logs"  # the token parameter is gone
    assert set(items[0]["response"]["headers"]) == {"content-type", "ratelimit"}
    assert not items[0]["request"]["headers"].get("Authorization")
    record_env = json.loads(items[2]["response"]["body"]["string"])["data"]["myself"]["podTemplates"][0]["env"]
    # the record is kept, its env digests are not, but for the env values the recording shows (GPUCTL_PROJECT)
    assert json.loads(record_env[2]["value"]) == {"env.SECRET_ONE": "set", "env.GPUCTL_LOCAL_CWD": "set", "env.GPUCTL_PROJECT": "0fedcba987654321", "image": "0123456789abcdef"}
    diff = json.loads(items[1]["response"]["body"]["string"])["releases"][0]["diff"]
    assert diff[1] == {"field": "template.imageName", "old": "a:1", "new": "a:2"}


def test_the_client_gets_the_answers_unchanged(tmp_path):
    _, answers = _record(tmp_path)
    assert answers[0].json()["endpoints"][0]["env"]["SECRET_ONE"] == CANARIES["env"]
    assert answers[3].text.endswith(CANARIES["text_body"])


def test_vcrpy_replays_the_recording(tmp_path):
    _record(tmp_path)
    replay = vcr.VCR(record_mode="none", match_on=["method", "scheme", "host", "port", "path", "query"])
    with replay.use_cassette(str(tmp_path / "rec" / "doctor.yaml")) as cassette:
        client = ApiClient("https://api.runpod.io", "any-key")
        assert client.request("GET", "/v2/serverless").json()["endpoints"][0]["id"] == "ep123"
        assert client.request("GET", "/v2/serverless/ep123/releases").json()["releases"][0]["id"] == "r1"
        assert cassette.play_count == 2


@pytest.mark.parametrize("method, path, body", [
    ("POST", "/v2/serverless", {"name": "x"}), ("PATCH", "/v2/serverless/ep123", {}), ("DELETE", "/v2/templates/t1", None),
    ("POST", "/graphql", {"query": "mutation { saveEndpoint(input: {}) { id } }"}),
])
def test_a_write_is_refused_before_it_is_sent(tmp_path, method, path, body):
    sent = []
    recorder = Recorder(tmp_path / "rec", "gpu serverless list", set())
    transport = recorder.transport("https://api.runpod.io", "https://api.runpod.io", httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200, json={})))
    client = ApiClient("https://api.runpod.io", "k", transport=transport)
    with pytest.raises(RecordingRefusedWrite):
        client.request(method, path, json=body)
    assert sent == [] and not (tmp_path / "rec" / "serverless-list.yaml").exists() and not (tmp_path / "rec" / "list.yaml").exists()


def test_a_second_recording_of_the_same_command_gets_its_own_file(tmp_path):
    _record(tmp_path)
    _record(tmp_path)
    assert sorted(p.name for p in (tmp_path / "rec").glob("*.yaml")) == ["doctor-2.yaml", "doctor.yaml"]
    readme = (tmp_path / "rec" / "README.md").read_text()
    assert "`doctor.yaml`" in readme and "`doctor-2.yaml`" in readme


def test_record_refuses_a_file_as_its_directory(tmp_path):
    from gpuctl.errors import UsageError

    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="not a directory"):
        Recorder(tmp_path / "file", "gpu doctor", set())


@settings(max_examples=300, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(), lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3), max_leaves=12))
def test_the_yaml_reads_back_as_written(value):
    assert yaml.safe_load("\n".join(yaml_lines({"value": value}))) == {"value": value}


@pytest.mark.parametrize("value", [{"k" * 1100: 1}, {"\U0001F600" * 120: {"a": [1, {"b": 2}]}}, [{"k" * 1100: [1, [2]], "y": None}], {"k" * 1100: {}}])
def test_a_key_too_long_for_a_plain_yaml_key_reads_back(value):
    """Regression (found by the property above): a key over 1,024 characters once escaped was
    written as `key: value`, which YAML refuses; such a key is now written `? key` / `: value`."""
    assert yaml.safe_load("\n".join(yaml_lines({"value": value}))) == {"value": value}


def test_the_bookkeeping_env_kept_is_gpuctls_own():
    from gpuctl.plan import drift
    from gpuctl.prewarm import record_key

    assert recording.KEEP_ENV == {drift.MARKER_ENV, drift.NAME_ENV, drift.APPLIED_ENV, drift.APPLIED_AT_ENV, drift.CONFIG_ENV}
    assert record_key("cpu").startswith(recording.KEEP_ENV_PREFIXES)


def test_a_value_under_a_credential_looking_key_keeps_its_json_type():
    """Regression: a recorded pod's `runtime.ports[].private: 22` became a string, so a
    recording of `GET /v2/pods/{id}` no longer validated against RunPod's document."""
    from gpuctl.doctor.openapi import problems
    from tests.support import cassettes

    pod = next(json.loads(i["response"]["body"]["string"]) for i in cassettes.scenarios()["day2"]
               if i["request"]["method"] == "GET" and "/v2/pods/" in i["request"]["uri"])
    redacted = recording.Redactor(set()).value(pod)
    assert redacted["runtime"]["ports"][0]["private"] == 0 and problems("GET", "/v2/pods/p1", 200, redacted) == []
    hidden = recording.Redactor(set()).value({"password": 1234, "auth": {"on": True, "token": "t0ken", "ttl": 2.5, "scopes": ["a"], "none": None}})
    assert hidden == {"password": 0, "auth": {"on": True, "token": REDACTED, "ttl": 0.0, "scopes": [REDACTED], "none": None}}
