"""The policy as the deploy flow holds it: checks a plan (adding its violations and warnings), and
refuses one that breaks a rule before anything is written (exit 4, ExitCode.POLICY)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from gpuctl.config.loader import LoadedConfig
from gpuctl.config.policy import Policy
from gpuctl.errors import ExitCode, GpuctlError, doc_ref
from gpuctl.model import Notice
from gpuctl.plan.model import Plan, PolicyReport, Violation
from gpuctl.policy.rules import config_findings, plan_findings
from gpuctl.render.policy import violation_line
from gpuctl.words import counted


class PolicyViolation(GpuctlError):
    """The plan breaks the policy: nothing was written."""

    exit_code = ExitCode.POLICY


@dataclass(frozen=True)
class Guard:
    """A policy with what gpu.jsonc alone breaks, worked out once; `check` adds what a plan breaks."""

    policy: Policy
    found: tuple[Violation, ...]
    warnings: tuple[Notice, ...]

    @classmethod
    def of(cls, policy: Policy | None, loaded: LoadedConfig) -> Guard | None:
        if policy is None:
            return None
        violations, warnings = config_findings(policy, loaded)
        return cls(policy, tuple(violations), tuple(warnings))

    def check(self, plan: Plan) -> Plan:
        """The plan with the policy's verdict in it: `plan.policy` and its warnings."""
        violations, warnings = plan_findings(self.policy, plan)
        notices = sorted(set(plan.notices) | set(self.warnings) | set(warnings), key=lambda n: (n.address, n.code, n.message))
        return replace(plan, notices=tuple(notices), policy=PolicyReport(self.policy.sources, self.found + tuple(violations)))


def violations_of(document: dict) -> list[dict]:
    """The policy violations a plan document records (none without a policy)."""
    return (document.get("policy") or {}).get("violations") or []


def refuse(document: dict, saved: dict | None = None, *, shown: bool = False) -> None:
    """Raise PolicyViolation when the plan document, or the saved plan being applied, has
    violations: a saved plan that broke its policy is never applied, whatever policy is given now.
    `shown`: the plan was just printed (deploy --plan), so the error does not list them again."""
    for doc, whose in ((document, "the plan"), (saved or {}, "the saved plan")):
        found = violations_of(doc)
        if found:
            n = len(found)
            summary = f"{whose} breaks {counted(n, 'policy rule')}; " + ("deploy refuses to apply it" if shown else "nothing was written")
            raise PolicyViolation(summary, detail=None if shown else "\n".join(violation_line(v) for v in found),
                                  hint=f"change gpu.jsonc to keep the rules ({doc_ref('policy.md')}), or ask the owners of the policy to change them")
