"""What `gpu doctor` finds: one finding per check, each with a verdict and, unless it passed,
a fix. The report is a plain value; the CLI renders it as text or as the JSON document below.

    {"version": 1, "provider": "runpod", "ok": true, "counts": {"pass": 7, ...},
     "checks": [{"id", "title", "verdict", "summary", "fix", "details": [...],
                 "problems": [{"path", "kind", "message"}]}]}
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

DOCUMENT_VERSION = 1


class Verdict(StrEnum):
    PASS = "pass"
    WARN = "warn"  # works, but something is off or could not be checked fully: read the fix
    FAIL = "fail"  # gpuctl and this account disagree, or the account cannot be used
    SKIP = "skip"  # not run: nothing to check (no gpu.jsonc), or an earlier check failed


@dataclass(frozen=True, order=True)
class Problem:
    """One difference, named by where it is: `GET /v2/serverless: endpoints[].workers.max`."""

    path: str
    kind: str  # missing | invalid | unknown | new | retired | moved | normalisation | error
    message: str


@dataclass(frozen=True)
class Finding:
    id: str
    title: str
    verdict: Verdict
    summary: str
    fix: str | None = None
    details: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()

    def document(self) -> dict:
        return {"id": self.id, "title": self.title, "verdict": str(self.verdict), "summary": self.summary, "fix": self.fix,
                "details": list(self.details), "problems": [{"path": p.path, "kind": p.kind, "message": p.message} for p in self.problems]}


def skipped(check_id: str, title: str, why: str) -> Finding:
    return Finding(check_id, title, Verdict.SKIP, why)


@dataclass(frozen=True)
class Report:
    provider: str
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return all(f.verdict != Verdict.FAIL for f in self.findings)

    def counts(self) -> dict[str, int]:
        return {str(v): sum(f.verdict == v for f in self.findings) for v in Verdict}

    def document(self) -> dict:
        return {"version": DOCUMENT_VERSION, "provider": self.provider, "ok": self.ok, "counts": self.counts(),
                "checks": [f.document() for f in self.findings]}
