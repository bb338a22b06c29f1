"""One error tree for the whole tool.

Every error a user can cause is a `GpuctlError`: a one-line summary, optional detail, an
optional hint saying how to fix it, and the exit code the CLI uses. Only the CLI catches
these; everything else raises them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """Every exit code gpuctl's CLI uses, published in docs/errors.md and fixed once published."""

    OK = 0
    ERROR = 1  # any error, usage errors included: 2 means "changes pending" and nothing else
    CHANGES = 2  # only under --detailed-exitcode (and `drift`): the account differs from gpu.jsonc
    LOCKED = 3  # another deploy holds the project lock or the account lease
    POLICY = 4  # the plan breaks a policy rule (docs/policy.md): deploy wrote nothing, deploy --plan showed why
    UNHEALTHY = 5  # deploy --wait-healthy: applied, but an endpoint failed its rollout or smoke input
    CHECK_FAILED = 6  # gpu doctor: it ran, and at least one check failed
    INTERRUPTED = 130  # Ctrl-C or SIGTERM, as a shell reports a process ended by SIGINT
    CLOSED_PIPE = 141  # the reader of stdout went away (`gpu ... | head -1`): the process ends by SIGPIPE, as git's does


@dataclass(frozen=True)
class Diagnostic:
    """One problem at one place: `file:line:col: key.path: message`."""

    message: str
    path: str = ""
    file: str | None = None
    line: int | None = None
    col: int | None = None
    hint: str | None = None

    def location(self) -> str:
        if self.file and self.line:
            return f"{self.file}:{self.line}:{self.col or 1}"
        return self.file or ""

    def format(self) -> str:
        head = ": ".join(part for part in (self.location(), self.path, self.message) if part)
        return f"{head}\n  hint: {self.hint}" if self.hint else head


def doc_ref(page: str) -> str:
    """How output names a page of gpuctl's documentation: `docs/PAGE in the gpuctl repository`.

    The docs are not in the wheel and not hosted at a URL, so a bare `docs/catalog.md` means
    nothing to someone who installed gpuctl with pip. A message says its fix in its own words
    and may add this as where to read more, never as the fix (docs/adr/0028-doc-references.md).
    Every mention of a doc page in what gpuctl prints goes through here (a test checks)."""
    return f"docs/{page} in the gpuctl repository"


class GpuctlError(Exception):
    exit_code = ExitCode.ERROR

    def __init__(self, summary: str, *, detail: str | None = None, hint: str | None = None):
        super().__init__(summary)
        self.summary = summary
        self.detail = detail
        self.hint = hint

    def with_hint(self, hint: str | None) -> GpuctlError:
        """A copy of this error (its type, exit code, summary, detail and the rest) whose hint
        is `hint`: advice for another way of running a command makes a new error, never
        changes the one it was given."""
        other = type(self).__new__(type(self), *self.args)
        other.__dict__.update(self.__dict__)
        other.hint = hint
        return other

    def format(self) -> str:
        lines = [f"error: {self.summary}"]
        if self.detail:
            lines.append(self.detail)
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)


class DiagnosticsError(GpuctlError):
    """Several located problems reported together, like a compiler does."""

    def __init__(self, summary: str, diagnostics: list[Diagnostic]):
        super().__init__(summary)
        self.diagnostics = tuple(diagnostics)

    def format(self) -> str:
        lines = [f"error: {self.summary}", *(d.format() for d in self.diagnostics)]
        if self.detail:
            lines.append(self.detail)
        if self.hint:
            lines.append(f"hint: {self.hint}")  # advice for the whole error, as `with_hint` gives it
        return "\n".join(lines)


class ConfigError(DiagnosticsError):
    """gpu.jsonc cannot be read, parsed or validated."""

    variables: tuple[str, ...] = ()  # the ${VAR} names the file reads: protect their values before showing the error


class MissingVariables(ConfigError):
    """`${VAR}`s gpu.jsonc reads that are not set. `unset` has, for each diagnostic, the
    variable it is about (None for another problem, a malformed reference), so that a way of
    running gpuctl that has its own place for variables (a workflow's `env:`) can say so."""

    def __init__(self, summary: str, diagnostics: list[Diagnostic], unset: list[str | None]):
        super().__init__(summary, diagnostics)
        self.unset = tuple(unset)

    def with_variable_hint(self, hint: str) -> MissingVariables:
        """A copy whose diagnostics about an unset variable have `hint`, `{name}` in it the variable."""
        from dataclasses import replace

        other = self.with_hint(self.hint)
        other.diagnostics = tuple(replace(d, hint=hint.format(name=n)) if n else d for d, n in zip(self.diagnostics, self.unset))
        return other


class PlanError(DiagnosticsError):
    """The desired state cannot be reconciled with the account (ownership, ambiguity)."""


class UsageError(GpuctlError):
    """Wrong flags or arguments. Exit code 1, never 2 (2 means "changes pending")."""


class SnapshotError(GpuctlError):
    """An observed-state snapshot file is unreadable or not in the snapshot format."""
