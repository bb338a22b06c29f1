"""What GitHub Actions hands a step: its variables, the event payload, and the two files a step
writes to, `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY`, in the formats GitHub documents."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gpuctl.errors import GpuctlError
from gpuctl.files import read_text

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
    sha: str | None = None
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
            repository=environ.get("GITHUB_REPOSITORY") or None,
            token=environ.get("GITHUB_TOKEN") or None,
            graphql_url=environ.get("GITHUB_GRAPHQL_URL") or None,
            login=(environ.get("GPU_GITHUB_LOGIN") or "").strip() or None,
            event_name=environ.get("GITHUB_EVENT_NAME") or None,
            event=read_event(path("GITHUB_EVENT_PATH")),
            sha=environ.get("GITHUB_SHA") or None,
            run_id=environ.get("GITHUB_RUN_ID") or None,
            output_path=path("GITHUB_OUTPUT"),
            summary_path=path("GITHUB_STEP_SUMMARY"),
        )

    def pull_request(self) -> tuple[int, str] | None:
        """(number, head SHA) of the pull request this run is for, from a `pull_request` or
        `pull_request_target` event; None for any other event."""
        pr = self.event.get("pull_request")
        if self.event_name in ("pull_request", "pull_request_target") and isinstance(pr, Mapping):
            return int(pr["number"]), str(pr["head"]["sha"])
        return None

    def run_url(self) -> str | None:
        if self.repository and self.run_id:
            return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"
        return None


def read_event(path: Path | None) -> dict:
    """The event payload at GITHUB_EVENT_PATH ({} when there is none)."""
    if path is None:
        return {}
    try:
        doc = json.loads(read_text(path))
    except (OSError, ValueError, RecursionError) as exc:
        raise GpuctlError(f"cannot read the GitHub event payload {path}: {exc}", hint="GITHUB_EVENT_PATH must name the JSON file GitHub Actions wrote; unset it outside Actions") from None
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
    with path.open("a", encoding="utf-8") as stream:
        stream.write("".join(lines))


def append_summary(path: Path | None, markdown: str) -> None:
    """Add Markdown to the job summary, cut with a note where it would pass GitHub's 1 MiB."""
    if path is None:
        return
    used = path.stat().st_size if path.exists() else 0
    room = SUMMARY_LIMIT - used - 200
    data = markdown.encode()
    if len(data) > room:
        markdown = data[:max(0, room)].decode(errors="ignore") + "\n\n> **Truncated** to stay under GitHub's 1 MiB job summary limit; the plan file holds all of it.\n"
    with path.open("a", encoding="utf-8") as stream:
        stream.write(markdown if markdown.endswith("\n") else markdown + "\n")
