"""A small GitHub REST client on httpx: the repository's issues, comments, labels, pull requests,
artifacts and file contents (the fork flow), and which account the token writes as (one
GraphQL query, `viewer`), and nothing else.

It honours `GITHUB_API_URL` and `GITHUB_GRAPHQL_URL` (GitHub Enterprise, or a test's fake on
loopback; the GraphQL endpoint must share the REST API's origin), pages through
`Link: rel="next"`, and waits as GitHub asks: `Retry-After`, an `x-ratelimit-remaining` of 0
until `x-ratelimit-reset`, a minute for a secondary limit without either; a wait longer than
`max_wait` fails with the time instead. The token goes only in the Authorization header, only
to `GITHUB_API_URL`'s origin, and never into a message."""

from __future__ import annotations

import json as _json
import math
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from gpuctl import __version__
from gpuctl.errors import GpuctlError
from gpuctl.github.env import Actions, repository as repository_of
from gpuctl.safetext import one_line
from gpuctl.urls import check_https
from gpuctl.files import json_in

IDEMPOTENT = ("GET", "PATCH", "PUT", "DELETE")
PERMISSIONS = (
    ("/actions/", "actions: read"),
    ("/contents/", "contents: read"),
    ("/git/ref/", "contents: read"),
    ("/git/trees/", "contents: read"),
    ("/labels", "issues: write"),
    ("/pulls", "pull-requests: read"),
    ("/issues", "issues: write (drift issue) or pull-requests: write (plan comment)"),
)


class GitHubError(GpuctlError):
    def __init__(self, summary: str, *, status: int | None = None, **kwargs):
        super().__init__(summary, **kwargs)
        self.status = status


def check_api_url(url: str) -> str:
    """https://, or plain http:// to loopback only: the token must never cross a network in clear."""
    return check_https(url, lambda where: GitHubError(f"refusing to send the GitHub token to {where}",
                                                      hint="GITHUB_API_URL must be https:// (or http:// to 127.0.0.1/localhost for a test server)"))


def graphql_url_for(api_url: str, given: str | None) -> str:
    """The GraphQL endpoint: `given` (GITHUB_GRAPHQL_URL) when set, else the one beside the REST
    API (`https://api.github.com/graphql`; `https://HOST/api/graphql` on GitHub Enterprise
    Server, whose REST API is `https://HOST/api/v3`). Only on the REST API's own origin: the token
    goes nowhere else."""
    api_url = api_url.rstrip("/")
    url = (given or "").rstrip("/") or (api_url[:-len("/v3")] + "/graphql" if api_url.endswith("/api/v3") else api_url + "/graphql")
    a, g = urlsplit(api_url), urlsplit(url)
    if (a.scheme, a.netloc) != (g.scheme, g.netloc):
        raise GitHubError(f"refusing to send the GitHub token to {g.scheme}://{g.hostname}: GITHUB_GRAPHQL_URL is not on GITHUB_API_URL's host",
                          hint="GITHUB_GRAPHQL_URL must name the same scheme and host as GITHUB_API_URL (GitHub Actions sets both); unset it to use the default")
    return url


def segment(value: str | int) -> str:
    """One segment of a request path, percent-encoded whole: `/`, `?`, `#`, `%` and spaces
    escaped, and `.` and `..` too, which a URL would otherwise fold into the segment before."""
    text = quote(str(value), safe="")
    return text.replace(".", "%2E") if text in (".", "..") else text


def path_of(path: str) -> list[str]:
    """A file's path from the repository root (`services/asr/gpu.jsonc`; "" the root) as the
    segments `GitHub.repo` takes."""
    return path.split("/")


VIEWER = "query { viewer { login } }"
LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}(?:\[bot\])?")  # loose: Enterprise Managed Users' logins hold `_`


@dataclass
class GitHub:
    api_url: str
    token: str = field(repr=False)
    repository: str
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    note: Callable[[str], None] = lambda message: None
    debug: Callable[[str], None] | None = None  # under --debug: one line per request sent (`debug_line`)
    attempts: int = 4
    max_wait: float = 300.0
    graphql_url: str | None = None  # default: beside api_url (graphql_url_for)
    login: str | None = None  # the account the token writes as, when given (GPU_GITHUB_LOGIN); else asked once (whoami)
    login_given: bool = field(init=False, default=False)
    _hold_until: float = 0.0

    def __post_init__(self) -> None:
        self.api_url = check_api_url(self.api_url)
        repository_of(self.repository)  # every request is under /repos/OWNER/NAME
        self.login_given = self.login is not None
        self.graphql_url = graphql_url_for(self.api_url, self.graphql_url)
        if self.login is not None and not LOGIN.fullmatch(self.login):
            raise GitHubError(f"GPU_GITHUB_LOGIN is not a GitHub login: {self.login!r}",
                              hint="give the account the token writes as: github-actions[bot] for the Actions token, <app-slug>[bot] for a GitHub App's, a user's login for a personal token")
        self._http = httpx.Client(base_url=self.api_url, timeout=30.0, follow_redirects=False, headers={
            "Authorization": f"Bearer {self.token}", "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28", "User-Agent": f"gpuctl/{__version__}"})

    @classmethod
    def from_actions(cls, actions: Actions, note: Callable[[str], None] = lambda message: None,
                     debug: Callable[[str], None] | None = None) -> GitHub:
        if not actions.token:
            raise GitHubError("no GitHub token: GITHUB_TOKEN is not set", hint="the action passes its github-token input (default ${{ github.token }}); elsewhere set GITHUB_TOKEN")
        if not actions.repository:
            raise GitHubError("GITHUB_REPOSITORY is not set", hint="set it to owner/name (GitHub Actions sets it for every run)")
        return cls(actions.api_url, actions.token, actions.repository, note=note, debug=debug, graphql_url=actions.graphql_url, login=actions.login)

    def close(self) -> None:
        self._http.close()

    def repo(self, *segments: str | int) -> str:
        """The path of a request about this repository: `/repos/OWNER/NAME/` and `segments`, each
        percent-encoded whole (`/` included: `path_of` splits a file's path into its segments), so
        no value (a branch, a label, a file name, a number read from a payload) can add a segment,
        a `..` or a query and send the request, with the token, elsewhere. A segment that begins
        with `/` is a caller passing a path where segments go (`repo("/issues/7/comments")`
        became one encoded segment, a 404 the caller reported as a warning): a ValueError."""
        if any(isinstance(s, str) and s.startswith("/") for s in segments):
            raise ValueError(f"GitHub.repo takes path segments, not a path: {segments!r}")
        return "/".join(["", "repos", *map(segment, self.repository.split("/", 1)), *map(segment, segments)])

    def request(self, method: str, path: str, *, json: Any = None, params: dict | None = None, answer: type | tuple[type, ...] = dict,
                fields: Fields | None = None) -> Any:
        """GitHub's answer to one request, checked to be what the caller reads: a JSON `answer`
        (an object unless said: `list` for a short listing, `(dict, list)` where GitHub answers
        either), holding every `fields` path (`head.sha`) with its type (the object itself, or
        each object of a list). Nothing is only for a DELETE (204). Anything else is an odd
        answer, a GitHubError naming the request, never a KeyError or TypeError (an "internal
        error") out of whichever caller reads it."""
        response = self._call(method, path, json=json, params=params)
        body = _body(response, method, path)
        if body is None and method == "DELETE":
            return None
        return _shaped(response, method, path, body, answer, fields or {})

    def whoami(self) -> str:
        """The login of the account this token writes as: GPU_GITHUB_LOGIN when given, else
        GitHub's own answer (GraphQL `viewer`, which every kind of token may ask, unlike REST
        `GET /user`, which refuses the Actions token and App installation tokens), asked once.
        GitHub not saying is an error, never a guess: a wrong guess would make another
        account's comments gpuctl's to edit, delete and close."""
        if self.login is None:
            try:
                answer = _body(self._call("POST", self.graphql_url, json={"query": VIEWER}, idempotent=True), "POST", self.graphql_url)
            except GitHubError as exc:
                if exc.status not in (403, 404):
                    raise  # a bad token, a rate limit, GitHub down: what the error already says
                raise GitHubError(f"GitHub did not say which account the token writes as ({exc.summary})", status=exc.status, hint=WHOAMI_HINT) from None
            login = ((answer.get("data") or {}).get("viewer") or {}).get("login") if isinstance(answer, dict) else None
            if not isinstance(login, str) or not LOGIN.fullmatch(login):
                errors = "; ".join(str(e.get("message")) for e in (answer.get("errors") or []) if isinstance(e, dict)) if isinstance(answer, dict) else ""
                raise GitHubError(f"GitHub did not say which account the token writes as (GraphQL viewer: {errors or 'no login in the answer'})", hint=WHOAMI_HINT)
            self.login = login
        return self.login

    def paginate(self, path: str, params: dict | None = None, key: str | None = None, fields: Fields | None = None) -> Iterator[dict]:
        """Every item of a listing, following `Link: rel="next"` (100 a page), each an object
        holding `fields` as `request` checks them."""
        url: str | None = path
        query: dict | None = {"per_page": 100, **(params or {})}
        while url:
            response = self._call("GET", url, params=query)
            body = _body(response, "GET", url)
            items = body.get(key) if key and isinstance(body, dict) else None if key else body
            if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
                expected = f"an object with a list of objects under {key!r}" if key else "a list of objects"
                raise _odd_answer(response, "GET", url, f"is not the listing gpuctl expects ({expected}): {one_line(response.text, 200)}")
            for item in items:
                _check_fields(response, "GET", url, item, fields or {})
            yield from items
            url, query = response.links.get("next", {}).get("url"), None
            if url and not url.startswith(self.api_url + "/"):
                raise GitHubError(f"GitHub's next page is on another host ({urlsplit(url).hostname})", hint="GITHUB_API_URL must be the API the pages come from")

    def _call(self, method: str, path: str, json: Any = None, params: dict | None = None, idempotent: bool = False) -> httpx.Response:
        idempotent = idempotent or method in IDEMPOTENT
        for attempt in range(1, self.attempts + 1):
            self._pause(max(0.0, self._hold_until - self.clock()), "GitHub's rate limit is spent")
            start = time.perf_counter()
            try:
                response = self._http.request(method, path, json=json, params=params)
            except httpx.HTTPError as exc:
                self._debug(method, path, params, f"no answer ({type(exc).__name__})", attempt, start)
                if not idempotent or attempt == self.attempts:
                    raise GitHubError(f"cannot reach GitHub at {self.api_url}: {type(exc).__name__}", hint="check GITHUB_API_URL and the runner's network; run again") from None
                self._pause(2.0 ** attempt, "GitHub did not answer", asked=False)
                continue
            self._debug(method, str(response.request.url), None, str(response.status_code), attempt, start)
            self._remember_limit(response)
            wait = self._wait(idempotent, response, attempt)
            if wait is None:
                break
            self._pause(wait, f"GitHub answered {response.status_code}", asked=response.status_code < 500)
        if response.is_success:
            return response
        raise self._error(method, path, response, tries=attempt)

    def _debug(self, method: str, url: str, params: dict | None, answer: str, attempt: int, start: float) -> None:
        if self.debug is not None:
            self.debug(debug_line(method, url, params, answer, attempt, self.attempts, time.perf_counter() - start))

    def _remember_limit(self, response: httpx.Response) -> None:
        if response.headers.get("x-ratelimit-remaining") == "0":
            reset = _number(response.headers.get("x-ratelimit-reset"))
            self._hold_until = max(self._hold_until, reset if reset is not None else self.clock() + 60.0)

    def _wait(self, idempotent: bool, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before sending again, or None when the answer is final."""
        if attempt == self.attempts:
            return None
        status, headers = response.status_code, response.headers
        if status in (403, 429) and _rate_limited(response):
            retry_after = _number(headers.get("retry-after"))
            if retry_after is not None:
                return retry_after
            if headers.get("x-ratelimit-remaining") == "0":
                return 0.0  # send again at once: the hold from x-ratelimit-reset delays it
            return 60.0 * attempt  # a secondary limit without a hint: at least a minute, growing
        if status >= 500 and idempotent:
            retry_after = _number(headers.get("retry-after"))  # a 503 may say when GitHub is back
            return retry_after if retry_after is not None else 2.0 ** attempt
        return None

    def _pause(self, seconds: float, why: str, asked: bool = True) -> None:
        """Wait `seconds` before the next try: as GitHub `asked` (a rate limit), or gpuctl's
        own back-off after a server error or no answer, which the note must not put on GitHub."""
        if seconds <= 0:
            return
        if seconds > self.max_wait:
            raise GitHubError(f"{why}; it asks to wait {seconds:.0f} s, longer than gpuctl waits ({self.max_wait:.0f} s)",
                              hint="run the job again later, or lower how often it runs")
        self.note(f"note: {why}; waiting {seconds:.0f} s as it asks" if asked else f"note: {why}; trying again in {seconds:.0f} s")
        self.sleep(seconds)

    def _error(self, method: str, path: str, response: httpx.Response, tries: int = 1) -> GitHubError:
        status, message = response.status_code, _message(response)
        where = f"{method} {urlsplit(path).path}"
        if status == 401:
            return GitHubError(f"GitHub refused the token ({where}: 401 {message})", status=status,
                               hint="pass the action's github-token input (default ${{ github.token }}), or set GITHUB_TOKEN to a valid token")
        if status == 403:
            return GitHubError(f"GitHub denied {where} (403): {message}", status=status, hint=_permission_hint(path))
        if status == 404:
            return GitHubError(f"GitHub has no {urlsplit(path).path} (404)", status=status,
                               hint=f"check GITHUB_REPOSITORY ({self.repository}) and that the token may read it; {_permission_hint(path)}")
        if status >= 500:
            times = f", {tries} times" if tries > 1 else ""
            return GitHubError(f"GitHub rejected {where} ({status}): {message}{times}", status=status,
                               hint="a server error on GitHub's side, not a problem of the workflow or its token: re-run the job "
                                    "later, once GitHub's status page shows it working again")
        return GitHubError(f"GitHub rejected {where} ({status}): {message}", status=status,
                           hint="see the message; run with --debug for a traceback if it persists")


WHOAMI_HINT = ("gpuctl edits only the comments and issues of the account its token writes as; set the action's github-login input "
               "(GPU_GITHUB_LOGIN) to it: github-actions[bot] for the Actions token, <app-slug>[bot] for a GitHub App's, a user's login for a personal token")


def debug_line(method: str, url: str, params: dict | None, answer: str, attempt: int, attempts: int, seconds: float) -> str:
    """A request as --debug lists it, like a RunPod call's line (`debug: GET /v2/... -> 200 (12 ms)`),
    naming GitHub and the attempt: the path and query sent, never a header (the token is one)."""
    parts = urlsplit(url)
    query = parts.query or "&".join(f"{k}={v}" for k, v in (params or {}).items())
    return f"debug: GitHub {method} {parts.path}{'?' + query if query else ''} -> {answer} (attempt {attempt} of {attempts}, {seconds * 1000:.0f} ms)"


def _rate_limited(response: httpx.Response) -> bool:
    headers = response.headers
    if response.status_code == 429 or "retry-after" in headers or headers.get("x-ratelimit-remaining") == "0":
        return True
    message = _message(response).lower()
    return "rate limit" in message or "abuse detection" in message  # a secondary limit's words, old and new


def _number(value: str | None) -> float | None:
    """A header's number of seconds (or epoch seconds), or None when it is not one: `nan`, `inf`
    or a negative number is no time to wait, and must not reach sleep() (a ValueError there)."""
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) and number >= 0 else None


def _body(response: httpx.Response, method: str, path: str) -> Any:
    """The JSON a success holds (None for an empty one). A 200 that is not JSON came from
    something that is not GitHub (a proxy's or captive portal's page) or was cut short: a
    GitHubError that names the request and shows what came back on one line, never a
    JSONDecodeError (an "internal error") out of whichever caller reads it."""
    if not response.content.strip():
        return None
    ok, body = json_in(response.text)
    if not ok:
        kind = response.headers.get("Content-Type") or "no Content-Type"
        raise _odd_answer(response, method, path, f"is not JSON ({kind}): {one_line(response.text, 200)}")
    return body


Fields = dict[str, "type | tuple[type, ...]"]  # a dotted path (`head.sha`) and the JSON type(s) its value must have; None among them: it may be absent
_KINDS = {dict: "an object", list: "a list", str: "a string", int: "a whole number", bool: "true or false", type(None): "null"}


def _shaped(response: httpx.Response, method: str, path: str, body: Any, answer: type | tuple[type, ...], fields: Fields) -> Any:
    kinds = answer if isinstance(answer, tuple) else (answer,)
    if not _is(body, kinds) or (isinstance(body, list) and not all(isinstance(item, dict) for item in body)):
        expected = " or ".join("a list of objects" if kind is list else _KINDS.get(kind, kind.__name__) for kind in kinds)
        raise _odd_answer(response, method, path, f"is not what gpuctl expects ({expected}): {one_line(response.text, 200)}")
    for item in body if isinstance(body, list) else [body] if isinstance(body, dict) else []:
        _check_fields(response, method, path, item, fields)
    return body


def _check_fields(response: httpx.Response, method: str, path: str, item: dict, fields: Fields) -> None:
    """Every `fields` path of `item` reaches a value of its type through objects; a path whose
    types hold None may stop early at a missing key or a null."""
    for dotted, kinds in fields.items():
        kinds = kinds if isinstance(kinds, tuple) else (kinds,)
        value: Any = item
        keys = dotted.split(".")
        for depth, key in enumerate(keys):
            value = value.get(key)
            if value is None or depth == len(keys) - 1:
                break
            if not isinstance(value, dict):
                where = ".".join(keys[:depth + 1])
                raise _odd_answer(response, method, path, f"is not what gpuctl expects: its {where} is {one_line(_json.dumps(value), 60)}, not an object")
        if not _is(value, kinds):
            expected = " or ".join(_KINDS.get(kind, kind.__name__) for kind in kinds)
            shown = "missing" if value is None else one_line(_json.dumps(value), 60)
            raise _odd_answer(response, method, path, f"is not what gpuctl expects: its {dotted} is {shown}, not {expected}")


def _is(value: Any, kinds: tuple[type, ...]) -> bool:
    if isinstance(value, bool):  # JSON's true is no number
        return bool in kinds
    return any(isinstance(value, kind) for kind in kinds)


def _odd_answer(response: httpx.Response, method: str, path: str, what: str) -> GitHubError:
    return GitHubError(f"GitHub's answer to {method} {urlsplit(path).path} ({response.status_code}) {what}", status=response.status_code,
                       hint="something between the runner and GitHub (a proxy, a captive portal) may have answered, or the answer was cut "
                            "short; check GITHUB_API_URL and the runner's network, then re-run the job")


def _message(response: httpx.Response) -> str:
    """GitHub's reason for a failure, on one line: a newline in it must not begin a line that
    reads like gpuctl's own (`error: ...`)."""
    return one_line(_reason(response), 500)


def _reason(response: httpx.Response) -> str:
    ok, body = json_in(response.text)
    if not ok:
        return response.text[:1000]
    if not isinstance(body, dict):
        return ""
    details = "; ".join(str(e.get("message") or e.get("code") or e) for e in body.get("errors") or [] if isinstance(e, dict))
    return f"{body.get('message', '')}{' (' + details + ')' if details else ''}"


def _permission_hint(path: str) -> str:
    for part, permission in PERMISSIONS:
        if part in path:
            return f"the job's token needs `permissions: {permission}`; a fork's pull_request run only ever has a read-only token"
    return "check the job's `permissions:`"
