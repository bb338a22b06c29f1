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


def observed_cost_phrase(endpoint: dict, catalog: Catalog) -> str:
    """What a live endpoint costs per hour, from its v2 `gpu.pools` and `workers`, for people:
    "costs $0.00/h idle, up to $3.35/h busy"."""
    pools = [catalog.pools.get(p) for p in ((endpoint.get("gpu") or {}).get("pools") or [])]
    workers = endpoint.get("workers") or {}
    low, high = int(workers.get("min") or 0), int(workers.get("max") or 0)
    active = pools[0].active_usd_per_hour if pools and pools[0] else None
    flex = [p.flex_usd_per_hour for p in pools if p]
    if active is None or not flex or None in flex:
        return f"with {low} to {high} workers (no published price for its GPU pools)"
    always = low * active
    worst = always + (high - low) * max(flex)
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
