"""The provider's typed errors. Retryability, and whether a failed write may have been carried
out, are properties of the class (kopf does the same), so callers never inspect status codes
or httpx exceptions."""

from __future__ import annotations

from dataclasses import dataclass, replace

from gpuctl.commands import NONE, Flags, suggest
from gpuctl.errors import GpuctlError


@dataclass(frozen=True)
class Who:
    """The provider a client talks to, as hints name it: RunPod, or the local provider. Every
    hint the client side gives about an answer says which one, and how to fix it there."""

    name: str  # in a sentence: "RunPod", "the local provider"
    address: str  # what sets the API's address
    key: str  # how to give a valid key (a 401)
    flags: Flags = NONE  # the run's --config and --provider, which the commands a fix names repeat (gpuctl.commands)

    @classmethod
    def of(cls, provider: str, flags: Flags = NONE) -> Who:
        """For a provider's name, "runpod" or "local", in a run of `flags`."""
        return replace(LOCAL if provider == "local" else RUNPOD, flags=flags)

    def commands(self) -> dict[str, str]:
        """The commands a fix may name ({plan}, {doctor}), with the run's options."""
        return {"plan": suggest("serverless", "deploy", "--plan", flags=self.flags), "doctor": suggest("doctor", flags=self.flags)}


RUNPOD = Who("RunPod", "RUNPOD_API_BASE_URL / RUNPOD_ENDPOINT_BASE_URL", "set a valid key: `gpu auth login`, or RUNPOD_API_KEY")
LOCAL = Who("the local provider", f"the address the local provider wrote when it started (`{suggest('local', 'status')}` shows it)",
            f"the local provider did not accept its own token: restart it (`{suggest('local', 'down')}`, then `{suggest('local', 'up')}`)")


class ProviderError(GpuctlError):
    """RunPod (or a RunPod-compatible server) refused or failed a call, or the client refused
    to make one.

    `outcome_unknown` is False when the server surely did not carry the request out (it
    answered and refused it, or was never reached), True when it may have: only then must a
    create be looked up, and given time to become visible, before it is sent again."""

    retryable = False
    outcome_unknown = False
    # What to do when the raiser knows no better fix: every class says one (docs/errors.md),
    # naming the provider in use ({provider}, {address}: Who's fields) and the commands to run
    # ({plan}, {doctor}: Who.commands, with the run's options).
    fix = "run the command again; if it keeps failing, `{doctor}` checks what this account's API answers"

    def __init__(self, summary: str, *, status: int | None = None, detail: str | None = None, hint: str | None = None, retry_after: float | None = None,
                 provider: Who = RUNPOD):
        super().__init__(summary, detail=detail, hint=hint or self.fix.format(provider=provider.name, address=provider.address, **provider.commands()))
        self.status = status
        self.retry_after = retry_after


class AuthError(ProviderError):
    """401/403: the key is missing, wrong, or lacks access."""


class NotFound(ProviderError):
    fix = ("it may have been deleted meanwhile: run the command again; if a list is not found, "
           "{address} may not point at {provider}'s API")


class Rejected(ProviderError):
    """A 4xx other than auth, not-found and rate limiting: the request itself is wrong."""

    fix = ("{provider} refused the request as sent and changed nothing; if its reason names a value from gpu.jsonc, "
           "change it there, else report it with the output of --debug")


class RateLimited(ProviderError):
    retryable = True


class ServerError(ProviderError):
    """A 5xx (other than 503) or a lost answer, after retries, to a read: nothing was changed."""

    retryable = True
    fix = "{provider} failed to answer, after retries; this request changed nothing, so run the command again in a minute"


class FailedChange(ServerError):
    """A 5xx or a lost answer, after retries, to a request that changes the account but is safe
    to repeat (PATCH, DELETE, a full-replace mutation): it was retried, but the server may have
    carried out an attempt before it failed (the local provider's `commit_then_fail` fault shows
    it), so its fix never says "changed nothing". `outcome_unknown` stays False: that flag asks
    for a create's lookup, and repeating this request ends in the same state."""

    fix = ("the write may have been carried out: `{plan}` shows what the account has now, "
           "and deploying again is safe (gpuctl looks an endpoint up before it creates one)")


class Unavailable(ServerError):
    """503: the server turned the request away without acting on it (overloaded, in
    maintenance), so even a create is safe to send again once `Retry-After` has passed."""


class TransportError(ProviderError):
    """The connection failed before any request was sent: always safe to retry."""

    retryable = True


class AmbiguousWrite(ProviderError):
    """A write was sent but its answer was lost (timeout, reset, 5xx after commit): the server
    may or may not have carried it out. Never retried blindly; look the object up first."""

    outcome_unknown = True
    fix = FailedChange.fix
    in_flight = False  # the server may still be carrying it out (no answer came at all): see UnansweredWrite


class UnansweredWrite(AmbiguousWrite):
    """A write was sent and no answer came within the client's timeout: unlike a 5xx or a reset,
    the server may not have finished with it yet, so a create not found by a lookup may still
    land later. Sending it again would then make a second object (measured: a create the server
    held past gpuctl's 30 s timeout and the 20 s grace was sent again, and both landed)."""

    in_flight = True


class InvalidId(ProviderError):
    """An identifier (typed by a user, or read from anywhere) without RunPod's id shape, which
    therefore must never become part of a request path. Raised before any request is sent."""


class InsecureURL(GpuctlError):
    """A base URL that would send the API key in clear text to another machine."""


class Stopped(ProviderError):
    """An interrupt (Ctrl-C, SIGTERM) came while a request was being retried: it was not sent
    again (review 5, R5-2: a PATCH in flight was sent five more times after Ctrl-C, for about
    3 minutes, until CI's cancel killed gpu with the lease held). `sent` is True when the
    attempt before was sent and its answer never came, or was a server error: a write may then
    have been carried out (its outcome is unknown); False when nothing reached the server (a
    connection that never opened, a 429 or 503 that turned it away)."""

    retryable = False
    sent = False
    last: str | None = None  # the summary of the last attempt's error, when one was sent
    fix = "interrupted: this request was not sent again; run the command again"


class StoppedChange(Stopped, FailedChange):
    """`Stopped` after a change (PATCH, DELETE, a create) was sent: it may have been carried out."""

    sent = True
    fix = "the write may have been carried out: `{plan}` shows what the account has now"
