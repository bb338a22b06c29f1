"""Where the fault rules (`gpuctl.local.server.faults`) meet the control-plane routes: every
REST v2 handler runs inside `control(op, kind)`, and the GraphQL handler calls `before` and
`after` itself once it knows what the operation is.

The rules themselves live in the server; a handler class is given them as a `FaultPoint`, the
two calls this module makes. What each action does to a request or an answer is done here:
hang or fail before, drop a field of the body, hide a created object for a while, fail or hang
after the commit, and take out or add a field in the objects a get or a list answers.
Authentication and the RateLimit headers happen earlier, in the server's gate.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response

from gpuctl.local.api.http import MAX_BODY, ApiError, json_body, json_response, read_body

FAULT = "gpuctl.fault"  # request scope key: the rule that fired on this request
HELD = "gpuctl.held"  # request scope key: a hang held this request (the request log counts it, FaultBook.held)
RESHAPING = ("omit_field", "extra_field")


class Fault(Protocol):
    action: str
    seconds: float
    field: str | None
    value: Any


class FaultPoint(Protocol):
    def decide(self, op: str, kind: str) -> Fault | None:
        """The rule that fires on an (operation, kind), if any."""
        ...

    def error(self, fault: Fault) -> ApiError:
        """The answer a `status` or `commit_then_fail` rule gives instead of the real one."""
        ...

    async def hold(self, fault: Fault) -> bool:
        """Wait out the hang of `fault` (released at once if the rules were cleared since it
        fired); False when the server began stopping first."""
        ...


async def held(faults: FaultPoint, request: Request, fault: Fault) -> bool:
    """`faults.hold(fault)` for `request`, marked held, so the request log counts it once
    answered, as FaultBook counts the hang (the admin route that clears the rules waits for
    the two to agree)."""
    request.scope[HELD] = True
    return await faults.hold(fault)


async def before(faults: FaultPoint, request: Request, op: str, kind: str) -> Fault | None:
    """Pick the fault for this request (if any), hang or fail now when that is the fault."""
    fault = faults.decide(op, kind)
    request.scope[FAULT] = fault
    if fault is None:
        return None
    if fault.action == "hang":
        await read_body(request, MAX_BODY)  # read first: the write must still land if the client gives up
        if not await held(faults, request, fault):
            raise ApiError(503, "the local provider is stopping")  # a server going down does not carry out what it was holding back
    elif fault.action == "status":
        raise faults.error(fault)
    return fault


def after(faults: FaultPoint, fault: Fault | None, response: Response) -> Response:
    """A committed write answered with an error instead of its object."""
    if fault is not None and fault.action == "commit_then_fail" and response.status_code < 300:
        raise faults.error(fault)
    return response


def control(op: str, kind: str) -> Callable[[Callable[..., Awaitable[Response]]], Callable[..., Awaitable[Response]]]:
    """Wrap a handler method of a class whose `faults` is a FaultPoint."""

    def wrap(handler: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
        @functools.wraps(handler)
        async def run(self: Any, request: Request) -> Response:
            fault = await before(self.faults, request, op, kind)
            response = await handler(self, request)
            if fault is not None and fault.action == "commit_then_hang" and not await held(self.faults, request, fault):
                raise ApiError(503, "the local provider is stopping")
            if fault is not None and fault.action in RESHAPING:
                response = reshaped(fault, op, response)
            return after(self.faults, fault, response)

        return run

    return wrap


def dropped_field(request: Request) -> str | None:
    fault = request.scope.get(FAULT)
    return fault.field if fault is not None and fault.action == "drop_field" else None


async def body_of(request: Request) -> Any:
    """The JSON body, less the field a `drop_field` rule names."""
    body = await json_body(request)
    if (field := dropped_field(request)) and isinstance(body, dict):
        drop_path(body, field)
    return body


def visible_from(request: Request, now: float) -> float:
    """When a just-created object becomes visible: now, or later under delay_visibility."""
    fault = request.scope.get(FAULT)
    return now + fault.seconds if fault is not None and fault.action == "delay_visibility" else 0.0


def drop_path(body: Any, dotted: str) -> None:
    """Remove `a.b.c` from a document in place (nothing happens where the path is absent)."""
    parts = dotted.split(".")
    node = body
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(parts[-1], None)


def set_path(doc: Any, dotted: str, value: Any) -> None:
    """Set `a.b.c` in a document in place, making the objects on the way that are missing."""
    parts = dotted.split(".")
    node = doc
    for part in parts[:-1]:
        node = node.setdefault(part, {}) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node[parts[-1]] = value


def reshape(fault: Fault, objects: list[Any]) -> None:
    """omit_field takes `field` out of each object, extra_field adds it with `value`."""
    for obj in objects:
        if fault.action == "omit_field":
            drop_path(obj, fault.field or "")
        else:
            set_path(obj, fault.field or "", fault.value)


def reshaped(fault: Fault, op: str, response: Response) -> Response:
    """A get answers one object, a list an object holding the list: each of its items is a
    matching object. Only successful JSON answers are touched."""
    if response.status_code >= 300 or response.media_type != "application/json":
        return response
    doc = json.loads(response.body)
    objects = [item for value in doc.values() if isinstance(value, list) for item in value] if op == "list" else [doc]
    reshape(fault, objects)
    return json_response(doc, response.status_code)
