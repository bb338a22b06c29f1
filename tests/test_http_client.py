"""The RunPod HTTP client's retry and transport rules, against a scripted fake transport.

Waiting is recorded, never slept: the injected sleep advances a fake clock."""

from __future__ import annotations

import httpx
import pytest

from gpuctl.provider.errors import AmbiguousWrite, AuthError, InsecureURL, RateLimited, Rejected
from gpuctl.provider.http import ApiClient, RetryPolicy


class Script:
    """Answers requests from a list of (status, headers, body) in order, and records them."""

    def __init__(self, *answers):
        self.answers, self.requests, self.now, self.sent_at = list(answers), [], 0.0, []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.sent_at.append(self.now)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, headers, body = answer
        return httpx.Response(status, headers=headers, json=body)

    def client(self, **kw) -> ApiClient:
        def sleep(seconds: float) -> None:
            self.now += seconds

        return ApiClient("https://api.runpod.io", "rpa_canary_key_123456", transport=httpx.MockTransport(self.handler), sleep=sleep, clock=lambda: self.now, **kw)


def test_reads_retry_and_never_before_retry_after():
    s = Script((429, {"Retry-After": "3"}, {"title": "Too Many Requests", "status": 429, "detail": "rate limit exceeded"}), (503, {}, {}), (200, {}, {"endpoints": []}))
    assert s.client().request("GET", "/v2/serverless").json() == {"endpoints": []}
    assert len(s.requests) == 3
    assert s.sent_at[1] - s.sent_at[0] >= 3.0


def test_reads_give_up_within_the_attempt_budget():
    s = Script(*[(500, {}, {})] * 3)
    with pytest.raises(Exception) as info:
        s.client(retry=RetryPolicy(attempts=3)).request("GET", "/v2/serverless")
    assert "server error 500" in info.value.summary and len(s.requests) == 3


def test_writes_are_not_retried_after_a_server_error():
    s = Script((500, {}, {"detail": "boom"}), (201, {}, {"id": "x"}))
    with pytest.raises(AmbiguousWrite):
        s.client().request("POST", "/v2/serverless", json={"name": "a"})
    assert len(s.requests) == 1


def test_writes_are_not_retried_after_a_lost_answer():
    s = Script(httpx.ReadTimeout("lost"), (201, {}, {"id": "x"}))
    with pytest.raises(AmbiguousWrite):
        s.client().request("POST", "/v2/serverless", json={"name": "a"})
    assert len(s.requests) == 1


def test_writes_are_retried_after_429_which_the_server_did_not_act_on():
    s = Script((429, {"Retry-After": "2"}, {}), (201, {}, {"id": "x"}))
    assert s.client().request("POST", "/v2/serverless", json={}).json() == {"id": "x"}
    assert s.sent_at[1] - s.sent_at[0] >= 2.0


def test_writes_are_retried_when_the_connection_never_opened():
    s = Script(httpx.ConnectError("refused"), (201, {}, {"id": "x"}))
    assert s.client().request("POST", "/v2/serverless", json={}).json() == {"id": "x"}


def test_spent_rate_limit_window_pauses_the_next_request():
    spent = '"minute";r=0;t=12, "hour";r=2800;t=1812'
    s = Script((200, {"RateLimit": spent}, {}), (200, {}, {}))
    client = s.client()
    client.request("GET", "/v2/serverless")
    client.request("GET", "/v2/serverless")
    assert s.sent_at[1] - s.sent_at[0] >= 12.0


def test_401_explains_how_to_fix_the_key_and_problem_detail_reaches_the_user():
    s = Script((401, {}, {"title": "Unauthorized", "status": 401, "detail": "missing bearer token"}))
    with pytest.raises(AuthError) as info:
        s.client().request("GET", "/v2/serverless")
    assert "gpu auth login" in info.value.hint and info.value.detail == "missing bearer token"


def test_422_carries_the_validation_errors():
    s = Script((422, {}, {"title": "Unprocessable Entity", "status": 422, "detail": "Request validation failed.", "errors": ["$: additional properties 'bogus' not allowed"]}))
    with pytest.raises(Rejected) as info:
        s.client().request("POST", "/v2/serverless", json={"bogus": 1})
    assert "bogus" in info.value.detail


def test_key_only_in_the_authorization_header():
    s = Script((200, {}, {}))
    s.client().request("GET", "/v2/serverless", params={"a": "b"})
    request = s.requests[0]
    assert request.headers["Authorization"] == "Bearer rpa_canary_key_123456"
    assert "rpa_canary_key_123456" not in str(request.url)


def test_redirects_are_not_followed_so_the_key_never_reaches_another_host():
    s = Script((302, {"Location": "https://evil.example/steal"}, {}))
    with pytest.raises(Exception):
        s.client().request("GET", "/v2/serverless")
    assert [r.url.host for r in s.requests] == ["api.runpod.io"]


@pytest.mark.parametrize("url", ["http://api.runpod.io", "http://10.0.0.5:8787", "ftp://127.0.0.1"])
def test_plain_http_only_to_loopback(url):
    with pytest.raises(InsecureURL):
        ApiClient(url, "k")


@pytest.mark.parametrize("url", ["http://127.0.0.1:8787", "http://localhost:1", "https://api.runpod.io"])
def test_loopback_and_https_are_accepted(url):
    assert ApiClient(url, "k").base_url == url


def test_rate_limited_error_is_retryable_type():
    assert RateLimited("x").retryable and not AmbiguousWrite("x").retryable
