"""`POST /graphql`: the HTTP side of RunPod's GraphQL control plane (`gpuctl.local.graphql`).

A request without a key (the gate lets it through, marked anonymous) may run only the public
catalog queries, in a body of at most 64 KiB; anything else it sends, even a malformed or
larger body, is a 401. A document that does
not fit the schema is a 400 with an `errors` array; business errors come inside a 200.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gpuctl.local.api.auth import ANONYMOUS, unauthorized
from gpuctl.local.api.control import RESHAPING, FaultPoint, after, before, drop_path, dropped_field, reshape, visible_from
from gpuctl.local.api.http import MAX_BODY, WRITE, ApiError, error_response, json_body, json_response, route
from gpuctl.local.graphql.execute import ValidationError
from gpuctl.local.graphql.service import GraphQL, drop_input_field, fault_op, is_public, operation_of


ANONYMOUS_MAX_BODY = 64 * 1024  # the public catalog queries are a few hundred bytes; nothing without a key makes the server read more


def invalid(exc: ValidationError) -> Response:
    return json_response({"errors": [exc.error()]}, 400)


@dataclass
class GraphQLRoute:
    graphql: GraphQL
    faults: FaultPoint

    def routes(self) -> list[Route]:
        return [route("/graphql", post=self.handle)]

    async def handle(self, request: Request) -> Response:
        anonymous = bool(request.scope.get(ANONYMOUS))
        denied = error_response(request.url.path, unauthorized(request.url.path, request))
        try:
            operation, variables = operation_of(await json_body(request, limit=ANONYMOUS_MAX_BODY if anonymous else MAX_BODY))
        except (ApiError, ValidationError) as exc:
            if anonymous:
                return denied
            if isinstance(exc, ApiError):
                raise
            return invalid(exc)
        if anonymous and not is_public(operation):
            return denied
        if operation.kind == "mutation":
            request.scope[WRITE] = True
        op = fault_op(operation, variables)
        fault = await before(self.faults, request, op, "graphql")
        if field := dropped_field(request):
            drop_input_field(operation, variables, lambda target: drop_path(target, field))
        try:
            data, errors = self.graphql.run(operation, variables, visible_from(request, time.time()))
        except ValidationError as exc:
            return invalid(exc)
        if fault is not None and fault.action in RESHAPING:
            reshape(fault, [item for value in data.values() for item in (value if isinstance(value, list) else [value])
                            if isinstance(item, dict)])
        payload: dict[str, Any] = {"data": data}
        if errors:
            payload["errors"] = errors
        return after(self.faults, fault, json_response(payload))
