"""The doctor checks one by one, on the answers that make each verdict: the catalog check
against a live local provider and a catalog that differs from it; the rate-limit and job-API
checks against an httpx.MockTransport standing in for RunPod (the local provider always sends
well-formed headers); and the document and form rules on values."""

from __future__ import annotations

import json
from dataclasses import replace

import httpx
import pytest

from gpuctl.catalog import DataCenter, GpuType, Pool, load_catalog
from gpuctl.doctor.access import check_job_api, check_rate_limit
from gpuctl.doctor.catalog_check import check_catalog
from gpuctl.doctor.normalise import filled_from_volume, form_only
from gpuctl.doctor.openapi import problems
from gpuctl.doctor.probe import Probe
from gpuctl.provider.http import ApiClient, RetryPolicy
from tests.support import cassettes

POLICY = '"minute";q=60;w=60, "hour";q=3000;w=3600'
LIVE = '"minute";r=58;t=41, "hour";r=2990;t=1841'


def _probe(answer) -> Probe:
    """A probe whose two clients get their answers from `answer(request)`."""
    def client(base: str) -> ApiClient:
        return ApiClient(base, "k", retry=RetryPolicy(attempts=1), transport=httpx.MockTransport(answer))

    return Probe(client("https://api.runpod.io"), client("https://api.runpod.ai/v2"))


def _with_headers(headers: dict[str, str]):
    return lambda request: httpx.Response(200, json={"endpoints": []}, headers=headers)


@pytest.mark.parametrize("headers, verdict, found", [
    ({"RateLimit": LIVE, "RateLimit-Policy": POLICY}, "pass", {}),
    ({}, "warn", {}),
    ({"RateLimit": "minute=58", "RateLimit-Policy": POLICY}, "fail", {"GET /v2/serverless: RateLimit": "invalid"}),
    ({"RateLimit-Policy": POLICY}, "fail", {"GET /v2/serverless: RateLimit": "missing"}),
    ({"RateLimit": LIVE}, "warn", {"GET /v2/serverless: RateLimit-Policy": "missing"}),
    ({"RateLimit": LIVE, "RateLimit-Policy": "60 per minute"}, "warn", {"GET /v2/serverless: RateLimit-Policy": "invalid"}),
], ids=["both", "neither", "live-unparsed", "live-missing", "policy-missing", "policy-unparsed"])
def test_the_rate_limit_check_fails_only_when_gpuctl_cannot_pace(headers, verdict, found):
    finding = check_rate_limit(_probe(_with_headers(headers)))
    assert finding.verdict == verdict
    assert {p.path: p.kind for p in finding.problems} == found
    if verdict == "pass":
        assert finding.details == ("minute: 58 of 60 left, resets in 41 s", "hour: 2990 of 3000 left, resets in 1841 s")
    else:
        assert finding.fix


def test_a_health_answer_without_what_gpuctl_reads_fails_the_job_api_check():
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/serverless":
            return httpx.Response(200, json={"endpoints": [{"id": "ep1"}]})
        assert request.url.path == "/v2/ep1/health"
        return httpx.Response(200, json={"jobs": {"completed": 1}})

    finding = check_job_api(_probe(answer))
    assert finding.verdict == "fail"
    assert [(p.path, p.kind) for p in finding.problems] == [("GET /ep1/health: workers", "missing")]


@pytest.fixture
def live(account) -> Probe:
    """A probe of a fresh local provider, which serves RunPod's catalog as state/catalog holds it."""
    control = ApiClient(account.server.url, account.server.token)
    yield Probe(control, ApiClient(account.server.url + "/ai/v2", account.server.token))
    control.close()


def _differing_catalog():
    """state/catalog with one of each difference doctor names (and what each should be called)."""
    catalog = load_catalog()
    gpus, centers = dict(catalog.gpus), dict(catalog.data_centers)
    gone = gpus.pop("NVIDIA RTX A4000")
    gpus["NVIDIA Imaginary 9000"] = GpuType("NVIDIA Imaginary 9000", "Imaginary", 9000, gone.pool)
    gpus["NVIDIA L4"] = replace(gpus["NVIDIA L4"], pool="ADA_24")
    pools = catalog.pools | {"IMAGINARY_9000": Pool("IMAGINARY_9000", 9000, 1.0, 1.0)}
    centers.pop("AP-JP-1")
    centers["XX-NOWHERE-1"] = DataCenter("XX-NOWHERE-1", "Nowhere", True)
    centers["CA-MTL-1"] = replace(centers["CA-MTL-1"], network_volumes=True)
    expected = {"gpu NVIDIA RTX A4000": "new", "gpu NVIDIA Imaginary 9000": "retired", "gpu NVIDIA L4": "moved", "pool IMAGINARY_9000": "retired",
                "data center AP-JP-1": "new", "data center XX-NOWHERE-1": "retired", "data center CA-MTL-1": "moved"}
    return replace(catalog, gpus=gpus, pools=pools, data_centers=centers), expected


def test_the_catalog_check_passes_on_the_catalog_the_account_serves(live: Probe):
    finding = check_catalog(live, load_catalog())
    assert finding.verdict == "pass" and finding.problems == ()


def test_the_catalog_check_names_every_new_retired_and_moved_id(live: Probe):
    catalog, expected = _differing_catalog()
    finding = check_catalog(live, catalog)
    assert finding.verdict == "warn" and "state/catalog/gpus.json" in finding.fix
    assert {p.path: p.kind for p in finding.problems} == expected


def test_a_retired_gpu_type_that_gpu_jsonc_uses_fails_the_catalog_check(live: Probe):
    catalog, _ = _differing_catalog()
    finding = check_catalog(live, catalog, used={"NVIDIA Imaginary 9000", "NVIDIA GeForce RTX 4090"})
    assert finding.verdict == "fail" and "NVIDIA Imaginary 9000" in finding.summary and "RTX 4090" not in finding.summary


def _documented_list() -> dict:
    """The documented answer of GET /v2/serverless (RunPod's own example)."""
    first = cassettes.scenarios()["observe"][0]
    assert first["request"]["uri"].endswith("/v2/serverless")
    return json.loads(first["response"]["body"]["string"])


def test_the_documented_example_has_no_problem():
    assert problems("GET", "/v2/serverless", 200, _documented_list()) == []


@pytest.mark.parametrize("edit, found", [
    (lambda e: e["workers"].pop("max"), ("endpoints[].workers.max", "missing")),
    (lambda e: e.update(timeout="soon"), ("endpoints[].timeout", "invalid")),
    (lambda e: e.update(flashboot="SOMETIMES"), ("endpoints[].flashboot", "invalid")),
    (lambda e: e["gpu"].update(surprise=1), ("endpoints[].gpu.surprise", "unknown")),
    (lambda e: e.update(templateId="t1"), ("endpoints[].templateId", "unknown")),
], ids=["missing-nested", "wrong-type", "outside-enum", "unknown-in-union", "unknown-top"])
def test_each_difference_from_the_document_is_named_by_its_path(edit, found):
    answer = _documented_list()
    edit(answer["endpoints"][0])
    assert [(p.path, p.kind) for p in problems("GET", "/v2/serverless", 200, answer)] == [found]


def test_a_path_the_document_does_not_know_is_one_problem():
    assert [p.kind for p in problems("GET", "/v2/nothing-here", 200, {})] == ["invalid"]


@pytest.mark.parametrize("path, before, after, said", [
    ("dataCenterIds", [], None, "both are empty"),
    ("gpu.ids", ["A", "B"], ["B", "A"], "another order"),
    ("workers.max", 4, "4", "the same number"),
    ("name", "Echo ", "echo", "case or spacing"),
    ("args", "python -u handler.py", ["python", "-u", "handler.py"], "split differently"),
    ("workers.idleTimeout", 10, None, "RunPod's default"),
])
def test_a_difference_of_form_alone_is_named(path, before, after, said):
    assert said in form_only(path, before, after)


@pytest.mark.parametrize("path, before, after", [
    ("workers.max", 3, 5), ("workers.max", "4", "5"), ("name", "a", "b"), ("gpu.ids", ["A"], ["A", "B"]),
    ("workers.idleTimeout", 30, None), ("args", "python a.py", "python b.py"), ("flashboot", True, "true"),
])
def test_a_real_difference_is_not_called_form(path, before, after):
    assert form_only(path, before, after) is None


def test_a_data_center_is_filled_in_from_the_volume_only_when_it_is_the_volumes():
    assert filled_from_volume("dataCenterIds", ["EU-RO-1"], [], ["v1"], {"v1": "EU-RO-1"})
    assert filled_from_volume("dataCenterIds", ["US-TX-3"], [], ["v1"], {"v1": "EU-RO-1"}) is None
    assert filled_from_volume("dataCenterIds", ["EU-RO-1"], ["EU-RO-1", "US-TX-3"], ["v1"], {"v1": "EU-RO-1"}) is None


@pytest.mark.parametrize("endpoints, verdict", [([], "warn"), ([{"id": "ep1"}], "fail")], ids=["no-endpoint", "own-endpoint"])
def test_a_refused_key_fails_the_job_api_check_only_on_an_endpoint_of_the_account(endpoints, verdict):
    """An id no account holds may be refused rather than unknown: that says nothing of the key."""
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/serverless":
            return httpx.Response(200, json={"endpoints": endpoints})
        return httpx.Response(401, json={"message": "Unauthorized"})

    finding = check_job_api(_probe(answer))
    assert finding.verdict == verdict and finding.fix


def test_the_rate_limit_summary_counts_one_window_as_one():
    """A RateLimit header of one window was reported "parsed (1 windows)"."""
    one = {"RateLimit": '"minute";r=58;t=41', "RateLimit-Policy": '"minute";q=60;w=60'}
    assert check_rate_limit(_probe(_with_headers(one))).summary == "RateLimit and RateLimit-Policy present and parsed (1 window)"
    assert check_rate_limit(_probe(_with_headers({"RateLimit": '"minute";r=58;t=41'}))).summary.startswith("RateLimit parsed (1 window), ")
    assert check_rate_limit(_probe(_with_headers({"RateLimit": LIVE, "RateLimit-Policy": POLICY}))).summary.endswith("parsed (2 windows)")
