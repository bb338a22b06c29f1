"""gpuctl's bookkeeping in the account: the lease (ADR 9), the last-applied record (ADR 10) and
the pre-warm record (ADR 8) are all RunPod templates of one shape. A pod template
(`serverless: false`) is never offered for an endpoint, costs nothing and never runs; the name
is the identity, since RunPod keeps template names unique per account."""

from __future__ import annotations

from collections.abc import Mapping

from gpuctl.v2 import template_request


def template_body(name: str, image: str, env: Mapping[str, str]) -> dict:
    """The REST v2 create body (POST /v2/templates) of one of gpuctl's record templates."""
    return template_request(name, image, env)
