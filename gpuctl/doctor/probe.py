"""The reads every check shares: each GET goes out once, through the same client (and so the
same retries, pacing and, under `--record`, the same recorder) as every other command, and its
answer is kept with how long it took and how it travelled."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gpuctl.provider.errors import ProviderError
from gpuctl.provider.http import ApiClient

PROBE_ENDPOINT_ID = "gpuctldoctor00"  # an endpoint id of RunPod's shape that no account holds


@dataclass(frozen=True)
class Exchange:
    """One GET: the answer's status, body (parsed JSON, None when it is not JSON), headers,
    time taken and TLS version; or the typed error the client raised."""

    base_url: str
    path: str
    status: int | None
    seconds: float
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    tls: str | None = None
    error: ProviderError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def where(self) -> str:
        return f"GET {self.path}"


@dataclass
class Probe:
    control: ApiClient
    jobs: ApiClient
    clock: Callable[[], float] = time.monotonic
    _seen: dict[tuple[str, str], Exchange] = field(default_factory=dict)

    @property
    def flags(self):
        """The run's options (gpuctl.commands.Flags), which the commands a finding's fix names repeat."""
        return self.control.provider.flags

    def get(self, path: str, *, jobs: bool = False) -> Exchange:
        key = ("jobs" if jobs else "control", path)
        if key not in self._seen:
            self._seen[key] = self._fetch(self.jobs if jobs else self.control, path)
        return self._seen[key]

    def _fetch(self, client: ApiClient, path: str) -> Exchange:
        start = self.clock()
        try:
            response = client.request("GET", path)
        except ProviderError as error:
            return Exchange(client.base_url, path, error.status, self.clock() - start, error=error)
        try:
            body = response.json()
        except ValueError:
            body = None
        return Exchange(client.base_url, path, response.status_code, self.clock() - start, body, dict(response.headers), _tls(response))

    def items(self, path: str, key: str) -> list[dict]:
        """The objects a list answer holds under `key` ([] when the read failed)."""
        found = self.get(path)
        items = found.body.get(key) if found.ok and isinstance(found.body, dict) else None
        return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _tls(response: Any) -> str | None:
    """The TLS version the answer came over ("TLSv1.3"), None over plain HTTP or when the
    connection no longer says."""
    stream = response.extensions.get("network_stream")
    try:
        ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
        return ssl_object.version() if ssl_object is not None else None
    except Exception:  # noqa: BLE001 - a closed or foreign stream: the version is simply unknown
        return None
