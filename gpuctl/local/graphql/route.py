"""`POST /graphql`: RunPod's deprecated control plane, the subset its Python SDK and CLI use.

Fault rules see GraphQL as kind `graphql`: a query is a `list`, a mutation a `create`,
`update` or `delete` by its name (and, for save*, whether the input carries an id).
`drop_field` names an input key (`workersMax`), which the full-replace semantics then reset.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gpuctl.local.control import after, before, dropped_field, local_of, visible_from
from gpuctl.local.faults import drop_path
from gpuctl.local.gate import ANONYMOUS, unauthorized
from gpuctl.local.graphql import mutations as m
from gpuctl.local.graphql.execute import Resolver, ValidationError, execute
from gpuctl.local.graphql.parse import GraphQLSyntaxError, Operation, Var, parse
from gpuctl.local.graphql.views import USER_ID, data_center_view, endpoint_view, gpu_view, template_view, volume_view
from gpuctl.local.runtime import Local
from gpuctl.local.web import ApiError, error_response, json_body, json_response


def _bad(message: str, line: int | None = None, column: int | None = None) -> Response:
    error: dict[str, Any] = {"message": message}
    if line is not None:
        error["locations"] = [{"line": line, "column": column}]
    return json_response({"errors": [error]}, 400)


def _input(operation: Operation, variables: dict[str, Any]) -> Any:
    value = operation.selections[0].args.get("input") if operation.selections else None
    return variables.get(value.name) if isinstance(value, Var) else value


def classify(operation: Operation, variables: dict[str, Any]) -> str:
    if operation.kind != "mutation" or not operation.selections:
        return "list"
    name = operation.selections[0].name
    if name.startswith("delete"):
        return "delete"
    if name.startswith("update"):
        return "update"
    given = _input(operation, variables)
    return "update" if name.startswith("save") and isinstance(given, dict) and given.get("id") else "create"


def _drop(operation: Operation, variables: dict[str, Any], field: str) -> None:
    for root in operation.selections:
        value = root.args.get("input")
        target = variables.get(value.name) if isinstance(value, Var) else value
        if isinstance(target, dict):
            drop_path(target, field)


def myself(local: Local) -> dict[str, Any]:
    def endpoint(args: dict) -> Any:
        found = local.store.get_with_extra("endpoint", args["id"])
        return endpoint_view(local, *found) if found else None

    return {
        "id": USER_ID, "email": "local@localhost",
        "endpoints": lambda _: [endpoint_view(local, d, x) for d, x in local.store.list_with_extra("endpoint")],
        "endpoint": endpoint,
        "podTemplates": lambda _: [template_view(local, t["id"]) for t in local.store.list("template")],
        "networkVolumes": lambda _: [volume_view(local, v) for v in local.store.list("network_volume")],
        "pods": lambda _: [],
    }


def gpu_types(local: Local, given: dict | None) -> list[dict[str, Any]]:
    wanted = set((given or {}).get("ids") or []) | ({given["id"]} if (given or {}).get("id") else set())
    return [gpu_view(g) for g in local.catalog.gpus if not wanted or g["id"] in wanted]


def roots(local: Local, visible_at: float) -> dict[str, Resolver]:
    catalog = local.catalog
    return {
        "myself": lambda a: myself(local),
        "gpuTypes": lambda a: gpu_types(local, a.get("input")),
        "podTemplate": lambda a: template_view(local, a["id"]),
        "podTemplates": lambda a: [],  # no public or RunPod templates exist locally
        "serverlessGpuPools": lambda a: [{"id": p, "gpuTypeIds": catalog.pool_members(p)} for p in catalog.pools],
        "dataCenters": lambda a: [data_center_view(local, d) for d in catalog.data_centers],
        "saveEndpoint": lambda a: m.save_endpoint_mutation(local, a["input"], visible_at),
        "deleteEndpoint": lambda a: m.delete_endpoint_mutation(local, a["id"]),
        "saveTemplate": lambda a: m.save_template_mutation(local, a["input"], visible_at),
        "deleteTemplate": lambda a: m.delete_template_mutation(local, a["templateName"]),
        "updateEndpointTemplate": lambda a: m.update_endpoint_template_mutation(local, a["input"]),
        "createNetworkVolume": lambda a: m.create_volume_mutation(local, a["input"], visible_at),
        "updateNetworkVolume": lambda a: m.update_volume_mutation(local, a["input"]),
        "deleteNetworkVolume": lambda a: m.delete_volume_mutation(local, a["input"]),
    }


def _operation(body: dict) -> Operation:
    operations = parse(body["query"])
    name = body.get("operationName")
    if name:
        chosen = [o for o in operations if o.name == name]
        if not chosen:
            raise ValidationError(f'Unknown operation named "{name}".')
        return chosen[0]
    if len(operations) > 1:
        raise ValidationError("Must provide operation name if query contains multiple operations.")
    return operations[0]


PUBLIC_QUERIES = frozenset({"gpuTypes", "dataCenters", "__typename"})


def is_public(operation: Operation) -> bool:
    """RunPod answers the catalog queries `gpuTypes` and `dataCenters` without a key."""
    return operation.kind == "query" and all(f.name in PUBLIC_QUERIES for f in operation.selections)


async def _read(request: Request) -> tuple[Operation, dict[str, Any]] | Response:
    """The operation to run and its variables, or the 400 that says what is wrong."""
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return _bad("Must provide query string.")
    variables = body.get("variables") or {}
    if not isinstance(variables, dict):
        return _bad("Variables must be provided as an object.")
    try:
        return _operation(body), variables
    except GraphQLSyntaxError as exc:
        return _bad(str(exc), exc.line, exc.column)
    except ValidationError as exc:
        return json_response({"errors": [exc.error()]}, 400)


async def graphql(request: Request) -> Response:
    """Run one operation. A request without a key (`gate` lets it through, marked anonymous)
    may run only the public queries; anything else it sends, even a malformed body, is a 401."""
    local = local_of(request)
    anonymous = bool(request.scope.get(ANONYMOUS))
    denied = error_response(request.url.path, unauthorized(request.url.path, request))
    try:
        read = await _read(request)
    except ApiError:
        if anonymous:
            return denied
        raise
    if anonymous and (isinstance(read, Response) or not is_public(read[0])):
        return denied
    if isinstance(read, Response):
        return read
    operation, variables = read
    if operation.kind == "mutation":
        request.scope["gpuctl.write"] = True
    fault = await before(request, classify(operation, variables), "graphql")
    if field := dropped_field(request):
        _drop(operation, variables, field)
    try:
        data, errors = execute(operation, variables, roots(local, visible_from(request, time.time())))
    except ValidationError as exc:
        return json_response({"errors": [exc.error()]}, 400)
    payload: dict[str, Any] = {"data": data}
    if errors:
        payload["errors"] = errors
    return after(request, fault, json_response(payload))
