"""Where a secret may be sent: the one https-only rule of both HTTP clients, RunPod's
(`provider/http.py`, the API key) and GitHub's (`github/client.py`, the token). Imports
nothing of gpuctl's, so every layer may use it."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def check_https(url: str, refuse: Callable[[str], Exception]) -> str:
    """`url` without its trailing `/` when it is https://, or plain http:// to loopback (a test
    or local server): a secret must never cross a network in clear text. Else the error
    `refuse` makes from where it would have gone (`http://api.example.com`), raised."""
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK):
        return url.rstrip("/")
    raise refuse(f"{parts.scheme}://{parts.hostname}")
