"""The provider's typed errors. Retryability is a property of the class (kopf does the same),
so callers never inspect status codes or httpx exceptions."""

from __future__ import annotations

from gpuctl.errors import GpuctlError


class ProviderError(GpuctlError):
    """RunPod (or a RunPod-compatible server) refused or failed a call."""

    retryable = False

    def __init__(self, summary: str, *, status: int | None = None, detail: str | None = None, hint: str | None = None, retry_after: float | None = None):
        super().__init__(summary, detail=detail, hint=hint)
        self.status = status
        self.retry_after = retry_after


class AuthError(ProviderError):
    """401/403: the key is missing, wrong, or lacks access."""


class NotFound(ProviderError):
    pass


class Rejected(ProviderError):
    """A 4xx other than auth, not-found and rate limiting: the request itself is wrong."""


class RateLimited(ProviderError):
    retryable = True


class ServerError(ProviderError):
    retryable = True


class TransportError(ProviderError):
    """The connection failed before any request was sent: always safe to retry."""

    retryable = True


class AmbiguousWrite(ProviderError):
    """A write was sent but its answer was lost (timeout, reset, 5xx after commit): the server
    may or may not have carried it out. Never retried blindly; look the object up first."""


class InsecureURL(GpuctlError):
    """A base URL that would send the API key in clear text to another machine."""
