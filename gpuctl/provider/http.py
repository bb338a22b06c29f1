"""One HTTP client for RunPod's APIs: auth, timeouts, retries, rate limits and request paths.

Requests retry 429, 5xx and connection failures with capped exponential backoff and full
jitter. Every answer that asks for a pause (`Retry-After`, or a spent `RateLimit` window)
holds back the next request of the client, whatever it is and whether or not the failed one
is retried. A create (POST) is retried only when the server provably did not act on it (429,
503, or a connection that never opened); any other failure of a create is `AmbiguousWrite`,
for the engine to resolve by looking the object up. The key travels only in the
Authorization header; redirects are not followed, so it never reaches another host.

After an interrupt (Ctrl-C, SIGTERM: `gpuctl.interrupts.arrived`) no request that began
before it is sent again, and no backoff is slept: it ends with `Stopped`, which says whether
the attempt before may have been carried out (review 5, R5-2). A thread a second interrupt
abandoned (`gpuctl.interrupts.abandon`) sends nothing at all: `interrupts.Closed`.

Paths are built by `path()` alone: each id is checked against RunPod's id shape for its kind
and percent-encoded, so nothing a user types (`../../x/purge-queue`) becomes path structure.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from gpuctl import __version__, interrupts
from gpuctl.interrupts import EXITING_TIMEOUT_S
from gpuctl.commands import suggest
from gpuctl.provider.errors import (
    RUNPOD, AmbiguousWrite, AuthError, FailedChange, InsecureURL, InvalidId, NotFound, ProviderError, RateLimited, Rejected, ServerError,
    Stopped, StoppedChange, TransportError, UnansweredWrite, Unavailable, Who,
)
from gpuctl.provider.pacing import Pacer
from gpuctl.safetext import one_line
from gpuctl.urls import check_https
from gpuctl.files import json_in
from gpuctl.words import counted, in_seconds

DEFAULT_TIMEOUT_S = 30.0  # a request's answer, unless GPU_HTTP_TIMEOUT says otherwise (cli/connect.py)
CONNECT_TIMEOUT_S = 10.0
HOLD_MARGIN_S = 10.0  # beyond a long poll's hold: the server's own time to answer


@dataclass(frozen=True)
class IdShape:
    """What RunPod's ids of one kind look like (api-notes §1, the OpenAPI examples): letters,
    digits, `-` and `_`, starting with a letter or digit. Liberal about length and case, strict
    about everything that could change a URL: `/`, `.`, `%`, `?`, `#`, spaces, controls."""

    name: str
    example: str
    longest: int
    hint: str

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(rf"[A-Za-z0-9][A-Za-z0-9_-]{{0,{self.longest - 1}}}")


ID_SHAPES = {
    "endpoint": IdShape("endpoint id", "i02xupws21hp6i", 64, f"name the endpoint by its name, or by the id `{suggest('serverless', 'list')}` shows"),
    "job": IdShape("job id", "5e0ae067-4a83-49b5-8368-8961f7067018-u1", 128, f"use the job id `{suggest('serverless', 'invoke')}` printed (`id` in its JSON)"),
    "worker": IdShape("worker id", "moi9fq5smrmwvl", 64, f"use a worker id from `{suggest('serverless', 'status', 'NAME')}`, or a job's `workerId`"),
    "pod": IdShape("pod id", "moi9fq5smrmwvl", 64, "use the pod id RunPod shows"),
    "volume": IdShape("network volume id", "agv6w2qcg7", 64, f"use the volume id `{suggest('serverless', 'snapshot')}` or the RunPod console shows"),
    "template": IdShape("template id", "30zmvf89kd", 64, f"use the template id `{suggest('serverless', 'snapshot')}` or the RunPod console shows"),
}
_SHOWN = 40  # characters of a bad id that an error message repeats


def shown(value: object) -> str:
    """A bad id as an error may print it: `safetext.one_line`, quoted, with its length when cut."""
    if not isinstance(value, str):
        return f"of type {type(value).__name__}"
    return one_line(value, _SHOWN, quoted=True) + (f" ({counted(len(value), 'character')})" if len(value) > _SHOWN else "")


def check_id(kind: str, value: object) -> str:
    """`value` when it has the shape of a RunPod id of `kind`, else InvalidId (a user error)."""
    shape = ID_SHAPES[kind]
    if isinstance(value, str) and shape.pattern.fullmatch(value):
        return value
    raise InvalidId(f"{shown(value)} is not a {shape.name}",
                    detail=f"a RunPod {shape.name} is 1 to {shape.longest} ASCII letters, digits, '-' or '_', starting with a letter or digit (like {shape.example})",
                    hint=shape.hint)


def path(pattern: str, /, **ids: str) -> str:
    """The request path `pattern` names, each `{kind}` segment replaced by its id from `ids`,
    checked against RunPod's shape for that kind and percent-encoded. The only way the
    provider builds a path: `path("/v2/serverless/{endpoint}/workers", endpoint=endpoint_id)`."""
    segments = []
    for segment in pattern.split("/"):
        if segment.startswith("{") and segment.endswith("}"):
            segment = quote(check_id(segment[1:-1], ids[segment[1:-1]]), safe="")
        segments.append(segment)
    return "/".join(segments)


def check_base_url(url: str) -> str:
    """Plain http:// only to loopback: the key must never cross a network in clear text."""
    return check_https(url, lambda where: InsecureURL(f"refusing to send the API key to {where}", hint="use https://, or http:// only for 127.0.0.1/localhost"))


@dataclass
class RetryPolicy:
    """How often one request is sent before its error is raised. An answer with a Retry-After
    is the server pacing the client, not a failure of the request: those are sent again up to
    `paced_attempts` times, the waiting `budget` being the real bound; every other retryable
    failure counts against `attempts`. A storm where 30 % of answers ask for a pause would
    otherwise end a deploy of a hundred requests one time in fourteen (0.3^6 per request)."""

    attempts: int = 6
    base: float = 0.5
    cap: float = 20.0
    budget: float = 120.0  # total seconds spent waiting, across attempts
    paced_attempts: int = 20  # answers with a Retry-After: 0.3^20 is 3.5e-11; a Retry-After of 0 still ends


@dataclass
class Call:
    """What the client reports about each request, for --debug and the request counter."""

    method: str
    url: str
    status: int | None
    seconds: float


@dataclass
class ApiClient:
    base_url: str
    api_key: str
    timeout: float = DEFAULT_TIMEOUT_S
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = interrupts.nap  # a backoff: ended early by an interrupt, after which nothing is sent again
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)
    interrupt_count: Callable[[], int] = interrupts.arrived  # how many interrupts have come: one more than when a request began stops its retries
    on_call: Callable[[Call], None] | None = None
    transport: httpx.BaseTransport | None = None
    pacer: Pacer | None = None  # shared by every thread that sends through this client
    unreachable_hint: str = "check the network, or the base URL (RUNPOD_API_BASE_URL)"
    provider: Who = RUNPOD  # which provider this is, for the hints of the errors it raises
    _http: httpx.Client | None = None

    def __post_init__(self) -> None:
        self.base_url = check_base_url(self.base_url)
        if self.pacer is None:
            self.pacer = Pacer(self.clock, self.sleep, self.rng)

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(
                base_url=self.base_url,
                timeout=httpx.Timeout(self.timeout, connect=CONNECT_TIMEOUT_S),
                follow_redirects=False,
                headers={"Authorization": f"Bearer {self.api_key}", "User-Agent": f"gpuctl/{__version__}", "Accept": "application/json"},
                transport=self.transport,
            )
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def request(self, method: str, path: str, *, json: Any = None, params: dict | None = None, write: bool | None = None,
                hold: float = 0.0, changes: bool | None = None) -> httpx.Response:
        """Send one logical request; returns the successful response or raises a ProviderError.

        `write` means "not safe to repeat": by default only POST (a create). PATCH and DELETE
        set fields or remove an object, so sending them twice ends in the same state.
        `hold` is how long the server may hold this request on purpose before it answers (a
        long poll such as `/runsync?wait=`): the read timeout is then at least that plus
        HOLD_MARGIN_S, so a short client timeout (GPU_HTTP_TIMEOUT) never cuts a long poll.
        `changes` means the request changes the account (default: a write, PUT, PATCH or
        DELETE): a 5xx or lost answer after retries is then a FailedChange, which never says
        the request changed nothing.
        An interrupt that comes after the request began stops it being sent again (or at all,
        when it comes while its first attempt waits for a pause): `Stopped`. A request begun
        after a second interrupt (the cleanup of a command exiting at once) gets one attempt,
        which waits EXITING_TIMEOUT_S for its answer at most: a CI cancel's SIGKILL follows its
        SIGTERM within seconds, and an attempt that waited the whole timeout met it first."""
        write = method == "POST" if write is None else write
        changes = (write or method in ("PUT", "PATCH", "DELETE")) if changes is None else changes
        waited, failed, paced = 0.0, 0, 0
        began, last = self.interrupt_count(), None
        exiting = began >= 2
        while True:
            self._pace(lambda: self.interrupt_count() != began)
            if self.interrupt_count() != began:
                raise self._stopped(method, path, last, changes)
            try:
                return self._attempt(method, path, json, params, write, hold, changes, exiting)
            except ProviderError as error:
                last = error
                if error.retryable and self.interrupt_count() != began:
                    raise self._stopped(method, path, error, changes) from None
                if error.retry_after is not None:
                    paced += 1
                    delay, spent = self.pacer.held(), paced >= self.retry.paced_attempts
                else:
                    failed += 1
                    delay, spent = self._backoff(failed), failed >= self.retry.attempts
                if not error.retryable or spent or waited + delay > self.retry.budget or began >= 2:
                    raise  # began after a second interrupt (a lease's release as gpu exits): one attempt, done quickly or not at all
                if error.retry_after is None:
                    self.sleep(delay)  # a Retry-After is held for every request already: _pace() waits it out
                waited += delay

    def _stopped(self, method: str, path: str, last: ProviderError | None, changes: bool) -> Stopped:
        """The error of a request an interrupt kept from being sent again: `last` is its last
        attempt's error (None: it was never sent). A change whose attempt was sent (its answer
        lost, or a server error) may have been carried out: its outcome is unknown."""
        if last is None or not changes or isinstance(last, (TransportError, RateLimited, Unavailable)):
            said = f"; its last attempt: {last.summary}" if last is not None else ""
            return Stopped(f"{method} {path}: interrupted, so not sent again{said}" if last else f"{method} {path}: interrupted before it was sent",
                           detail=last.detail if last else None, provider=self.provider)
        stopped = StoppedChange(f"{last.summary}; interrupted, so it was not sent again: its outcome is unknown",
                                detail="the server may have carried it out, or may still be carrying it out", provider=self.provider)
        stopped.last = last.summary
        return stopped

    def read_timeout(self, hold: float = 0.0, exiting: bool = False) -> float:
        """Seconds a request may go unanswered: the client's timeout, stretched over a server's
        hold; at most EXITING_TIMEOUT_S for one begun after a second interrupt (`exiting`)."""
        if exiting:
            return min(self.timeout, EXITING_TIMEOUT_S)
        return max(self.timeout, hold + HOLD_MARGIN_S) if hold > 0 else self.timeout

    def _attempt(self, method: str, path: str, json: Any, params: dict | None, write: bool, hold: float = 0.0,
                 changes: bool = False, exiting: bool = False) -> httpx.Response:
        try:
            response = self._send(method, path, json, params, hold, exiting)
        except (httpx.TimeoutException, httpx.TransportError) as exc:  # sent, and the answer was lost
            if write and isinstance(exc, httpx.ReadTimeout):  # sent whole, and the server said nothing: it may still be working on it
                raise UnansweredWrite(f"{method} {path}: no answer within {in_seconds(self.read_timeout(hold, exiting))} ({type(exc).__name__})",
                                      detail="the server may have carried it out, or may still be carrying it out", provider=self.provider) from None
            if write:
                raise AmbiguousWrite(f"{method} {path}: the answer was lost ({type(exc).__name__})", detail="the server may have carried it out",
                                     provider=self.provider) from None
            what = (f"no answer within {in_seconds(self.read_timeout(hold, exiting))} ({type(exc).__name__})" if isinstance(exc, httpx.ReadTimeout)
                    else type(exc).__name__)
            raise (FailedChange if changes else ServerError)(f"{method} {path}: {what}", provider=self.provider) from None
        if not response.is_success:
            raise self._error(method, path, response, write, changes)
        return _json_checked(response, f"{method} {path}", write, self.provider)

    def events(self, path: str, params: dict | None = None, read_timeout: float | None = None) -> Iterator[dict]:
        """Server-Sent Events from `path`, each as its parsed JSON `data` (with the event `id`
        under "_id"). Ends when the server closes the stream, or after `read_timeout` seconds
        without data (None: never). A failure to connect, no answer, or a stream cut short is a
        ProviderError, as for every other request, and `on_call` (--debug) sees the request."""
        interrupts.check_open()
        self._pace()
        timeout = httpx.Timeout(self.timeout, read=read_timeout)  # read=None: follow for as long as it lasts
        start, answered = self.clock(), False
        try:
            with self.http.stream("GET", path, params=params, headers={"Accept": "text/event-stream"}, timeout=timeout) as response:
                answered = True
                self._report("GET", path, response.status_code, start)
                self._note_pacing(response)
                if not response.is_success:
                    response.read()
                    raise self._error("GET", path, response, write=False)
                yield from _server_sent(response)
        except httpx.ReadTimeout:
            if answered:
                return  # quiet for read_timeout: the end of what there is to read now
            self._report("GET", path, None, start)
            raise ServerError(f"GET {path}: no answer within {read_timeout or self.timeout:g}s", provider=self.provider) from None
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            self._report("GET", path, None, start)
            raise TransportError(f"cannot connect to {self.base_url}: {exc}", hint=self.unreachable_hint, provider=self.provider) from None
        except httpx.HTTPError as exc:
            if not answered:
                self._report("GET", path, None, start)
            raise ServerError(f"GET {path}: the stream was cut short ({type(exc).__name__})" if answered else f"GET {path}: {type(exc).__name__}",
                              provider=self.provider) from None

    def _send(self, method: str, path: str, json: Any, params: dict | None, hold: float = 0.0, exiting: bool = False) -> httpx.Response:
        interrupts.check_open()  # a thread a second interrupt abandoned sends nothing more (ADR 20)
        start = self.clock()
        timeout: Any = httpx.USE_CLIENT_DEFAULT
        if exiting:
            timeout = httpx.Timeout(self.read_timeout(hold, exiting))
        elif hold > 0:
            timeout = httpx.Timeout(self.read_timeout(hold), connect=CONNECT_TIMEOUT_S)
        try:
            response = self.http.request(method, path, json=json, params=params, timeout=timeout)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            self._report(method, path, None, start)
            raise TransportError(f"cannot connect to {self.base_url}: {exc}", hint=self.unreachable_hint, provider=self.provider) from None
        except httpx.HTTPError:
            self._report(method, path, None, start)
            raise
        self._report(method, path, response.status_code, start)
        self._note_pacing(response)
        return response

    def _report(self, method: str, path: str, status: int | None, start: float) -> None:
        if self.on_call and not interrupts.abandoned():  # an abandoned thread's late answer prints nothing after the report
            self.on_call(Call(method, f"{self.base_url}{path}", status, self.clock() - start))

    def _backoff(self, attempt: int) -> float:
        return self.rng.uniform(0, min(self.retry.cap, self.retry.base * 2 ** (attempt - 1)))

    def _pace(self, stop: Callable[[], bool] = lambda: False) -> None:
        """Wait until every pause an answer asked for (Retry-After, a spent RateLimit window) is
        over, then count this request against the shared window; a pause longer than the whole
        retry budget fails now rather than sleep unseen. `stop()` ends the wait early (an
        interrupt: the request is not sent)."""
        wait = self.pacer.take(self.retry.budget, stop)
        if wait > self.retry.budget:
            raise RateLimited(f"{self.provider.name} asked for a pause of {wait:.0f}s before the next request, longer than gpuctl waits ({self.retry.budget:.0f}s)",
                              retry_after=wait, hint="run the command again once the pause is over", provider=self.provider)

    def _note_pacing(self, response: httpx.Response) -> None:
        """Every answer that asks for a pause holds back the client's next request, of any kind
        and from any thread: Retry-After, and a RateLimit window with nothing left."""
        self.pacer.observe(None if response.is_success else _retry_after(response), response.headers.get("RateLimit"))

    def _error(self, method: str, path: str, response: httpx.Response, write: bool, changes: bool = False) -> ProviderError:
        status = response.status_code
        detail = problem_detail(response)
        where = f"{method} {path}"
        retry_after = _retry_after(response)
        who = self.provider
        if status in (401, 403):
            hint = who.key if status == 401 else "the key lacks access to this resource; use a key with read/write access to Serverless"
            return AuthError(f"{where}: {'unauthorized' if status == 401 else 'forbidden'} ({status})", status=status, detail=detail, hint=hint, provider=who)
        if status == 404:
            return NotFound(f"{where}: not found", status=status, detail=detail, provider=who)
        if status == 429:
            return RateLimited(f"{where}: rate limited", status=status, detail=detail, retry_after=retry_after, provider=who,
                               hint=f"{who.name} is limiting this key's requests; nothing was changed by this one, so run it again in a minute")
        if status == 503:  # turned away, not attempted: safe to send again, even a create
            return Unavailable(f"{where}: service unavailable (503)", status=status, detail=detail, retry_after=retry_after, provider=who,
                               hint=f"{who.name} turned the request away without acting on it; run it again in a minute")
        if status >= 500:
            if write:
                return AmbiguousWrite(f"{where}: server error {status}", status=status, detail=detail or "the server may have carried out the write", retry_after=retry_after,
                                      provider=who)
            return (FailedChange if changes else ServerError)(f"{where}: server error {status}", status=status, detail=detail,
                                                             retry_after=retry_after, provider=who)
        return Rejected(f"{where}: rejected ({status})", status=status, detail=detail, provider=who)


def _server_sent(response: httpx.Response) -> Iterator[dict]:
    """The events of a text/event-stream answer: each its JSON `data` object (the line as it
    came under "line" when that is not one), with its `id` under "_id"."""
    event: dict = {}
    for line in response.iter_lines():
        if line.startswith("id:"):
            event["_id"] = line[3:].strip()
        elif line.startswith("data:"):
            read, data = json_in(line[5:].strip())
            if read and isinstance(data, dict):
                event.update(data)
            else:  # not JSON, or JSON that is no object: the line as it came
                event["line"] = line[5:].strip()
        elif not line and event:
            yield event
            event = {}
    if event:  # a stream that closed without the final blank line
        yield event


def _json_checked(response: httpx.Response, where: str, write: bool, provider: Who = RUNPOD) -> httpx.Response:
    """A success whose body is JSON (or empty), read once: its first `.json()` returns what was
    read here; a later one reads again, as httpx does. A 200 that is not JSON came from
    something that is not RunPod (a captive portal, a proxy's page) or was cut short: a provider
    error like a server error (a read is retried; a write may have been carried out), never a
    JSONDecodeError out of whichever caller reads it. (The shape of what was read, an object
    where RunPod answers one, is the provider's to check: `runpod._object`.)"""
    if not response.content.strip():
        return response
    ok, parsed = json_in(response.text)
    if not ok:
        kind = response.headers.get("Content-Type") or "no Content-Type"
        error = AmbiguousWrite if write else ServerError
        raise error(f"{where}: answered {response.status_code} with a body that is not JSON ({kind})",
                    status=response.status_code, detail=one_line(response.text, 200), provider=provider,
                    hint=f"something between gpuctl and {provider.name} (a proxy, a captive portal) may have answered, or the answer was cut short; "
                         f"check the network and {provider.address}, then run the command again")
    first = [parsed]
    read_again = response.json
    response.json = lambda **kwargs: first.pop() if first and not kwargs else read_again(**kwargs)  # type: ignore[method-assign]
    return response


def _retry_after(response: httpx.Response) -> float | None:
    """The pause an answer asks for, in seconds: its Retry-After, or 1 s for a 429 without one."""
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else (1.0 if response.status_code == 429 else None)
    except ValueError:
        return 1.0 if response.status_code == 429 else None


DETAIL_SHOWN = 300  # an error body is the server's: a megabyte of it, or a newline that starts a line like gpuctl's own, is not shown as it is


def problem_detail(response: httpx.Response) -> str | None:
    """The human part of a problem+json (or {"error"} / {"message"}) body, as one line of at
    most DETAIL_SHOWN characters (`safetext.one_line`)."""
    try:
        body = response.json()
    except ValueError:
        return one_line(response.text, DETAIL_SHOWN) or None
    if not isinstance(body, dict):
        return None
    parts = [str(body[k]) for k in ("detail", "error", "message") if body.get(k)]
    errors = body.get("errors")
    parts += [str(e) for e in errors] if isinstance(errors, list) else [str(errors)] if errors else []
    return one_line("; ".join(parts), DETAIL_SHOWN) or None
