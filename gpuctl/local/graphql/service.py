"""RunPod's deprecated GraphQL control plane, the subset its Python SDK and CLI use: choose the
operation of a request body, then run it over the control plane. No HTTP here: the api layer's
`POST /graphql` handler reads the body, checks the caller and applies fault rules.

Fault rules see GraphQL as kind `graphql`: a query is a `list`, a mutation a `create`,
`update` or `delete` by its name (and, for save*, whether the input carries an id).
`drop_field` names an input key (`workersMax`), which the full-replace semantics then reset.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gpuctl.local.graphql.execute import Resolver, ValidationError, execute
from gpuctl.local.graphql.mutations import EndpointMutations
from gpuctl.local.graphql.parse import GraphQLSyntaxError, Operation, Var, parse
from gpuctl.local.graphql.resources import ResourceMutations
from gpuctl.local.graphql.views import USER_ID, Views, gpu_view
from gpuctl.local.store.db import Store
from gpuctl.local.store.reference import Catalog

PUBLIC_QUERIES = frozenset({"gpuTypes", "dataCenters", "__typename"})


def operation_of(body: Any) -> tuple[Operation, dict[str, Any]]:
    """The operation a request body asks for and its variables; ValidationError (a 400) when
    the body is no GraphQL request or the document does not parse."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise ValidationError("Must provide query string.")
    variables = body.get("variables") or {}
    if not isinstance(variables, dict):
        raise ValidationError("Variables must be provided as an object.")
    try:
        operations = parse(body["query"])
    except GraphQLSyntaxError as exc:
        raise ValidationError(str(exc), exc.line, exc.column) from None
    name = body.get("operationName")
    if name:
        chosen = [o for o in operations if o.name == name]
        if not chosen:
            raise ValidationError(f'Unknown operation named "{name}".')
        return chosen[0], variables
    if len(operations) > 1:
        raise ValidationError("Must provide operation name if query contains multiple operations.")
    return operations[0], variables


def is_public(operation: Operation) -> bool:
    """RunPod answers the catalog queries `gpuTypes` and `dataCenters` without a key."""
    return operation.kind == "query" and all(f.name in PUBLIC_QUERIES for f in operation.selections)


def _input(operation: Operation, variables: dict[str, Any]) -> Any:
    value = operation.selections[0].args.get("input") if operation.selections else None
    return variables.get(value.name) if isinstance(value, Var) else value


def fault_op(operation: Operation, variables: dict[str, Any]) -> str:
    """The operation a fault rule sees this request as."""
    if operation.kind != "mutation" or not operation.selections:
        return "list"
    name = operation.selections[0].name
    if name.startswith("delete"):
        return "delete"
    if name.startswith("update"):
        return "update"
    given = _input(operation, variables)
    return "update" if name.startswith("save") and isinstance(given, dict) and given.get("id") else "create"


def drop_input_field(operation: Operation, variables: dict[str, Any], drop: Any) -> None:
    """Apply `drop(input, field)` to each root field's `input` argument (a fault rule's
    `drop_field`), literal or variable alike."""
    for root in operation.selections:
        value = root.args.get("input")
        target = variables.get(value.name) if isinstance(value, Var) else value
        if isinstance(target, dict):
            drop(target)


@dataclass
class GraphQL:
    store: Store
    catalog: Catalog
    views: Views
    endpoints: EndpointMutations
    resources: ResourceMutations

    def run(self, operation: Operation, variables: dict[str, Any], visible_at: float) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """(data, errors) of one operation; ValidationError before anything runs."""
        return execute(operation, variables, self.roots(visible_at))

    def myself(self) -> dict[str, Any]:
        def endpoint(args: dict) -> Any:
            found = self.store.get_with_extra("endpoint", args["id"])
            return self.views.endpoint(*found) if found else None

        return {
            "id": USER_ID, "email": "local@localhost",
            "endpoints": lambda _: [self.views.endpoint(d, x) for d, x in self.store.list_with_extra("endpoint")],
            "endpoint": endpoint,
            "podTemplates": lambda _: [self.views.template(t["id"]) for t in self.store.list("template")],
            "networkVolumes": lambda _: [self.views.volume(v) for v in self.store.list("network_volume")],
            "pods": lambda _: [],
        }

    def gpu_types(self, given: dict | None) -> list[dict[str, Any]]:
        wanted = set((given or {}).get("ids") or []) | ({given["id"]} if (given or {}).get("id") else set())
        return [gpu_view(g) for g in self.catalog.gpus if not wanted or g["id"] in wanted]

    def roots(self, visible_at: float) -> dict[str, Resolver]:
        catalog, e, r = self.catalog, self.endpoints, self.resources
        return {
            "myself": lambda a: self.myself(),
            "gpuTypes": lambda a: self.gpu_types(a.get("input")),
            "podTemplate": lambda a: self.views.template(a["id"]),
            "podTemplates": lambda a: [],  # no public or RunPod templates exist locally
            "serverlessGpuPools": lambda a: [{"id": p, "gpuTypeIds": catalog.pool_members(p)} for p in catalog.pools],
            "dataCenters": lambda a: [self.views.data_center(d) for d in catalog.data_centers],
            "saveEndpoint": lambda a: e.save_endpoint(a["input"], visible_at),
            "deleteEndpoint": lambda a: e.delete_endpoint(a["id"]),
            "saveTemplate": lambda a: r.save_template(a["input"], visible_at),
            "deleteTemplate": lambda a: r.delete_template(a["templateName"]),
            "updateEndpointTemplate": lambda a: e.update_endpoint_template(a["input"]),
            "createNetworkVolume": lambda a: r.create_volume(a["input"], visible_at),
            "updateNetworkVolume": lambda a: r.update_volume(a["input"]),
            "deleteNetworkVolume": lambda a: r.delete_volume(a["input"]),
        }
