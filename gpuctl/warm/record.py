"""Writing the pre-warm record (ADR 0008): after a successful warm-up, a small RunPod template
`gpuctl-prewarm-<endpoint id>` whose env holds the endpoint's project marker and, per mode, the
digest of what was warmed. The planner reads it back (gpuctl.prewarm.recorded).

Templates cost nothing and their names are unique per account, so the name is the identity:
a create whose answer was lost, or that lost a race, is followed by a look-up and an update.
It is a pod template (`serverless: false`), so the serverless template picker leaves it out.
A record whose endpoint is gone is deleted by the next applying deploy of its project.
"""

from __future__ import annotations


from gpuctl.model import MARKER_ENV
from gpuctl.v2 import env_of, image, owner, template_patch, template_request
from gpuctl.prewarm import digest, find_record, record_key, record_name
from gpuctl.provider.errors import AmbiguousWrite, Rejected
from gpuctl.provider.protocol import Provider


def remember(provider: Provider, endpoint: dict, doc: dict) -> dict | None:
    """Record the warm-up `doc` (run_prewarm's result) of `endpoint`; returns the template, or
    None for an endpoint no gpuctl project owns (nothing reads a record for it)."""
    project = owner(endpoint)
    if not project:
        return None
    entry = {MARKER_ENV: project, record_key(doc["mode"]): digest(doc["mode"], doc.get("models") or (), image(endpoint))}
    existing = find_record(provider.list_templates(), endpoint["id"])
    if existing:
        return _update(provider, existing, entry, endpoint)
    body = template_request(record_name(endpoint["id"]), image(endpoint) or "none", entry)
    try:
        return provider.create_template(body)
    except (AmbiguousWrite, Rejected):
        found = find_record(provider.list_templates(), endpoint["id"])
        if not found:
            raise
        return _update(provider, found, entry, endpoint)


def _update(provider: Provider, record: dict, entry: dict, endpoint: dict) -> dict:
    """Keep the other mode's digest: a GPU warm-up does not undo a CPU one. The whole env is
    sent, so the result is the same whether RunPod merges env on PATCH or replaces it."""
    env = {**env_of(record), **entry}
    return provider.update_template(record["id"], template_patch(env, image(endpoint) or image(record)))
