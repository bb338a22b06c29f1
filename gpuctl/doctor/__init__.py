"""`gpu doctor`: does this account speak what gpuctl speaks? Read-only checks, in order, each a
`Finding` with a verdict and a fix (docs/conformance.md):

1. key: a key is found, and where it came from (never the key);
2. control-plane, job-api: both APIs answer (time taken, TLS; redirects are never followed);
3. rate-limit: `RateLimit` and `RateLimit-Policy` are there and parse;
4. shapes: every list and get gpuctl uses validates against RunPod's OpenAPI document, with
   missing and unknown fields named by path; graphql: the GraphQL queries gpuctl sends answer;
5. catalog: GPU types, pools and data centers match `state/catalog`;
6. plan: with a gpu.jsonc, a plan against a fresh read has no difference of form alone.

A check that needs the network is skipped when there is no key or the control plane does not
answer, so the report shows the first thing to fix. Nothing here writes to the account; the
CLI builds the inputs (provider, key source, plan input) and renders the report.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gpuctl.doctor.access import KeyInfo, check_control_plane, check_job_api, check_key, check_rate_limit
from gpuctl.doctor.catalog_check import check_catalog
from gpuctl.doctor.plan_check import PlanInput, check_plan
from gpuctl.doctor.probe import Probe
from gpuctl.doctor.report import Finding, Report, Verdict, skipped
from gpuctl.doctor.shapes import check_graphql, check_shapes
from gpuctl.provider.protocol import Provider

__all__ = ["KeyInfo", "PlanInput", "Report", "Verdict", "run"]

NETWORK_CHECKS = (("job-api", "Job API"), ("rate-limit", "Rate-limit headers"), ("shapes", "Answers match RunPod's OpenAPI document"),
                  ("graphql", "GraphQL queries gpuctl sends"), ("catalog", "Catalog matches state/catalog"), ("plan", "Plan has no differences of form alone"))


def run(provider_name: str, key: KeyInfo, provider: Provider | None, catalog: Any, plan_input: PlanInput | None, used: Iterable[str] = ()) -> Report:
    """Every check against `provider` (a RunPodProvider; None when there is no key).
    `used`: the GPU type and data center ids gpu.jsonc names."""
    findings = [check_key(key)]
    if provider is None or findings[0].verdict == Verdict.FAIL:
        findings.append(skipped("control-plane", "Control plane", "needs an API key"))
        return Report(provider_name, tuple(findings + [skipped(i, t, "needs an API key") for i, t in NETWORK_CHECKS]))
    probe = Probe(provider.control, provider.jobs)
    findings.append(check_control_plane(probe))
    if findings[-1].verdict == Verdict.FAIL:
        return Report(provider_name, tuple(findings + [skipped(i, t, "the control plane did not answer") for i, t in NETWORK_CHECKS]))
    findings += _network_checks(probe, provider, catalog, plan_input, used)
    return Report(provider_name, tuple(findings))


def _network_checks(probe: Probe, provider: Provider, catalog: Any, plan_input: PlanInput | None, used: Iterable[str]) -> list[Finding]:
    return [check_job_api(probe), check_rate_limit(probe), check_shapes(probe), check_graphql(probe, provider.graphql),
            check_catalog(probe, catalog, used), check_plan(provider, plan_input)]
