"""What GitHub Actions hands a step: its variables, the event payload, and the two files a step
writes to, `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY`, in the formats GitHub documents."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from gpuctl.errors import GpuctlError, UsageError
from gpuctl.files import FileUnreadable, read_json, write_in_place
from gpuctl.redact import clip
from gpuctl.safetext import one_line

SUMMARY_LIMIT = 1024 * 1024  # GitHub refuses a step summary over 1 MiB
DEFAULT_API = "https://api.github.com"


@dataclass(frozen=True)
class Actions:
    """The run this step belongs to, read from GitHub's variables; empty outside Actions."""

    api_url: str = DEFAULT_API
    server_url: str = "https://github.com"
    repository: str | None = None
    token: str | None = field(default=None, repr=False)
    graphql_url: str | None = None
    login: str | None = None  # GPU_GITHUB_LOGIN: the account the token writes as, when GitHub cannot be asked
    event_name: str | None = None
    event: Mapping = field(default_factory=dict)
    event_path: Path | None = None
    sha: str | None = None
    ref: str | None = None  # GITHUB_REF: refs/heads/main for a push to main or a dispatch on it
    run_id: str | None = None
    output_path: Path | None = None
    summary_path: Path | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Actions:
        def path(name: str) -> Path | None:
            return Path(environ[name]) if environ.get(name) else None

        return cls(
            api_url=(environ.get("GITHUB_API_URL") or DEFAULT_API).rstrip("/"),
            server_url=(environ.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/"),
            repository=repository(environ.get("GITHUB_REPOSITORY") or None),
            token=environ.get("GITHUB_TOKEN") or None,
            graphql_url=environ.get("GITHUB_GRAPHQL_URL") or None,
            login=(environ.get("GPU_GITHUB_LOGIN") or "").strip() or None,
            event_name=environ.get("GITHUB_EVENT_NAME") or None,
            event=read_event(path("GITHUB_EVENT_PATH")),
            event_path=path("GITHUB_EVENT_PATH"),
            sha=environ.get("GITHUB_SHA") or None,
            ref=environ.get("GITHUB_REF") or None,
            run_id=environ.get("GITHUB_RUN_ID") or None,
            output_path=path("GITHUB_OUTPUT"),
            summary_path=path("GITHUB_STEP_SUMMARY"),
        )

    def pull_request(self) -> tuple[int, str] | None:
        """(number, head SHA) of the pull request this run is for, from a `pull_request` or
        `pull_request_target` event; None for any other event."""
        if self.event_name not in ("pull_request", "pull_request_target"):
            return None
        return self.event_field("pull_request.number", NUMBER), self.event_field("pull_request.head.sha", SHA)

    def event_field(self, dotted: str, kind: Kind):
        """The payload's value at `dotted` (`pull_request.head.sha`), which must be of `kind`:
        the payload is read like any input from outside, so a missing field, another type, or
        a value GitHub never writes there (`true` as a pull request number, a path as a SHA) is
        an error naming the field, never an internal error nor a request about something else."""
        value: object = self.event
        for key in dotted.split("."):
            value = value.get(key) if isinstance(value, Mapping) else None
        if not kind.valid(value):
            where = f"the GitHub event payload {self.event_path}" if self.event_path else "the GitHub event payload"
            raise GpuctlError(f"{where}: {dotted} is {_shown(value)}, not {kind.what}",
                              hint=f"GITHUB_EVENT_PATH must name the JSON file GitHub Actions wrote for this {self.event_name or 'run'}'s event; nothing was asked of GitHub")
        return value

    def run_url(self) -> str | None:
        if self.repository and self.run_id:
            return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"
        return None


REPOSITORY = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}")  # GitHub's owner/name: letters, digits, '-', '_' and '.'


def repository(value: str | None) -> str | None:
    """GITHUB_REPOSITORY, checked where it is read: every request gpuctl makes with the token is
    under /repos/OWNER/NAME, so a value that is not `owner/name` (`..` segments, `?`, a space, a
    third part) would send them elsewhere, and errors would name paths never asked for."""
    if value is None:
        return None
    if REPOSITORY.fullmatch(value) is None or any(part in (".", "..") for part in value.split("/")):
        raise GpuctlError(f"GITHUB_REPOSITORY is {_shown(value)}, not a repository's owner/name", hint=(
            "set it to the repository's owner and name, such as acme/ml-api: letters, digits, '-', '_' and '.', one '/', "
            "neither part . or .. (GitHub Actions sets it for every run); nothing was asked of GitHub"))
    return value


@dataclass(frozen=True)
class Kind:
    """What a field of the event payload must hold."""

    what: str
    valid: Callable[[object], bool]


NUMBER = Kind("a pull request number (a whole number from 1)", lambda v: type(v) is int and 0 < v < 2**31)
SHA = Kind("a commit SHA (40 or 64 hex digits)", lambda v: isinstance(v, str) and re.fullmatch(r"[0-9a-f]{40}(?:[0-9a-f]{24})?", v) is not None)

BRANCH = Kind("a branch name", lambda v: isinstance(v, str) and 0 < len(v) <= 255 and v.isprintable() and not v.startswith("-"))


def _shown(value: object) -> str:
    if value is None:
        return "missing"
    return clip(json.dumps(value, ensure_ascii=True), 60)


def read_event(path: Path | None) -> dict:
    """The event payload at GITHUB_EVENT_PATH ({} when there is none)."""
    if path is None:
        return {}
    try:
        doc = read_json(path)
    except FileUnreadable as exc:
        place = exc.place if exc.json else path
        raise GpuctlError(f"cannot read the GitHub event payload {place}: {exc.problem}", hint="GITHUB_EVENT_PATH must name the JSON file GitHub Actions wrote; unset it outside Actions") from None
    if not isinstance(doc, dict):
        raise GpuctlError(f"the GitHub event payload {path} is not a JSON object", hint="GITHUB_EVENT_PATH must name the JSON file GitHub Actions wrote")
    return doc


def write_outputs(path: Path | None, values: Mapping[str, str]) -> None:
    """Append step outputs to GITHUB_OUTPUT. Every value uses the multi-line form with a random
    delimiter, as GitHub documents, so no value (a summary, a path) can end early or set
    another output by holding a newline and `name=`."""
    if path is None:
        return
    lines = []
    for name, value in values.items():
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        if delimiter in value:  # cannot happen by chance; never write a value that could escape
            raise GpuctlError(f"the output {name} holds its own delimiter", hint="run again")
        lines.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    with _writing(path, "GITHUB_OUTPUT", "the step's outputs (exit_code, summary, has_changes and the rest) are lost"):
        write_in_place(path, "".join(lines).encode("utf-8"), append=True)


TRUNCATED = "\n\n> **Truncated** to stay under GitHub's 1 MiB job summary limit; the plan file holds all of it.\n"


def append_summary(path: Path | None, markdown: str) -> None:
    """Add Markdown to the job summary, cut with a note where it would pass GitHub's 1 MiB,
    which drops a larger summary whole. Room for the note is always kept until it is written,
    and once it is, later additions (the next configs) are left out: the file never passes
    the limit, however many configs add to it."""
    if path is None:
        return
    with _writing(path, "GITHUB_STEP_SUMMARY", "this part of the job summary is lost"):
        used = path.stat().st_size if path.is_file() else 0
        note = TRUNCATED.encode()
        keep = SUMMARY_LIMIT - len(note)  # what the summary may hold besides the note
        data = (markdown if markdown.endswith("\n") else markdown + "\n").encode()
        if used > keep:  # cut already, the note written
            return
        if used + len(data) > keep:
            data = data[:keep - used].decode(errors="ignore").encode() + note
        write_in_place(path, data, append=True)


@contextmanager
def _writing(path: Path, variable: str, lost: str) -> Iterator[None]:
    """A file GitHub Actions names for the step to write (a directory, a read-only or full
    disk, a path that is gone, a named pipe: `files.write_in_place` refuses one, which with no
    reader would wait for ever) as a user error naming the variable and the path, not an OSError
    shown as an internal error."""
    try:
        yield
    except OSError as exc:
        raise UsageError(f"cannot write {variable} ({one_line(path, 200)}): {exc.strerror or type(exc).__name__}; {lost}",
                         hint=f"{variable} must name a file the step may append to, as GitHub Actions sets it for every step; "
                              "unset it outside Actions") from None
