"""One HTTP client for RunPod's APIs: auth, timeouts, retries and rate limits.

Requests retry 429, 5xx and connection failures with capped exponential backoff and full
jitter, never sooner than `Retry-After` (which then holds back every request of the client),
and pause ahead of time when a `RateLimit` window is spent. A create (POST) is retried only
when the server provably did not act on it (429, or a connection that never opened); any other
failure of a create is `AmbiguousWrite`, for the engine to resolve by looking the object up. The key travels only in
the Authorization header; redirects are not followed, so it never reaches another host.
"""

from __future__ import annotations

import json as _json
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from gpuctl import __version__
from gpuctl.provider.errors import (
    AmbiguousWrite, AuthError, InsecureURL, NotFound, ProviderError, RateLimited, Rejected, ServerError, TransportError,
)

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
_WINDOW = re.compile(r'"?(\w+)"?\s*;\s*r=(\d+)\s*;\s*t=(\d+)')


def check_base_url(url: str) -> str:
    """Plain http:// only to loopback: the key must never cross a network in clear text."""
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK):
        return url.rstrip("/")
    raise InsecureURL(f"refusing to send the API key to {parts.scheme}://{parts.hostname}", hint="use https://, or http:// only for 127.0.0.1/localhost")


@dataclass
class RetryPolicy:
    attempts: int = 6
    base: float = 0.5
    cap: float = 20.0
    budget: float = 120.0  # total seconds spent waiting, across attempts


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
    timeout: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)
    on_call: Callable[[Call], None] | None = None
    transport: httpx.BaseTransport | None = None
    _not_before: float = 0.0
    _http: httpx.Client | None = None

    def __post_init__(self) -> None:
        self.base_url = check_base_url(self.base_url)

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(
                base_url=self.base_url,
                timeout=httpx.Timeout(self.timeout, connect=10.0),
                follow_redirects=False,
                headers={"Authorization": f"Bearer {self.api_key}", "User-Agent": f"gpuctl/{__version__}", "Accept": "application/json"},
                transport=self.transport,
            )
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def request(self, method: str, path: str, *, json: Any = None, params: dict | None = None, write: bool | None = None) -> httpx.Response:
        """Send one logical request; returns the successful response or raises a ProviderError.

        `write` means "not safe to repeat": by default only POST (a create). PATCH and DELETE
        set fields or remove an object, so sending them twice ends in the same state."""
        write = method == "POST" if write is None else write
        waited, attempt = 0.0, 0
        while True:
            self._pace()
            try:
                response = self._send(method, path, json, params)
            except TransportError as exc:
                error = exc
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                error = AmbiguousWrite(f"{method} {path}: the answer was lost ({type(exc).__name__})", detail="the server may have carried it out") if write else ServerError(f"{method} {path}: {type(exc).__name__}")
            else:
                self._note_rate_limit(response)
                if response.is_success:
                    return response
                error = self._error(method, path, response, write)
            attempt += 1
            delay = self._delay(attempt, error)
            if not error.retryable or attempt >= self.retry.attempts or waited + delay > self.retry.budget:
                raise error
            if error.retry_after is not None:  # the server asked every request to wait: _pace() does
                self._not_before = max(self._not_before, self.clock() + delay)
            else:
                self.sleep(delay)
            waited += delay

    def events(self, path: str, params: dict | None = None, read_timeout: float | None = None) -> Iterator[dict]:
        """Server-Sent Events from `path`, each as its parsed JSON `data` (with the event `id`
        under "_id"). Ends when the server closes the stream, or after `read_timeout` seconds
        without data (None: never)."""
        self._pace()
        timeout = httpx.Timeout(self.timeout, read=read_timeout)  # read=None: follow for as long as it lasts
        with self.http.stream("GET", path, params=params, headers={"Accept": "text/event-stream"}, timeout=timeout) as response:
            if not response.is_success:
                response.read()
                raise self._error("GET", path, response, write=False)
            event: dict = {}
            try:
                for line in response.iter_lines():
                    if line.startswith("id:"):
                        event["_id"] = line[3:].strip()
                    elif line.startswith("data:"):
                        try:
                            event.update(_json.loads(line[5:].strip()))
                        except ValueError:
                            event["line"] = line[5:].strip()
                    elif not line and event:
                        yield event
                        event = {}
            except httpx.ReadTimeout:
                return
            if event:  # a stream that closed without the final blank line
                yield event

    def _send(self, method: str, path: str, json: Any, params: dict | None) -> httpx.Response:
        start = self.clock()
        try:
            response = self.http.request(method, path, json=json, params=params)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            self._report(method, path, None, start)
            raise TransportError(f"cannot connect to {self.base_url}: {exc}", hint="check the network, or the base URL (RUNPOD_API_BASE_URL)") from None
        except httpx.HTTPError:
            self._report(method, path, None, start)
            raise
        self._report(method, path, response.status_code, start)
        return response

    def _report(self, method: str, path: str, status: int | None, start: float) -> None:
        if self.on_call:
            self.on_call(Call(method, f"{self.base_url}{path}", status, self.clock() - start))

    def _delay(self, attempt: int, error: ProviderError) -> float:
        backoff = self.rng.uniform(0, min(self.retry.cap, self.retry.base * 2 ** (attempt - 1)))
        if error.retry_after is not None:
            return error.retry_after + self.rng.uniform(0, min(1.0, error.retry_after * 0.1))
        return backoff

    def _pace(self) -> None:
        """Throttle ahead: when a RateLimit window was spent, wait for it to reset."""
        wait = self._not_before - self.clock()
        if wait > 0:
            self.sleep(wait)

    def _note_rate_limit(self, response: httpx.Response) -> None:
        header = response.headers.get("RateLimit")
        if not header:
            return
        spent = [int(t) for _, r, t in _WINDOW.findall(header) if int(r) == 0]
        if spent:
            self._not_before = max(self._not_before, self.clock() + min(spent))

    def _error(self, method: str, path: str, response: httpx.Response, write: bool) -> ProviderError:
        status = response.status_code
        detail = problem_detail(response)
        where = f"{method} {path}"
        retry_after = _retry_after(response)
        if status in (401, 403):
            hint = "set a valid key: `gpu auth login`, or RUNPOD_API_KEY" if status == 401 else "the key lacks access to this resource; use a key with read/write access to Serverless"
            return AuthError(f"{where}: {'unauthorized' if status == 401 else 'forbidden'} ({status})", status=status, detail=detail, hint=hint)
        if status == 404:
            return NotFound(f"{where}: not found", status=status, detail=detail)
        if status == 429:
            return RateLimited(f"{where}: rate limited", status=status, detail=detail, retry_after=retry_after if retry_after is not None else 1.0)
        if status >= 500:
            if write:
                return AmbiguousWrite(f"{where}: server error {status}", status=status, detail=detail or "the server may have carried out the write")
            return ServerError(f"{where}: server error {status}", status=status, detail=detail, retry_after=retry_after)
        return Rejected(f"{where}: rejected ({status})", status=status, detail=detail)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def problem_detail(response: httpx.Response) -> str | None:
    """The human part of a problem+json (or {"error"} / {"message"}) body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or None
    if not isinstance(body, dict):
        return None
    parts = [str(body[k]) for k in ("detail", "error", "message") if body.get(k)]
    parts += [str(e) for e in body.get("errors") or []]
    return "; ".join(parts) or None
