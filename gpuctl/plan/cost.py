"""Indicative hourly cost, before and after a plan: always-on (`min_workers` at the dearest
allowed pool's active rate) and worst case (`max_workers` busy at the dearest allowed pool's
flex rate), plus network-volume storage. Both take the dearest pool because RunPod v2 places
workers on any listed GPU type with capacity: the order of `gpu_type` and `gpu_types` is no
bound, so a cheap first type must not lower what a policy limit compares (review 6, R6-2).

`pool_hourly` is the one formula: the plan prices gpu.jsonc's endpoints and the account's
live ones with it, and `list`/`status` (`live_always_on`) and the drift report use it too,
so a number printed for the same endpoint is the same number everywhere."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from gpuctl.catalog import Catalog
from gpuctl.model import EndpointSpec
from gpuctl.plan.model import Action, CostEstimate, CostItem, ResourceChange
from gpuctl.plan.volumes import ResolvedVolume
from gpuctl.v2 import effective_workers, gpu_count

VOLUME_USD_PER_GB_MONTH = 0.07  # docs.runpod.io/serverless/pricing, first TB
HOURS_PER_MONTH = 730


class _Rates(NamedTuple):
    found: list  # the catalog's pool for each of `pools`, None where it has none
    active: list  # every known pool's active rate (None: not published)
    flex: list  # every known pool's flex rate

    def dearest(self, rates: list) -> tuple[float, int | None]:
        """(the highest known rate of `rates`, the index of its pool in `found`); 0 and None
        when none is known."""
        known = [(r, i) for i, r in enumerate(rates) if r is not None]
        rate, at = max(known, key=lambda k: k[0], default=(0.0, None))
        return rate, None if at is None else [i for i, p in enumerate(self.found) if p][at]

    @property
    def priced(self) -> bool:
        return bool(self.found) and None not in self.found and None not in self.active and None not in self.flex


def _rates(pools: Sequence[object], catalog: Catalog) -> _Rates:
    """The catalog's rates for RunPod v2 `pools`, any of which may run any worker."""
    found = [catalog.pools.get(p) if isinstance(p, str) else None for p in pools]
    return _Rates(found, [p.active_usd_per_hour for p in found if p], [p.flex_usd_per_hour for p in found if p])


def pool_hourly(pools: Sequence[object], low: int | None, high: int | None, catalog: Catalog, gpus: int | None = 1) -> tuple[float, float, bool]:
    """(always-on, worst case, priced) per hour of `low`..`high` workers of `gpus` GPUs each on
    RunPod v2 `pools`: min workers at the dearest pool's active rate, the rest up to max at the
    dearest pool's flex rate (RunPod may place any worker on any of them), each rate per GPU
    (the catalog's prices are for one GPU). Not priced when a pool, a price or a count is
    unknown (an unknown rate counts as 0, an unknown GPU count as 1)."""
    rates = _rates(pools, catalog)
    priced = rates.priced and low is not None and high is not None and gpus is not None
    per = gpus or 1
    always = (low or 0) * rates.dearest(rates.active)[0] * per
    return always, always + max(0, (high or 0) - (low or 0)) * rates.dearest(rates.flex)[0] * per, priced


def _live(endpoint: dict, catalog: Catalog) -> tuple[float, float, bool]:
    """`pool_hourly` of a live RunPod v2 endpoint, from its `gpu.pools`, `gpu.count` and
    `workers` (a bound the answer leaves out is RunPod's default, `effective_workers`)."""
    low, high = effective_workers(endpoint)
    return pool_hourly((endpoint.get("gpu") or {}).get("pools") or [], low, high, catalog, gpu_count(endpoint))


def live_always_on(endpoint: dict, catalog: Catalog) -> float | None:
    """What a live endpoint's always-on workers cost per hour, as the plan counts it (`status`
    and `list` show this); None when a price is missing, except with no always-on worker."""
    always, _, priced = _live(endpoint, catalog)
    minimum, _ = effective_workers(endpoint)
    return round(always, 4) if priced or minimum == 0 else None


def moves(*amounts: float) -> bool:
    """Whether a cost difference is one to say: any of `amounts` (differences per hour) is not
    zero at the documents' precision ($0.0001). A field that prices nothing (an idle timeout,
    an image) moves none, and a view says nothing about cost for it rather than "+$0.00/h":
    the plan's cost table lists a resource, and the drift report an item, only when it moves."""
    return any(round(a, 4) for a in amounts)


def usd_per_hour(amount: float, signed: bool = False) -> str:
    """An hourly amount for people, to the cent: `$1.51/h`, and `<$0.01/h` for one that is not
    zero but rounds to $0.00 (a 10 GB volume's storage is $0.001/h), so a cost that exists is
    never shown as nothing. `signed` puts `+` or `-` first (a difference: `+<$0.01/h`). Every
    view of a cost (plan, PR comment, drift, status, policy) writes amounts with this."""
    sign = ("-" if amount < 0 else "+") if signed else ("-" if amount < 0 else "")
    size = abs(amount)
    return f"{sign}<$0.01/h" if 0 < size < 0.005 else f"{sign}${size:,.2f}/h"


def observed_cost_phrase(endpoint: dict, catalog: Catalog) -> str:
    """What a live endpoint costs per hour, for people: "costs $0.00/h idle, up to $3.35/h busy"."""
    always, worst, priced = _live(endpoint, catalog)
    if not priced:
        low, high = effective_workers(endpoint)
        return f"with {'?' if low is None else low} to {'?' if high is None else high} workers (no published price for its GPU pools)"
    return f"costs {usd_per_hour(always)} idle, up to {usd_per_hour(worst)} busy"


def endpoint_cost(spec: EndpointSpec, live: dict | None, catalog: Catalog) -> CostItem:
    """gpu.jsonc's endpoint after apply, against the live one it is matched with (0 before a
    create). After apply it has one GPU per worker (gpuctl sets `gpu.count` 1, ADR 36); before,
    the live endpoint's count."""
    pools = [catalog.gpus[g].pool for g in spec.gpu_types]
    always, worst, priced = pool_hourly(pools, spec.workers_min, spec.workers_max, catalog)
    rates = _rates(pools, catalog)
    (active, at), (flex, _) = rates.dearest(rates.active), rates.dearest(rates.flex)
    basis = f"{spec.workers_min} active × ${active:.3f}/h ({pools[0] if at is None else pools[at]}), up to {spec.workers_max} × ${flex:.3f}/h flex"
    before = _live(live, catalog) if live is not None else (0.0, 0.0, True)
    if not (priced and before[2]):
        basis += "; no published price for some pools"
    return CostItem(f"endpoint.{spec.name}", round(always, 4), round(worst, 4), basis, round(before[0], 4), round(before[1], 4), priced and before[2])


def leaving_cost(change: ResourceChange, endpoint: dict | None, catalog: Catalog) -> CostItem:
    """An owned endpoint that left gpu.jsonc: a delete (--prune) costs nothing after; an
    orphan keeps running, and billing, as it is."""
    always, worst, priced = _live(endpoint or {}, catalog)
    kept = change.action is Action.ORPHAN
    basis = "still running (orphan)" if kept else "deleted"
    if not priced:
        basis += "; no published price for its GPU pools"
    after = (round(always, 4), round(worst, 4)) if kept else (0.0, 0.0)
    return CostItem(change.address, *after, basis, round(always, 4), round(worst, 4), priced)


def volume_cost(volume: ResolvedVolume) -> CostItem:
    """Storage of a volume gpu.jsonc declares: its size after apply, and before (0 for a create)."""
    change = volume.change
    before_gb = 0 if change.action is Action.CREATE else next((c.before for c in change.changes if c.path == "size"), volume.size_gb) or 0
    after, before = (storage_per_hour(gb) for gb in (volume.size_gb, before_gb))
    return CostItem(change.address, after, after, f"{volume.size_gb} GB × ${VOLUME_USD_PER_GB_MONTH}/GB-month", before, before)


def storage_per_hour(size_gb: int | float) -> float:
    """What `size_gb` of network-volume storage costs per hour at the list price."""
    return round(size_gb * VOLUME_USD_PER_GB_MONTH / HOURS_PER_MONTH, 4)


def preserved_cost(change: ResourceChange, volume: dict | None) -> CostItem:
    """A volume nothing in gpu.jsonc attaches any more: it is kept, and billed, as it is (like an
    orphan endpoint), so it counts the same before and after apply."""
    size = (volume or {}).get("size")
    gb = size if isinstance(size, (int, float)) and not isinstance(size, bool) else 0
    hourly = storage_per_hour(gb)
    basis = f"{gb} GB × ${VOLUME_USD_PER_GB_MONTH}/GB-month, kept (volumes are never deleted)" if gb else "kept; size unknown"
    return CostItem(change.address, hourly, hourly, basis, hourly, hourly, bool(gb))


def total(items: list[CostItem]) -> CostEstimate:
    ordered = tuple(sorted(items, key=lambda i: i.address))
    return CostEstimate(
        round(sum(i.always_on_per_hour for i in ordered), 4),
        round(sum(i.worst_case_per_hour for i in ordered), 4),
        all(i.priced for i in ordered),
        ordered,
        round(sum(i.before_always_on_per_hour for i in ordered), 4),
        round(sum(i.before_worst_case_per_hour for i in ordered), 4),
    )
