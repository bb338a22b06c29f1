"""`--record DIR`: the HTTP exchanges of one read-only command, written as a vcrpy cassette that
can be shared, with every secret removed by construction.

Nothing is copied unless it is known to be safe. Request headers are dropped but for
Content-Type and Accept (so the Authorization header never reaches the file); response headers
are kept only from a short list (content type, RateLimit, RateLimit-Policy, Retry-After,
Allow). A body that is not JSON is replaced by a note of its size. In JSON bodies, every env
value (endpoint and template env, GraphQL `[{key, value}]` env, the old and new of a release
diff entry on an env field) becomes `REDACTED` but for gpuctl's own bookkeeping keys (whose
digests of env values the file does not show become "set"); the value
of any key that looks like a credential (key, token, secret, password, auth, webhook, ...) is
replaced, its JSON type kept; user ids and e-mail addresses become stable placeholders; any string holding a
registered secret (the API key, a `${VAR}` value) or shaped like a well-known key is replaced.
Query parameters that look like credentials are dropped. Ids are kept, so the exchanges fit
together, and the base URLs become RunPod's public hosts, so a recording from the local
provider replays like one from RunPod. Last, the registered secrets are replaced in the text
that is written, whatever path they took.

The recorder also refuses to send a write: recording is for read-only commands, and a write
that reached it would be a bug to stop before it changes an account.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

from gpuctl import __version__
from gpuctl.errors import GpuctlError, UsageError
from gpuctl.files import replace_text
from gpuctl.model import MARKER_ENV, REDACTED, written_env
from gpuctl.redact import APPLIED_ENV, shared_digests
from gpuctl.words import counted

REQUEST_HEADERS = ("content-type", "accept")
RESPONSE_HEADERS = ("content-type", "ratelimit", "ratelimit-policy", "retry-after", "allow")
# gpuctl's bookkeeping env (gpuctl.plan.drift's last-applied record, gpuctl.prewarm's record):
# digests, names, times and the gpu.jsonc path that applied (GPUCTL_CONFIG, ADR 31), no secrets, and what keeps a
# recorded plan the same plan.
KEEP_ENV = frozenset({MARKER_ENV, "GPUCTL_ENDPOINT_NAME", APPLIED_ENV, "GPUCTL_APPLIED_AT", "GPUCTL_CONFIG"})
KEEP_ENV_PREFIXES = ("GPUCTL_PREWARM_",)
CREDENTIAL_KEY = re.compile(r"(?i)(key|token|secret|passw|credential|auth|cookie|session|signature|webhook|private)")
PERSON_KEY = re.compile(r"(?i)(userid|email)$")
SECRET_SHAPES = re.compile(r"rpa_[A-Za-z0-9]{8,}|hf_[A-Za-z0-9]{16,}|gh[pousr]_[A-Za-z0-9]{16,}|github_pat_\w{16,}|sk-[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|xox[abpr]-[A-Za-z0-9-]{10,}")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class RecordingRefusedWrite(GpuctlError):
    """A write reached the recorder: recording is for read-only commands."""


@dataclass
class Redactor:
    """The rules above, with the secrets of this run (a live set: secrets registered later,
    such as `${VAR}` values read when gpu.jsonc is loaded, count too)."""

    secrets: set[str]
    people: dict[str, str] = field(default_factory=dict)
    hosts: dict[str, str] = field(default_factory=dict)  # base URL used -> RunPod's public one
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # answers are redacted on several threads

    def value(self, value: Any, key: str = "") -> Any:
        if CREDENTIAL_KEY.search(key):
            return self.hidden(value)
        if key == "env":
            return self.env(value)
        if isinstance(value, dict):
            env_diff = isinstance(value.get("field"), str) and "env" in value["field"].split(".")
            return {k: (self.env(v) if env_diff and k in ("old", "new") else self.value(v, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, key) for v in value]
        if isinstance(value, str):
            return self.person(value) if PERSON_KEY.search(key) else self.text(value)
        return value

    @classmethod
    def hidden(cls, value: Any) -> Any:
        """A value under a credential-looking key, its JSON type kept so the recording still
        validates (a pod port's `private: 22` is no secret, but must stay a number): every
        string becomes REDACTED, every number 0; booleans, null and empty values stay."""
        if isinstance(value, str):
            return REDACTED if value else value
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, (int, float)):
            return type(value)(0)
        if isinstance(value, list):
            return [cls.hidden(v) for v in value]
        return {k: cls.hidden(v) for k, v in value.items()} if isinstance(value, dict) else REDACTED

    def env(self, env: Any) -> Any:
        if isinstance(env, dict):
            return {k: self.env_value(k, v) for k, v in env.items()}
        if isinstance(env, list):  # GraphQL spells env [{"key": ..., "value": ...}]
            return [{**e, "value": self.env_value(e.get("key"), e.get("value"))} if isinstance(e, dict) else REDACTED for e in env]
        return None if env is None else REDACTED

    def env_value(self, name: Any, value: Any) -> Any:
        """REDACTED but for gpuctl's bookkeeping, whose record digests of env values become
        "set" (`shared_digests`: a digest would let a redacted literal be guessed offline), but
        for the keys whose values the recording shows (`kept`): GPUCTL_LOCAL_CWD is gpuctl's
        own, yet redacted here, so its digest goes too."""
        if not self.kept(name):
            return REDACTED
        return shared_digests(value, lambda path, digest: self.kept(path.removeprefix("env.")), own=False) if name == APPLIED_ENV else value

    @staticmethod
    def kept(name: Any) -> bool:
        return isinstance(name, str) and (name in KEEP_ENV or (name.startswith(KEEP_ENV_PREFIXES) and written_env(name)))

    def text(self, text: str) -> str:
        """A string as it may be written: REDACTED when it holds a secret of this run, a
        well-known key shape, or a URL with credentials in it."""
        if any(secret in text for secret in self.secrets) or SECRET_SHAPES.search(text):
            return REDACTED
        if "://" in text and _credential_url(text):
            return REDACTED
        for used in sorted(self.hosts, key=len, reverse=True):
            text = text.replace(used, self.hosts[used])
        return text

    def person(self, text: str) -> str:
        if not text:
            return text
        with self._lock:
            return self.people.setdefault(text, f"person-{len(self.people) + 1}")

    def body(self, raw: bytes, content_type: str) -> str | None:
        if not raw:
            return None
        try:
            document = json.loads(raw)
        except (ValueError, RecursionError):
            return f"(a {content_type.split(';')[0] or 'non-JSON'} body of {counted(len(raw), 'byte')}, not recorded)"
        return json.dumps(self.value(document), ensure_ascii=True, separators=(",", ":"))

    def scrub(self, text: str) -> str:
        """The last line of defence over the written text: no registered secret survives."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text


def _credential_url(url: str) -> bool:
    """A URL with a user or password in it, or a credential-looking query parameter; one
    that does not even parse is treated as one."""
    try:
        parts = urlsplit(url.strip())
        return bool(parts.username or parts.password) or any(CREDENTIAL_KEY.search(k) for k, _ in parse_qsl(parts.query, keep_blank_values=True))
    except ValueError:
        return True


def canonical_uri(url: str, base_url: str, canonical_base: str) -> str:
    """`url` under RunPod's public host for its API, without credential-looking parameters."""
    parts = urlsplit(url)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not CREDENTIAL_KEY.search(k)])
    bare = parts._replace(query="", fragment="").geturl()
    base = base_url.rstrip("/")
    path = bare[len(base):] if bare.startswith(base) else parts.path
    return canonical_base.rstrip("/") + path + (f"?{query}" if query else "")


def is_write(request: httpx.Request) -> bool:
    """A request that may change the account: any POST, PUT, PATCH or DELETE but a GraphQL
    query (GraphQL reads travel as POST)."""
    if request.method not in WRITE_METHODS:
        return False
    if request.method == "POST" and request.url.path.endswith("/graphql"):
        try:
            document = str(json.loads(request.content or b"{}").get("query") or "")
        except (ValueError, AttributeError):
            return True
        return document.lstrip().startswith("mutation")
    return True


@dataclass
class Recorder:
    """One cassette (and the README of its directory), rewritten after every exchange, so a
    command that is interrupted (`status --watch`) still leaves what it saw."""

    directory: Path
    command: str
    secrets: set[str]
    provider: str = "runpod"
    interactions: list[dict] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _path: Path | None = None

    def __post_init__(self) -> None:
        from gpuctl.provider.cassette import is_own_readme

        self.redactor = Redactor(self.secrets)
        if self.directory.exists() and not self.directory.is_dir():
            raise UsageError(f"--record {self.directory}: it is a file, not a directory",
                             hint="name a directory to record into, such as --record rec/ (it is created when missing)")
        readme = self.directory / "README.md"
        if _exists(readme) and not is_own_readme(readme):
            raise UsageError(f"--record {self.directory}: {readme} was not written by gpuctl, and recording there would replace it",
                             hint="record into an empty or new directory, such as --record rec/ (nothing was sent, and README.md is untouched)")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--record {self.directory}: cannot create it ({exc.strerror or exc})", hint="name a directory you can write") from None

    def transport(self, base_url: str, canonical_base: str, inner: httpx.BaseTransport | None = None) -> RecordingTransport:
        """A transport for a client of `base_url`, written down as `canonical_base`, in URIs
        and in bodies (the local provider's `requestUrls` name its own address)."""
        self.redactor.hosts[base_url.rstrip("/")] = canonical_base.rstrip("/")
        return RecordingTransport(self, base_url, canonical_base, inner or httpx.HTTPTransport())

    @property
    def path(self) -> Path:
        """The cassette: `<command>.yaml`, or `<command>-N.yaml` when that is taken."""
        if self._path is None:
            stem = re.sub(r"[^a-z0-9]+", "-", self.command.removeprefix("gpu ").removeprefix("serverless ").lower()).strip("-") or "recording"
            taken = {p.name for p in self.directory.glob("*.yaml")}
            self._path = next(self.directory / name for n in range(1, 10_000)
                              if (name := f"{stem}.yaml" if n == 1 else f"{stem}-{n}.yaml") not in taken)
        return self._path

    def add(self, request: httpx.Request, uri: str, status: int, reason: str, headers: Iterable[tuple[str, str]], body: str | None) -> None:
        red = self.redactor
        sent = {k.title(): [v] for k, v in request.headers.items() if k.lower() in REQUEST_HEADERS}
        answered: dict[str, list[str]] = {}
        for name, value in headers:
            if name.lower() in RESPONSE_HEADERS:
                answered.setdefault(name, []).append(red.text(value))
        content_type = request.headers.get("content-type", "")
        item = {"request": {"body": red.body(request.content, content_type), "headers": sent, "method": request.method, "uri": red.text(uri)},
                "response": {"body": {"string": body or ""}, "headers": answered, "status": {"code": status, "message": reason or _phrase(status)}}}
        with self._lock:
            self.interactions.append(item)
            self.save()

    def header(self) -> str:
        from gpuctl.provider.cassette import header

        return header(self.command, self.provider, len(self.interactions), __version__, datetime.now(UTC).strftime("%Y-%m-%d"))

    def save(self) -> None:
        """The cassette, then DIR/README.md: only while that is absent or gpuctl's own (one made
        while the command runs, say during `status --watch`, is left alone, and so is the index)."""
        from gpuctl.provider.cassette import is_own_readme, readme, yaml_lines

        text = self.header() + "\n" + "\n".join(yaml_lines({"interactions": self.interactions, "version": 1})) + "\n"
        replace_text(self.path, self.redactor.scrub(text))
        index = self.directory / "README.md"
        if not _exists(index) or is_own_readme(index):
            replace_text(index, self.redactor.scrub(readme(self.directory, KEEP_ENV)))


class RecordingTransport(httpx.BaseTransport):
    """Sends through `inner` and hands each finished exchange to the recorder. A Server-Sent
    Events stream is passed through unread (it may never end) and noted without its body."""

    def __init__(self, recorder: Recorder, base_url: str, canonical_base: str, inner: httpx.BaseTransport):
        self.recorder, self.base_url, self.canonical_base, self.inner = recorder, base_url, canonical_base, inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if is_write(request):
            raise RecordingRefusedWrite(f"--record records read-only commands, and this one was about to send {request.method} {request.url.path}",
                                        hint="nothing was sent; run the command without --record, and report this as a gpuctl bug")
        request.headers["Accept-Encoding"] = "identity"  # the body is recorded as text
        response = self.inner.handle_request(request)
        uri = canonical_uri(str(request.url), self.base_url, self.canonical_base)
        content_type = response.headers.get("content-type", "")
        if content_type.startswith("text/event-stream"):
            self.recorder.add(request, uri, response.status_code, _reason(response), response.headers.multi_items(), "(an event stream, not recorded)")
            return response
        try:
            raw = b"".join(response.stream)
        finally:
            response.close()
        decoded = httpx.Response(response.status_code, headers=response.headers, stream=httpx.ByteStream(raw))
        decoded.read()
        self.recorder.add(request, uri, response.status_code, _reason(response), response.headers.multi_items(),
                          self.recorder.redactor.body(decoded.content, content_type))
        return httpx.Response(response.status_code, headers=response.headers, stream=httpx.ByteStream(raw), extensions=response.extensions, request=request)

    def close(self) -> None:
        self.inner.close()


def _reason(response: httpx.Response) -> str:
    phrase = response.extensions.get("reason_phrase", b"")
    return phrase.decode("ascii", "replace") if isinstance(phrase, bytes) else str(phrase)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _exists(path: Path) -> bool:
    """Anything at `path`, a dangling symbolic link included."""
    return path.exists() or path.is_symlink()
