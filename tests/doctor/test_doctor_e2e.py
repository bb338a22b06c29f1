"""`gpu doctor` through the real CLI against the local provider: every check passes on a fresh
account and after a deploy, it writes nothing, and a fault that drops a field or adds an
unknown one, or a server that fills in a field by itself, fails the matching check by path."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Account, echo_config, project

CHECKS = ["key", "control-plane", "job-api", "rate-limit", "shapes", "graphql", "catalog", "plan"]


def _verdicts(doc: dict) -> dict[str, str]:
    return {c["id"]: c["verdict"] for c in doc["checks"]}


def _check(doc: dict, check_id: str) -> dict:
    return next(c for c in doc["checks"] if c["id"] == check_id)


def test_every_check_passes_against_a_fresh_local_provider(account: Account, tmp_path: Path):
    proj = project(tmp_path / "proj", echo_config(volume="models"))
    run = account.gpu("doctor", "--provider", "local", "--json", cwd=proj)
    assert run.code == 0, run.out + run.err
    doc = run.json()
    assert _verdicts(doc) == dict.fromkeys(CHECKS, "pass")
    assert doc["ok"] is True and doc["provider"] == "local"
    assert account.writes() == 0


def test_every_check_passes_after_a_deploy_and_doctor_writes_nothing(account: Account, tmp_path: Path):
    proj = project(tmp_path / "proj", echo_config(volume="models"))
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    account.server.admin("POST", "requests/reset")
    run = account.gpu("doctor", "--provider", "local", cwd=proj)
    assert run.code == 0, run.out + run.err
    assert run.out.count("  pass  ") == len(CHECKS) and "every check passed" in run.out
    assert account.writes() == 0
    sent = {(r["method"], r["path"]) for r in account.requests()}
    assert ("GET", "/v2/catalog/gpus") in sent and all(m == "GET" or p == "/graphql" for m, p in sent)
    assert any(p.endswith("/releases") for _, p in sent) and any(p.endswith("/health") for _, p in sent)


@pytest.mark.parametrize("rule, expected", [
    ({"action": "omit_field", "op": "get", "kind": "endpoint", "field": "workers.max"}, {"GET /v2/serverless/{endpoint}: workers.max": "missing"}),
    ({"action": "omit_field", "op": "list", "kind": "endpoint", "field": "flashboot"}, {"GET /v2/serverless: endpoints[].flashboot": "missing"}),
    ({"action": "extra_field", "op": "list", "kind": "endpoint", "field": "surprise", "value": 1}, {"GET /v2/serverless: endpoints[].surprise": "unknown"}),
    ({"action": "extra_field", "op": "get", "kind": "network_volume", "field": "tier.name", "value": "x"}, {"GET /v2/network-volumes/{volume}: tier": "unknown"}),
    ({"action": "extra_field", "op": "list", "kind": "catalog", "field": "surprise", "value": None},
     {"GET /v2/catalog/gpus: gpus[].surprise": "unknown", "GET /v2/catalog/datacenters: dataCenters[].surprise": "unknown"}),
], ids=["omit-get", "omit-list", "extra-list", "extra-nested-get", "extra-catalog"])
def test_a_dropped_or_unknown_field_fails_the_shapes_check_by_path(account: Account, tmp_path: Path, rule, expected):
    proj = project(tmp_path / "proj", echo_config(volume="models"))
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    ids = {"{endpoint}": account.endpoints()[0]["id"], "{volume}": account.volumes()[0]["id"]}
    account.faults(rule)
    account.server.admin("POST", "requests/reset")
    run = account.gpu("doctor", "--json", cwd=proj)
    assert run.code == 6, run.out + run.err
    shapes = _check(run.json(), "shapes")
    assert shapes["verdict"] == "fail" and shapes["fix"]
    for placeholder, found in ids.items():
        expected = {path.replace(placeholder, found): kind for path, kind in expected.items()}
    assert {p["path"]: p["kind"] for p in shapes["problems"]} == expected
    assert account.writes() == 0


def test_without_gpu_jsonc_the_plan_check_is_skipped(account: Account, tmp_path: Path):
    run = account.gpu("doctor", "--json", cwd=tmp_path)
    assert run.code == 0, run.out + run.err
    verdicts = _verdicts(run.json())
    assert verdicts.pop("plan") == "skip" and set(verdicts.values()) == {"pass"}


def test_a_data_center_filled_in_from_the_volume_is_reported_as_a_gpuctl_bug(account: Account, tmp_path: Path):
    """The assumption of docs/conformance.md: if RunPod fills `dataCenterIds` from an attached
    volume when gpu.jsonc leaves it empty, every plan would show it. The local provider is
    made to do just that, through the API, after the deploy."""
    config = echo_config(volume="models")
    del config["serverless"]["runpod"]["data_center_ids"]
    proj = project(tmp_path / "proj", config)
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    endpoint, volume = account.endpoints()[0], account.volumes()[0]
    account.server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"dataCenterIds": [volume["dataCenter"]]}).raise_for_status()
    run = account.gpu("doctor", "--json", cwd=proj)
    assert run.code == 6, run.out + run.err
    plan = _check(run.json(), "plan")
    assert plan["verdict"] == "fail" and "gpuctl issue" in plan["fix"]
    assert [p["path"] for p in plan["problems"]] == ["endpoint.echo: dataCenterIds"]
    assert "filled in the data center of the attached network volume" in plan["problems"][0]["message"]


def test_a_local_provider_that_is_not_running_fails_the_key_check_and_is_not_started(account: Account, tmp_path: Path):
    elsewhere = tmp_path / "no-provider"
    run = account.gpu("doctor", "--provider", "local", "--json", cwd=tmp_path, env={"GPUCTL_LOCAL_DIR": str(elsewhere)})
    assert run.code == 6
    doc = run.json()
    assert _check(doc, "key")["verdict"] == "fail" and "gpu local up" in _check(doc, "key")["fix"]
    assert set(_verdicts(doc).values()) == {"fail", "skip"}
    assert not (elsewhere / "server.json").exists()


class _Redirecting(http.server.BaseHTTPRequestHandler):
    """Answers every request with a redirect to `target`, counting what reaches each."""

    target = ""
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        self.seen.append(self.path)
        self.send_response(301 if "moved" not in self.path else 200)
        self.send_header("Location", f"{self.target}/moved{self.path}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def redirecting() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Handler", (_Redirecting,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    handler.target = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler.target, seen
    server.shutdown()
    server.server_close()


def test_a_redirect_is_refused_and_the_key_goes_nowhere_else(account: Account, tmp_path: Path, redirecting):
    base, seen = redirecting
    env = {"GPU_PROVIDER": "runpod", "RUNPOD_API_KEY": "rpa_DOCTORREDIRECTKEY000001", "RUNPOD_API_BASE_URL": base, "RUNPOD_ENDPOINT_BASE_URL": f"{base}/v2"}
    run = account.gpu("doctor", "--json", cwd=tmp_path, env=env)
    assert run.code == 6, run.out + run.err
    control = _check(run.json(), "control-plane")
    assert control["verdict"] == "fail" and "redirect (301)" in control["summary"] and "never follows" in control["summary"]
    assert seen == ["/v2/serverless"]  # one request, and none to the place the redirect names
    assert "rpa_DOCTORREDIRECTKEY000001" not in run.out + run.err


def test_a_key_that_may_not_read_pods_is_a_warning_not_a_failure(account: Account, tmp_path: Path):
    account.faults({"action": "status", "op": "list", "kind": "pod", "status": 403})
    run = account.gpu("doctor", "--json", cwd=tmp_path)
    assert run.code == 0, run.out + run.err
    shapes = _check(run.json(), "shapes")
    assert shapes["verdict"] == "warn" and "GET /v2/pods" in shapes["summary"] and "warm --cpu" in shapes["fix"]


def test_the_shapes_check_reads_the_registry_credentials_gpuctl_lists(account: Account, tmp_path: Path):
    """Stop 17, G2: the plan reads `GET /v2/registries` for `runpod.registry_auth`, but the
    shapes check did not hold that answer to RunPod's document as it holds the other lists."""
    made = account.server.http.post("/v2/registries", json={"name": "ghcr-private", "username": "u", "password": "registry-canary-5521"})
    assert made.status_code == 201, made.text
    account.server.admin("POST", "requests/reset")
    run = account.gpu("doctor", "--json", cwd=tmp_path)
    assert run.code == 0, run.out + run.err
    shapes = _check(run.json(), "shapes")
    assert shapes["verdict"] == "pass" and "GET /v2/registries" in shapes["details"][0], shapes
    assert ("GET", "/v2/registries") in {(r["method"], r["path"]) for r in account.requests()} and account.writes() == 0

    account.faults({"action": "extra_field", "op": "list", "kind": "registry", "field": "surprise", "value": 1})
    failed = account.gpu("doctor", "--json", cwd=tmp_path)
    assert failed.code == 6, failed.out + failed.err
    shapes = _check(failed.json(), "shapes")
    assert shapes["verdict"] == "fail" and {p["path"]: p["kind"] for p in shapes["problems"]} == {"GET /v2/registries: registries[].surprise": "unknown"}

    account.clear_faults()
    account.faults({"action": "status", "op": "list", "kind": "registry", "status": 403})
    denied = account.gpu("doctor", "--json", cwd=tmp_path)
    assert denied.code == 0, denied.out + denied.err
    shapes = _check(denied.json(), "shapes")
    assert shapes["verdict"] == "warn" and "GET /v2/registries" in shapes["summary"] and "registry_auth" in shapes["fix"], shapes
    assert "registry-canary-5521" not in run.out + failed.out + denied.out


def test_an_env_answered_as_a_list_fails_the_shapes_and_plan_checks_without_showing_its_values(account: Account, tmp_path: Path):
    """Review 8, R8-2: doctor died with "internal error: AttributeError" in its plan check when
    an endpoint's env came as `[{"key", "value"}]`; and the shapes check quoted the env's
    values (jsonschema repeats the value it refuses), which may be secrets."""
    secret = "doctor-env-canary-73ab1"
    proj = project(tmp_path / "proj", echo_config())
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    account.faults({"op": "list", "kind": "endpoint", "action": "extra_field", "field": "env", "value": [{"key": "TOKEN", "value": secret}]})
    run = account.gpu("doctor", "--json", cwd=proj)
    assert run.code == 6, run.out + run.err
    assert "internal error" not in run.err and secret not in run.out + run.err
    doc = run.json()
    shapes, plan = _check(doc, "shapes"), _check(doc, "plan")
    assert shapes["verdict"] == "fail" and {p["path"] for p in shapes["problems"]} == {"GET /v2/serverless: endpoints[].env"}, shapes
    assert "is not of type \"object\"" in shapes["problems"][0]["message"], shapes
    assert plan["verdict"] == "fail" and 'endpoint "echo"' in plan["summary"] and "whose env is a list of objects" in plan["summary"], plan
    assert plan["fix"] and "gpu doctor --record DIR" in plan["fix"], plan
