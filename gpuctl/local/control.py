"""The wrapper every control-plane handler runs in: it consults the fault rules for the
handler's (operation, kind) before and after the real work.

Authentication and the RateLimit headers happen earlier, in `gate`, for every request.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from gpuctl.local.faults import FaultRule
from gpuctl.local.runtime import Local

Handler = Callable[[Request], Awaitable[Response]]


def local_of(request: Request) -> Local:
    return request.app.state.local


def fault_of(request: Request) -> FaultRule | None:
    return request.scope.get("gpuctl.fault")


async def before(request: Request, op: str, kind: str) -> FaultRule | None:
    """Pick the fault for this request (if any), hang or fail now when that is the fault."""
    local = local_of(request)
    fault = local.faults.decide(op, kind)
    request.scope["gpuctl.fault"] = fault
    if fault is None:
        return None
    if fault.action == "hang":
        await request.body()  # read first: the write must still land if the client gives up
        await asyncio.sleep(fault.seconds)
    elif fault.action == "status":
        raise fault.error(local.rates.headers())
    return fault


def after(request: Request, fault: FaultRule | None, response: Response) -> Response:
    """A committed write answered with an error instead of its object."""
    if fault is not None and fault.action == "commit_then_fail" and response.status_code < 300:
        raise fault.error(local_of(request).rates.headers())
    return response


def control(op: str, kind: str) -> Callable[[Handler], Handler]:
    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def run(request: Request) -> Response:
            fault = await before(request, op, kind)
            response = await handler(request)
            if fault is not None and fault.action == "commit_then_hang":
                await asyncio.sleep(fault.seconds)
            return after(request, fault, response)

        return run

    return wrap


def dropped_field(request: Request) -> str | None:
    fault = fault_of(request)
    return fault.field if fault is not None and fault.action == "drop_field" else None


def visible_from(request: Request, now: float) -> float:
    """When a just-created object becomes visible: now, or later under delay_visibility."""
    fault = fault_of(request)
    return now + fault.seconds if fault is not None and fault.action == "delay_visibility" else 0.0
