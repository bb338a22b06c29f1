"""Indicative hourly cost: always-on (`min_workers` at the active rate) and worst case
(`max_workers` busy at the dearest allowed pool's flex rate), plus network-volume storage."""

from __future__ import annotations

from gpuctl.catalog import Catalog
from gpuctl.model import EndpointSpec
from gpuctl.plan.model import CostEstimate, CostItem

VOLUME_USD_PER_GB_MONTH = 0.07  # docs.runpod.io/serverless/pricing, first TB
HOURS_PER_MONTH = 730


def endpoint_cost(spec: EndpointSpec, catalog: Catalog) -> tuple[CostItem, bool]:
    pools = [catalog.pools[catalog.gpus[g].pool] for g in spec.gpu_types]
    primary = pools[0]
    flex = [p.flex_usd_per_hour for p in pools]
    known = primary.active_usd_per_hour is not None and all(f is not None for f in flex)
    active = primary.active_usd_per_hour or 0.0
    dearest = max((f for f in flex if f is not None), default=0.0)
    always = spec.workers_min * active
    worst = always + (spec.workers_max - spec.workers_min) * dearest
    basis = f"{spec.workers_min} active × ${active:.3f}/h ({primary.id}), up to {spec.workers_max} × ${dearest:.3f}/h flex"
    if not known:
        basis += "; no published price for some pools"
    return CostItem(f"endpoint.{spec.name}", round(always, 4), round(worst, 4), basis), known


def pool_hourly(pools: list, low: int | None, high: int | None, catalog: Catalog) -> tuple[float, float, bool]:
    """(always-on, worst case, priced) per hour of `low`..`high` workers on RunPod v2 `pools`,
    by the rule of `endpoint_cost`: min workers at the first pool's active rate, the rest up to
    max at the dearest pool's flex rate. Not priced when a pool, a price or a count is unknown."""
    found = [catalog.pools.get(p) if isinstance(p, str) else None for p in pools]
    active = found[0].active_usd_per_hour if found and found[0] else None
    flex = [p.flex_usd_per_hour for p in found if p]
    priced = bool(found) and None not in found and active is not None and None not in flex and low is not None and high is not None
    always = (low or 0) * (active or 0.0)
    dearest = max((f for f in flex if f is not None), default=0.0)
    return always, always + max(0, (high or 0) - (low or 0)) * dearest, priced


def observed_cost_phrase(endpoint: dict, catalog: Catalog) -> str:
    """What a live endpoint costs per hour, from its v2 `gpu.pools` and `workers`, for people:
    "costs $0.00/h idle, up to $3.35/h busy"."""
    workers = endpoint.get("workers") or {}
    low, high = int(workers.get("min") or 0), int(workers.get("max") or 0)
    always, worst, priced = pool_hourly((endpoint.get("gpu") or {}).get("pools") or [], low, high, catalog)
    if not priced:
        return f"with {low} to {high} workers (no published price for its GPU pools)"
    return f"costs ${always:,.2f}/h idle, up to ${worst:,.2f}/h busy"


def volume_cost(address: str, size_gb: int) -> CostItem:
    hourly = round(size_gb * VOLUME_USD_PER_GB_MONTH / HOURS_PER_MONTH, 4)
    return CostItem(address, hourly, hourly, f"{size_gb} GB × ${VOLUME_USD_PER_GB_MONTH}/GB-month")


def total(items: list[CostItem], complete: bool) -> CostEstimate:
    ordered = tuple(sorted(items, key=lambda i: i.address))
    return CostEstimate(
        round(sum(i.always_on_per_hour for i in ordered), 4),
        round(sum(i.worst_case_per_hour for i in ordered), 4),
        complete,
        ordered,
    )
