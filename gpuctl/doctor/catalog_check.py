"""The account's catalog (`GET /v2/catalog/gpus`, `GET /v2/catalog/datacenters`) against the one
gpuctl carries in `state/catalog/`, which it validates gpu.jsonc and maps GPU types to pools
with. New and retired ids are named; one that gpu.jsonc uses fails the check."""

from __future__ import annotations

from collections.abc import Iterable

from gpuctl.catalog import Catalog
from gpuctl.commands import suggest
from gpuctl.doctor.probe import Probe
from gpuctl.doctor.report import Finding, Problem, Verdict
from gpuctl.errors import doc_ref
from gpuctl.words import counted

def _fix(flags) -> str:
    return (f"update state/catalog/gpus.json and datacenters.json (and {doc_ref('catalog.md')}) from RunPod's catalog, "
            f"or file a gpuctl issue with `{suggest('doctor', '--json', flags=flags)}`")


def _gpu_problems(live: list[dict], catalog: Catalog) -> list[Problem]:
    """Serverless GPU types (those in a pool) new or retired, and types whose pool moved."""
    offered = {g["id"]: g.get("pool") for g in live if isinstance(g.get("id"), str)}
    found = [Problem(f"gpu {gid}", "new", f"RunPod offers it in pool {pool}; gpuctl's catalog does not know it")
             for gid, pool in sorted(offered.items()) if pool and gid not in catalog.gpus]
    found += [Problem(f"gpu {gid}", "retired", "in gpuctl's catalog, not in RunPod's") for gid in sorted(set(catalog.gpus) - set(offered))]
    found += [Problem(f"gpu {gid}", "moved", f"pool {catalog.gpus[gid].pool or 'none'} in gpuctl's catalog, {pool or 'none'} in RunPod's")
              for gid, pool in sorted(offered.items()) if gid in catalog.gpus and catalog.gpus[gid].pool != pool]
    pools = {p for p in offered.values() if p}
    found += [Problem(f"pool {p}", "new", "RunPod has it; gpuctl's catalog has no price for it") for p in sorted(pools - set(catalog.pools))]
    found += [Problem(f"pool {p}", "retired", "in gpuctl's catalog, no RunPod GPU type is in it") for p in sorted(set(catalog.pools) - pools)]
    return found


def _dc_problems(live: list[dict], catalog: Catalog) -> list[Problem]:
    offered = {d["id"]: bool(d.get("networkVolumeTypes")) for d in live if isinstance(d.get("id"), str)}
    found = [Problem(f"data center {d}", "new", "RunPod has it; gpuctl's catalog does not") for d in sorted(set(offered) - set(catalog.data_centers))]
    found += [Problem(f"data center {d}", "retired", "in gpuctl's catalog, not in RunPod's") for d in sorted(set(catalog.data_centers) - set(offered))]
    found += [Problem(f"data center {d}", "moved", f"network volumes {'offered' if volumes else 'not offered'} by RunPod, the catalog says otherwise")
              for d, volumes in sorted(offered.items()) if d in catalog.data_centers and catalog.data_centers[d].network_volumes != volumes]
    return found


def check_catalog(probe: Probe, catalog: Catalog, used: Iterable[str] = ()) -> Finding:
    """`used`: the GPU type and data center ids gpu.jsonc names (a retired one fails)."""
    title = "Catalog matches state/catalog"
    answers = [probe.get(p) for p in ("/v2/catalog/gpus", "/v2/catalog/datacenters")]
    failed = [a for a in answers if not a.ok]
    if failed:
        return Finding("catalog", title, Verdict.FAIL, "; ".join(f"{a.where}: {a.error.summary}" for a in failed), "run again; if it lasts, file a gpuctl issue with a recording")
    found = _gpu_problems(probe.items("/v2/catalog/gpus", "gpus"), catalog) + _dc_problems(probe.items("/v2/catalog/datacenters", "dataCenters"), catalog)
    counts = f"{len(probe.items('/v2/catalog/gpus', 'gpus'))} GPU types, {len(probe.items('/v2/catalog/datacenters', 'dataCenters'))} data centers"
    if not found:
        return Finding("catalog", title, Verdict.PASS, f"{counts}: the same ids, pools and network-volume support as gpuctl's catalog")
    names = {p.path.split(" ", 1)[1] for p in found if p.kind in ("retired", "moved")}
    broken = sorted(names & set(used))
    verdict, summary = (Verdict.FAIL, f"gpu.jsonc uses {', '.join(broken)}, which RunPod's catalog no longer has as gpuctl knows it") if broken else \
        (Verdict.WARN, f"{counts}; {counted(len(found), 'difference')} with gpuctl's catalog")
    return Finding("catalog", title, verdict, summary, _fix(probe.flags), problems=tuple(found))
