"""The RunPod HTTP client's retry and transport rules, against a scripted fake transport.

Waiting is recorded, never slept: the injected sleep advances a fake clock."""

from __future__ import annotations

import inspect

import httpx
import pytest

from gpuctl.provider.errors import AmbiguousWrite, AuthError, InsecureURL, InvalidId, ProviderError, RateLimited, Rejected, TransportError, Unavailable
from gpuctl.provider.graphql import GraphQL
from gpuctl.provider.http import ApiClient, RetryPolicy, path
from gpuctl.provider.runpod import RunPodProvider


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


def test_answers_that_ask_for_a_pause_are_not_failed_attempts():
    """CI, stop 29: in a 30 % 429/503 storm (each with Retry-After) a parallel deploy ended with
    "rate limited" after one read was turned away 6 times in a row, 0.3^6 per request. The
    server pacing the client is waited out within the budget, up to `paced_attempts` times."""
    paused = (429, {"Retry-After": "1"}, {}), (503, {"Retry-After": "1"}, {})
    s = Script(*(paused * 4), (200, {}, {"endpoints": []}))
    assert s.client().request("GET", "/v2/serverless").json() == {"endpoints": []}
    assert len(s.requests) == 9 and s.now >= 8.0
    s = Script(*([paused[0]] * 30))
    with pytest.raises(RateLimited):
        s.client(retry=RetryPolicy()).request("GET", "/v2/serverless")
    assert len(s.requests) == 20


def test_failures_without_a_pause_still_end_after_attempts_mixed_with_pauses():
    s = Script((500, {}, {}), (429, {"Retry-After": "1"}, {}), (500, {}, {}), (429, {"Retry-After": "1"}, {}), (500, {}, {}), (200, {}, {}))
    with pytest.raises(ProviderError) as info:
        s.client(retry=RetryPolicy(attempts=3)).request("GET", "/v2/serverless")
    assert "server error 500" in info.value.summary and len(s.requests) == 5


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


# -- Retry-After holds back the next request, of any kind ----------------------------------------


def test_503_on_a_create_is_a_refusal_retried_after_retry_after():
    s = Script((503, {"Retry-After": "2"}, {"detail": "overloaded"}), (201, {}, {"id": "x"}))
    assert s.client().request("POST", "/v2/serverless", json={}).json() == {"id": "x"}
    assert s.sent_at[1] - s.sent_at[0] >= 2.0


def test_retry_after_on_a_create_whose_outcome_is_unknown_holds_the_lookup_that_follows():
    """The engine's identity lookup after a lost create must wait as long as the answer asked."""
    s = Script((500, {"Retry-After": "3"}, {"detail": "boom"}), (200, {}, {"endpoints": []}))
    client = s.client()
    with pytest.raises(AmbiguousWrite) as info:
        client.request("POST", "/v2/serverless", json={"name": "a"})
    assert info.value.outcome_unknown
    client.request("GET", "/v2/serverless")
    assert s.sent_at[1] - s.sent_at[0] >= 3.0


@pytest.mark.parametrize(("status", "wait", "error", "first"), [
    (503, 4.0, Unavailable, lambda client: client.request("GET", "/v2/serverless")),  # a read that gave up
    (429, 2.0, RateLimited, lambda client: list(client.events("/v2/pods/abc/logs"))),  # a log stream
], ids=["read-gave-up", "log-stream"])
def test_retry_after_on_a_failed_request_holds_the_next_request(status, wait, error, first):
    s = Script((status, {"Retry-After": str(int(wait))}, {}), (200, {}, {}))
    client = s.client(retry=RetryPolicy(attempts=1, paced_attempts=1))
    with pytest.raises(error):
        first(client)
    client.request("GET", "/v2/templates")
    assert s.sent_at[1] - s.sent_at[0] >= wait


def test_a_pause_longer_than_the_retry_budget_fails_instead_of_sleeping_or_sending_early():
    s = Script((429, {"Retry-After": "3600"}, {}), (200, {}, {}))
    client = s.client()
    with pytest.raises(RateLimited):
        client.request("GET", "/v2/serverless")
    with pytest.raises(RateLimited) as info:
        client.request("GET", "/v2/serverless")
    assert "longer than gpuctl waits" in info.value.summary and len(s.requests) == 1 and s.now == 0.0


@pytest.mark.parametrize("answer", [(500, {}, {}), (502, {}, {}), (504, {}, {}), httpx.ReadTimeout("lost"), httpx.RemoteProtocolError("reset")])
def test_a_create_whose_answer_may_hide_a_commit_has_an_unknown_outcome(answer):
    s = Script(answer, (201, {}, {"id": "x"}))
    with pytest.raises(AmbiguousWrite) as info:
        s.client().request("POST", "/v2/serverless", json={})
    assert info.value.outcome_unknown and len(s.requests) == 1


@pytest.mark.parametrize("answer", [(429, {"Retry-After": "1"}, {}), (503, {"Retry-After": "1"}, {}), httpx.ConnectError("refused")])
def test_a_create_that_was_refused_has_a_known_outcome(answer):
    s = Script(*[answer] * 2)
    with pytest.raises(ProviderError) as info:
        s.client(retry=RetryPolicy(attempts=2, paced_attempts=2)).request("POST", "/v2/serverless", json={})
    assert not info.value.outcome_unknown and len(s.requests) == 2


# -- ids never become path structure --------------------------------------------------------------

BAD_IDS = ["../../other/purge-queue", "..", "%2e%2e", "a/b", "?x=1", "a#b", "a b", "a\x00b", "a\nb", "\x1b[31mred", "", "-x", "a.b", "é", "a" * 200]


def _provider(script: Script) -> RunPodProvider:
    control, jobs = script.client(), ApiClient("https://api.runpod.ai/v2", "k", transport=httpx.MockTransport(script.handler))
    return RunPodProvider("runpod", control, jobs, GraphQL(control))


def _id_methods() -> list[tuple[str, str]]:
    """(method, id parameter) for every provider method that takes an id; GraphQL carries its
    ids as variables, never in a path."""
    found = []
    for name, method in inspect.getmembers(RunPodProvider, inspect.isfunction):
        if name.startswith("_") or name == "set_model_references":
            continue
        found += [(name, p) for p in inspect.signature(method).parameters if p.endswith("_id")]
    return found


def _call(provider: RunPodProvider, name: str, ids: dict[str, str]):
    method = getattr(provider, name)
    args = {p: ids.get(p, {}) for p, spec in inspect.signature(method).parameters.items() if spec.default is inspect.Parameter.empty}
    result = method(**args)
    return list(result) if inspect.isgenerator(result) else result


def test_every_method_that_takes_an_id_is_covered():
    assert {"cancel", "status", "worker_logs", "get_volume", "delete_template", "get_pod", "request_url"} <= {n for n, _ in _id_methods()}


@pytest.mark.parametrize("name,param", _id_methods())
@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
def test_a_malformed_id_is_refused_before_any_request(name, param, bad):
    s = Script()
    params = [p for n, p in _id_methods() if n == name]
    with pytest.raises(InvalidId) as info:
        _call(_provider(s), name, {p: bad if p == param else "abc123" for p in params})
    assert s.requests == []
    message = info.value.format()
    assert "id" in info.value.summary and "\x00" not in message and "\n" not in info.value.summary and "\x1b" not in message
    assert len(info.value.summary) < 120 and info.value.hint


@pytest.mark.parametrize("endpoint_id,job_id", [("i02xupws21hp6i", "5e0ae067-4a83-49b5-8368-8961f7067018-u1"), ("4m7x2k9q", "sync-5e0ae067-4a83-49b5-8368-8961f7067018"), ("vol-9", "a_b")])
def test_real_ids_pass_unchanged(endpoint_id, job_id):
    s = Script((200, {}, {"id": job_id, "status": "CANCELLED"}))
    _provider(s).cancel(endpoint_id, job_id)
    assert s.requests[0].url.path == f"/v2/{endpoint_id}/cancel/{job_id}"


def test_path_percent_encodes_every_id_segment():
    assert path("/v2/serverless/{endpoint}/workers/{worker}/logs", endpoint="ab", worker="c-d_e") == "/v2/serverless/ab/workers/c-d_e/logs"
    with pytest.raises(InvalidId) as info:
        path("/v2/serverless/{endpoint}", endpoint="x" * 5000)
    assert "(5000 characters)" in info.value.summary and "endpoint id" in info.value.summary


PORTAL = "<html><body>Sign in to the hotel wifi</body></html>"


def _portal_client(answers: list[httpx.Response]) -> tuple[ApiClient, list[httpx.Request]]:
    """A client whose every answer is 200, from something that is not RunPod (a captive portal,
    a proxy's page) or from RunPod cut short."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return answers.pop(0) if len(answers) > 1 else answers[0]

    return ApiClient("https://api.runpod.io", "rpa_canary_key_123456", transport=httpx.MockTransport(handler), sleep=lambda s: None), sent


@pytest.mark.parametrize("answer", [httpx.Response(200, headers={"Content-Type": "text/html"}, text=PORTAL),
                                    httpx.Response(200, headers={"Content-Type": "application/json"}, text='{"endpoints": [')],
                         ids=["html page", "cut short"])
def test_a_success_that_is_not_json_is_a_provider_error_naming_it_not_a_crash(answer):
    """`.json()` on such an answer raised JSONDecodeError out of every caller: an internal error."""
    client, sent = _portal_client([answer])
    with pytest.raises(ProviderError) as info:
        RunPodProvider("runpod", client, client, GraphQL(client)).list_endpoints()
    assert "not JSON" in info.value.summary and "GET /v2/serverless" in info.value.summary
    assert info.value.hint and len(sent) > 1  # a read is retried, as after a server error
    client, sent = _portal_client([answer])
    with pytest.raises(AmbiguousWrite):  # a create may have been carried out behind the page
        client.request("POST", "/v2/serverless", json={"name": "a"})
    assert len(sent) == 1


def test_an_empty_success_and_a_json_one_still_read_as_before():
    client, _ = _portal_client([httpx.Response(200, text="")])
    assert client.request("DELETE", "/v2/serverless/abc").status_code == 200
    client, _ = _portal_client([httpx.Response(200, json={"endpoints": [{"id": "a"}]})])
    response = client.request("GET", "/v2/serverless")
    assert response.json() == {"endpoints": [{"id": "a"}]} and response.json() is not response.json()


HOSTILE = "bad\nerror: a line gpuctl never wrote\x1b[2J\u202e" + "M" * 1_000_000


@pytest.mark.parametrize("body", [{"message": HOSTILE}, {"detail": HOSTILE, "errors": [HOSTILE]}, {"errors": HOSTILE}], ids=["message", "detail-and-errors", "errors-not-a-list"])
def test_an_error_body_is_shown_as_one_short_line(body):
    """A 400 whose message was a megabyte long was printed whole, and its newline began a line
    that read like one of gpuctl's (`error: ...`): the server's text is one clipped line."""
    s = Script((400, {}, body))
    with pytest.raises(Rejected) as info:
        s.client().request("GET", "/v2/serverless")
    shown = info.value.format()
    assert len(shown) < 1000, len(shown)
    assert "\nerror: a line" not in shown and "\x1b" not in shown and "\u202e" not in shown, shown[:300]
    assert "bad\\nerror: a line gpuctl never wrote\\x1b[2J\\u202e" in shown


def test_an_error_body_that_is_not_json_is_shown_as_one_short_line():
    client = ApiClient("https://api.runpod.io", "rpa_canary_key_123456", transport=httpx.MockTransport(lambda r: httpx.Response(200, text=HOSTILE)))
    with pytest.raises(ProviderError) as info:
        client.request("GET", "/v2/serverless")
    shown = info.value.format()
    assert len(shown) < 1000 and "\nerror: a line" not in shown, shown[:300]


@pytest.mark.parametrize("errors", [[{"message": HOSTILE}], [HOSTILE], {"message": HOSTILE}], ids=["object", "string", "not-a-list"])
def test_a_graphql_error_is_shown_as_one_short_line_whatever_its_shape(errors):
    """GraphQL's first error message went into the summary whole; an error that was a string
    instead of an object (`errors[0].get`) was an internal error with a traceback hint."""
    s = Script((200, {}, {"errors": errors}))
    with pytest.raises(Rejected) as info:
        GraphQL(s.client()).query("query { myself { id } }")
    shown = info.value.format()
    assert len(shown) < 1000 and "\nerror: a line" not in shown and "\x1b" not in shown, shown[:300]
    assert "bad\\nerror: a line" in shown


@pytest.mark.parametrize("body,what", [("", "an empty body"), ("[]", "JSON that is not an object (list)"), ("null", "JSON that is not an object (NoneType)"),
                                       ('{"endpoints": {"id": "a"}}', '"endpoints" that is not a list'),
                                       ('{"endpoints": [{"id": "a"}, {"name": "no id"}]}', '"endpoints"[1] with no string "id"')],
                         ids=["empty", "list", "null", "not-a-list", "no-id"])
def test_a_success_of_the_wrong_shape_is_a_provider_error_naming_it_not_a_crash(body, what):
    """An empty 200, `[]` or `null` where RunPod answers an object raised JSONDecodeError or
    AttributeError out of `.json().get(...)`, and an endpoint listed without an id a KeyError
    later: each was an internal error. Now a provider error that says what came back."""
    client, _ = _portal_client([httpx.Response(200, headers={"Content-Type": "application/json"}, text=body)])
    provider = RunPodProvider("runpod", client, client, GraphQL(client))
    with pytest.raises(ProviderError) as info:
        provider.observe()
    assert info.value.summary == f"GET /v2/serverless: answered 200 with {what}" and info.value.hint


@pytest.mark.parametrize("body", ["", "[]", '"created"'], ids=["empty", "list", "string"])
def test_a_create_answered_with_no_object_may_have_been_carried_out(body):
    client, sent = _portal_client([httpx.Response(201, headers={"Content-Type": "application/json"}, text=body)])
    with pytest.raises(AmbiguousWrite) as info:
        RunPodProvider("runpod", client, client, GraphQL(client)).create_endpoint({"name": "a"})
    assert info.value.summary.startswith("POST /v2/serverless: answered 201 with ") and len(sent) == 1


def _streaming(handler, calls: list | None = None) -> ApiClient:
    return ApiClient("https://api.runpod.io", "rpa_canary_key_123456", transport=httpx.MockTransport(handler), sleep=lambda s: None,
                     on_call=None if calls is None else calls.append)


@pytest.mark.parametrize("failure,expected", [(httpx.ConnectError("refused"), TransportError), (httpx.ReadTimeout("slow"), ProviderError),
                                              (httpx.RemoteProtocolError("garbled"), ProviderError)],
                         ids=["connect", "no-answer", "protocol"])
def test_an_event_stream_that_cannot_be_opened_is_a_provider_error_and_is_reported(failure, expected):
    """`logs` (and a CPU warm-up's pod logs) read RunPod's SSE stream outside the request path:
    with the network down, httpx.ConnectError escaped as an internal error, and --debug never
    listed the request."""
    calls: list = []

    def handler(request):
        raise failure

    with pytest.raises(expected) as info:
        list(_streaming(handler, calls).events("/v2/serverless/abc/workers/w1/logs", read_timeout=1.0))
    assert "/v2/serverless/abc/workers/w1/logs" in info.value.format() or "api.runpod.io" in info.value.format()
    assert [c.url for c in calls] == ["https://api.runpod.io/v2/serverless/abc/workers/w1/logs"] and calls[0].status is None


def test_an_event_stream_reads_events_and_reports_its_status():
    calls: list = []
    body = b'id: 1\ndata: {"line": "hello"}\n\nid: 2\ndata: not json\n\ndata: {"line": "last"}'
    client = _streaming(lambda r: httpx.Response(200, headers={"Content-Type": "text/event-stream"}, content=body), calls)
    assert list(client.events("/v2/pods/p1/logs")) == [{"_id": "1", "line": "hello"}, {"_id": "2", "line": "not json"}, {"line": "last"}]
    assert [c.status for c in calls] == [200]


def _read_timeouts(script: Script) -> list[float]:
    return [request.extensions["timeout"]["read"] for request in script.requests]


def test_a_long_poll_waits_for_its_hold_whatever_the_client_timeout() -> None:
    """A /runsync held 20 s, or a /stream poll, is not cut by a client timeout shorter than the
    hold (GPU_HTTP_TIMEOUT=2); the deploy health check's runsync holds up to 90 s, three times
    the default 30 s, and was cut at 30 s."""
    script = Script((200, {}, {"id": "sync-1", "status": "IN_PROGRESS"}), (200, {}, {"id": "sync-2", "status": "IN_PROGRESS"}),
                    (200, {}, {"status": "IN_PROGRESS", "stream": []}), (200, {}, {"workers": {}}))
    jobs = script.client(timeout=2.0)
    provider = RunPodProvider("runpod", jobs, jobs, GraphQL(jobs))
    provider.runsync("ep1", {"input": {}}, wait_ms=20_000)
    provider.runsync("ep1", {"input": {}})  # RunPod holds 90 s without ?wait=
    provider.stream("ep1", "job-1")
    provider.health("ep1")
    assert _read_timeouts(script) == [30.0, 100.0, 20.0, 2.0]


def test_gpu_http_timeout_sets_the_client_timeout_and_refuses_what_is_not_a_positive_number() -> None:
    from gpuctl.cli.connect import client
    from gpuctl.cli.context import AppContext
    from gpuctl.errors import UsageError

    assert client(AppContext(environ={}), "https://api.runpod.io", "k").timeout == 30.0
    assert client(AppContext(environ={"GPU_HTTP_TIMEOUT": " 2.5 "}), "https://api.runpod.io", "k").timeout == 2.5
    for bad in ("0", "-1", "soon", "nan", "inf"):
        with pytest.raises(UsageError) as refused:
            client(AppContext(environ={"GPU_HTTP_TIMEOUT": bad}), "https://api.runpod.io", "k")
        assert "GPU_HTTP_TIMEOUT" in str(refused.value) and "more than 0" in str(refused.value), bad


class Interrupts:
    """The process's interrupt count as the client reads it: `at(n)` makes an interrupt come
    as the n-th request is answered."""

    def __init__(self, script: Script, at: int):
        self.script, self.at = script, at

    def __call__(self) -> int:
        return int(len(self.script.requests) >= self.at)


@pytest.mark.parametrize("method, failure", [
    ("PATCH", httpx.ReadTimeout("timed out")), ("DELETE", httpx.ReadTimeout("timed out")), ("PATCH", (500, {}, {})),
], ids=["patch-no-answer", "delete-no-answer", "patch-500"])
def test_after_an_interrupt_a_change_is_not_sent_again_and_its_outcome_is_unknown(method, failure):
    """Review 5, R5-2: Ctrl-C while a PATCH waited for its answer, and the retry loop sent it 5
    more times (a read timeout and a backoff each), about 3 minutes, until CI's SIGKILL."""
    from gpuctl.provider.errors import Stopped

    s = Script(failure, (200, {}, {"id": "e1"}))
    with pytest.raises(Stopped) as info:
        s.client(interrupt_count=Interrupts(s, 1)).request(method, "/v2/serverless/e1", json={} if method == "PATCH" else None)
    assert len(s.requests) == 1 and s.now == 0.0  # not sent again, no backoff slept
    assert info.value.sent and "outcome is unknown" in info.value.summary and info.value.exit_code == 1
    assert "deploy --plan" in info.value.hint


def test_after_an_interrupt_a_read_or_a_refused_request_is_not_sent_again_and_changed_nothing():
    from gpuctl.provider.errors import Stopped

    s = Script((503, {}, {}), (200, {}, {}))
    with pytest.raises(Stopped) as info:
        s.client(interrupt_count=Interrupts(s, 1)).request("PATCH", "/v2/serverless/e1", json={})
    assert len(s.requests) == 1 and not info.value.sent  # a 503 turned it away: nothing was done


def test_a_request_that_begins_after_an_interrupt_is_still_retried():
    """The cleanup after an interrupt (releasing the account lease) is a new request: it keeps
    its retries; only an interrupt after it began stops them."""
    s = Script((500, {}, {}), (200, {}, {}))
    assert s.client(interrupt_count=lambda: 1).request("DELETE", "/v2/templates/t1").status_code == 200
    assert len(s.requests) == 2


def test_the_backoff_ends_when_an_interrupt_comes():
    import threading

    from gpuctl import interrupts
    from tests.support.wait import until

    napping = threading.Thread(target=interrupts.nap, args=(3600,), daemon=True)
    napping.start()
    until(lambda: interrupts.note_interrupt() or not napping.is_alive(), "the backoff to end at an interrupt")  # one that comes after it began


def test_after_two_interrupts_a_new_request_gets_one_attempt():
    """Two interrupts: gpu exits at once (Terraform's "Two interrupts received. Exiting
    immediately"); its last cleanup (the lease's release) is tried once, not for minutes."""
    s = Script((500, {}, {}), (200, {}, {}))
    with pytest.raises(ProviderError):
        s.client(interrupt_count=lambda: 2).request("DELETE", "/v2/templates/t1")
    assert len(s.requests) == 1


@pytest.mark.parametrize("field, value, said", [
    ("env", [{"key": "TOKEN", "value": "tok-canary-5521"}], "whose env is a list of objects, not an object"),
    ("env", "TOKEN=tok-canary-5521", "whose env is a string, not an object"),
    ("workers", [0, 3], "whose workers is a list of numbers, not an object"),
    ("gpu", {"pools": "ADA_24", "count": 1}, "whose gpu.pools is a string, not a list of strings"),
    ("gpu", {"excludedTypes": [1]}, "whose gpu.excludedTypes is a list of numbers, not a list of strings"),
    ("cpu", ["cpu3c"], "whose cpu is a list of strings, not a list of objects"),
    ("networkVolumes", "vol1", "whose networkVolumes is a string, not a list of strings"),
], ids=["env-list", "env-string", "workers-list", "gpu-pools", "gpu-excluded", "cpu", "volumes"])
def test_a_field_gpuctl_reads_into_of_another_shape_is_an_error_naming_the_endpoint(field, value, said):
    """Review 8, R8-2: the provider checked that each listed object has an id, and nothing of the
    fields gpuctl reads into, so an env answered as `[{"key", "value"}]` became an
    AttributeError in the planner. One table (runpod.ANSWER_SHAPES) holds each such field to
    its shape on the way in, for the list and the get; the error never shows the value."""

    endpoint = {"id": "ep1", "name": "echo", "env": {"A": "b"}, "workers": {"min": 0, "max": 1}} | {field: value}
    answers = {"/v2/serverless": {"endpoints": [endpoint]}, "/v2/serverless/ep1": endpoint}
    client = ApiClient("https://api.runpod.io", "rpa_canary_key_123456", transport=httpx.MockTransport(lambda r: httpx.Response(200, json=answers[r.url.path])))
    provider = RunPodProvider("runpod", client, client, GraphQL(client))
    for read in (provider.list_endpoints, lambda: provider.get_endpoint("ep1")):
        with pytest.raises(ProviderError) as info:
            read()
        shown = info.value.format()
        assert 'endpoint "echo" (ep1) ' + said in shown and "gpu doctor" in shown, shown
        assert "tok-canary-5521" not in shown and "ADA_24" not in shown


def test_null_and_absent_fields_and_odd_scalars_are_not_refused():
    """Null or left out is "none" to every reader, and a scalar of another type is read as
    unknown where it is shown (a worker count that is not one is "?"): only fields gpuctl reads
    into are held to a shape."""

    endpoint = {"id": "ep1", "name": "echo", "env": None, "gpu": None, "workers": {"min": "x", "max": None}, "timeout": "soon"}
    client = ApiClient("https://api.runpod.io", "k", transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"endpoints": [endpoint]})))
    assert RunPodProvider("runpod", client, client, GraphQL(client)).list_endpoints() == [endpoint]
