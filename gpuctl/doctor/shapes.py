"""Every list and get gpuctl uses, held to RunPod's OpenAPI document, and the GraphQL queries
gpuctl sends (for what REST v2 lacks) checked for the shape gpuctl reads."""

from __future__ import annotations

from gpuctl.doctor.openapi import problems as shape_problems
from gpuctl.commands import suggest
from gpuctl.doctor.probe import Probe
from gpuctl.doctor.report import Finding, Problem, Verdict
from gpuctl.provider.errors import AuthError, ProviderError
from gpuctl.provider.http import path
from gpuctl.words import counted

LISTS = (("/v2/serverless", "endpoints"), ("/v2/network-volumes", "networkVolumes"), ("/v2/templates", "templates"), ("/v2/pods", "pods"),
         ("/v2/registries", "registries"), ("/v2/catalog/gpus", "gpus"), ("/v2/catalog/datacenters", "dataCenters"))
# What reads a list a key may be denied, for the warning's fix.
NEEDED_BY = {"/v2/pods": "pods: `warm --cpu`", "/v2/registries": "registry credentials: `runpod.registry_auth`"}
# the gets gpuctl makes, each on the first object of a list: (list path, list key, id kind, paths)
GETS = (("/v2/serverless", "endpoints", "endpoint", ("/v2/serverless/{endpoint}", "/v2/serverless/{endpoint}/workers", "/v2/serverless/{endpoint}/releases")),
        ("/v2/network-volumes", "networkVolumes", "volume", ("/v2/network-volumes/{volume}",)),
        ("/v2/pods", "pods", "pod", ("/v2/pods/{pod}",)))
def fix_shapes(flags) -> str:
    return ("RunPod's answers differ from its OpenAPI document, which gpuctl and its local provider are built on: "
            f"record them (`{suggest('doctor', '--record', 'DIR', flags=flags)}`) and file a gpuctl issue with the recording; fields gpuctl reads that are missing break it")


def _paths(probe: Probe) -> tuple[list[str], list[str]]:
    """(paths to check, notes on gets that could not be made for want of an object)."""
    todo, notes = [p for p, _ in LISTS], []
    for list_path, key, kind, gets in GETS:
        first = next((i["id"] for i in probe.items(list_path, key) if isinstance(i.get("id"), str)), None)
        if first is None:
            notes.append(f"not checked, for want of an object in {list_path}: " + ", ".join(g.replace(f"{{{kind}}}", "{id}") for g in gets))
            continue
        todo += [path(g, **{kind: first}) for g in gets]
    return todo, notes


def check_shapes(probe: Probe) -> Finding:
    todo, notes = _paths(probe)
    found: list[Problem] = []
    denied: list[str] = []
    checked = 0
    for where in todo:
        answer = probe.get(where)
        if isinstance(answer.error, AuthError):  # a key scoped to Serverless may not read pods, say
            denied.append(f"GET {where}")
            continue
        if not answer.ok:
            found.append(Problem(f"GET {where}", "error", answer.error.summary))
            continue
        checked += 1
        found += [Problem(f"GET {where}: {p.path}", p.kind, p.message) for p in shape_problems("GET", where, answer.status, answer.body)]
    title = "Answers match RunPod's OpenAPI document"
    details = (f"checked {counted(checked, 'answer')}: " + ", ".join(f"GET {w}" for w in todo if f"GET {w}" not in denied), *notes)
    if found:
        kinds = sorted({p.kind for p in found})
        return Finding("shapes", title, Verdict.FAIL, f"{counted(len(found), 'difference')} ({', '.join(kinds)}): " + "; ".join(f"{p.path} ({p.kind})" for p in found[:3]),
                       fix_shapes(probe.flags), details, tuple(found))
    if denied:
        return Finding("shapes", title, Verdict.WARN, f"{counted(checked, 'answer validates', 'answers validate')}; the key may not read {', '.join(denied)}",
                       f"gpuctl reads these too ({'; '.join(NEEDED_BY.get(d.removeprefix('GET '), d) for d in denied)}); use a key with read access "
                       "to them, or ignore this if you never need them", details)
    return Finding("shapes", title, Verdict.PASS, f"{checked} list and get answers validate, with no missing or unknown field", details=details)


def check_graphql(probe: Probe, graphql) -> Finding:
    """The two GraphQL queries gpuctl sends (cached models, template users) answer, and name
    the endpoints REST v2 lists."""
    title = "GraphQL queries gpuctl sends"
    try:
        refs = graphql.model_references()
        users = graphql.template_users()
    except ProviderError as error:
        return Finding("graphql", title, Verdict.FAIL, f"POST /graphql: {error.summary}",
                       "gpuctl reads cached models and template users over GraphQL; check the key's GraphQL access, then file a gpuctl issue with a recording")
    rest_ids = {e["id"] for e in probe.items("/v2/serverless", "endpoints") if isinstance(e.get("id"), str)}
    unlisted = sorted(rest_ids - set(refs))
    if unlisted:
        return Finding("graphql", title, Verdict.WARN, f"GraphQL does not list {counted(len(unlisted), 'endpoint')} REST v2 lists",
                       "cached models (`runpod.cached_model`) cannot be read or set for them; if it lasts, file a gpuctl issue with a recording",
                       problems=tuple(Problem(f"POST /graphql: myself.endpoints[id={i}]", "missing", "listed by GET /v2/serverless") for i in unlisted))
    return Finding("graphql", title, Verdict.PASS, f"both queries answer; myself.endpoints lists all {counted(len(rest_ids), 'endpoint')} REST v2 lists",
                   details=(f"{counted(len(users), 'template')} in use by an endpoint",))
