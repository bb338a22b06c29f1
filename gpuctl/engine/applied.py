"""Writing and deleting the last-applied record (ADR 10; the pure rules are gpuctl.plan.drift).

The engine writes `gpuctl-applied-<endpoint id>` once an endpoint write has been read back,
and deletes it with the endpoint. Template names are unique per account, so the name is the
identity: a create that was refused or whose answer was lost is followed by a look-up and an
update, as for the pre-warm record (gpuctl.warm.record).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gpuctl.model import Sensitive
from gpuctl.moments import epoch_of, iso_utc
from gpuctl.plan import drift, fields
from gpuctl.provider.errors import AmbiguousWrite, ProviderError, Rejected
from gpuctl.v2 import env_of, image, template_patch
from gpuctl.provider.protocol import Provider

SWEEP_AFTER_S = 600.0  # a record this young may belong to an endpoint RunPod does not list yet


def _find(provider: Provider, endpoint_id: str) -> dict | None:
    name = drift.record_name(endpoint_id)
    return next((t for t in provider.list_templates() if t.get("name") == name), None)


def declared(change: Any, ids: Mapping[str, str]) -> dict[str, Any]:
    """What an endpoint write declared, as the record digests it: the flattened desired body
    and `name`, ids known only after apply filled in, secrets left `Sensitive` (stored as "set")."""
    from gpuctl.engine.apply import reveal_body  # the engine imports this module

    flat = fields.flatten(change.desired)
    return {p: (v if isinstance(v, Sensitive) else reveal_body(v, dict(ids))) for p, v in flat.items()} | {"name": change.name}


def remember(provider: Provider, project_id: str, endpoint_id: str, declared: Mapping[str, Any], now: float, new: bool = False, *,
             applied: bool = True, by: str | None = None, version: int | None = None, config: str | None = None,
             source: tuple[str | None, str | None] = (None, None), repository: str | None = None, succeeds: str | None = None) -> dict:
    """Create or update the record of `endpoint_id`; `declared` comes from `declared()`. A
    `new` endpoint (this apply just created it) can have no record yet, so none is looked for
    unless the create of the record is refused. An `applied` write (the endpoint was just
    written, by `by`: gpuctl.author, making release `version` or none) adds [when, by, version]
    to the record's last applies, which `history` attributes releases with; a record brought up to date for an endpoint in sync
    keeps them as they were. `config` is the gpu.jsonc that applies (config.loader.config_identity, ADR 35);
    `source` where it applies from and the commit (gpuctl.author.applied_from), kept with the
    apply beside the digest of the block it applied (drift.config_digest, ADR 37); `repository`
    the repository that gpu.jsonc is in (gpuctl.author.repository, ADR 60); when this run cannot
    tell it (None), the one the record named is kept (review 11, R11-8), so a deploy from a
    checkout without a usable `origin` never drops the protection ADR 60 gives. A `new` endpoint
    has no record to keep it from: `succeeds` is the repository the block's previous record
    named (drift.previous_repositories: the replaced endpoint's, or one deleted or renamed in the
    account), kept likewise (review F1)."""
    def body(existing: dict | None) -> dict:
        kept, block = drift.applies_of(existing), drift.config_digest(drift.record_digests(endpoint_id, declared))
        at = drift.apply_moment(kept, now) if applied else iso_utc(now)
        applies = kept + ([[at, by, version]] if applied else [])
        sources = drift.sources_of(existing) + ([[at, block, *source]] if applied else [])
        return drift.record_body(project_id, endpoint_id, str(declared.get("name") or ""), declared, at, applies, config, sources,
                                 repository or _repository_of(existing) or succeeds)

    existing = None if new else _find(provider, endpoint_id)
    if existing is None:
        try:
            return provider.create_template(body(None))
        except (AmbiguousWrite, Rejected):
            existing = _find(provider, endpoint_id)
            if existing is None:
                raise
    fresh = body(existing)
    return provider.update_template(existing["id"], template_patch(env_of(fresh), image(fresh)))


def _repository_of(existing: dict | None) -> str | None:
    """The repository an existing record says applied its endpoint (drift.Record.applied_in: the
    one it names, else its last deploy's GitHub Actions place), carried over by a record write
    that cannot tell its own (ADR 60)."""
    record = drift.read_record(existing) if existing is not None else None
    return record.applied_in() if record is not None else None


def remember_rollback(provider: Provider, endpoint_id: str, now: float, *, by: str | None, version: int | None, to_version: int,
                      values: Mapping[str, Any], before: Mapping[str, Any] | None = None) -> bool:
    """Keep a `gpu serverless rollback` of `endpoint_id` in its record as one of gpuctl's
    applies ([when, by, the release `version` it made], so `history` says gpuctl made it), and
    as the rollback it was (drift.ROLLED_BACK_ENV: which version it restored, digests of the values it wrote over
    `before`, the env keys it wrote or removed among them), so
    drift says who moved those fields. The digests stay those of the last deploy: they say what
    gpu.jsonc declared, and gpu.jsonc still declares it (the next deploy undoes the rollback
    unless gpu.jsonc takes its values). An endpoint without a record (never deployed by
    gpuctl, or rolled back with --force) gets none: there is nothing gpu.jsonc declared to keep.
    Returns whether the record was written."""
    existing = _find(provider, endpoint_id)
    record = drift.read_record(existing) if existing is not None else None
    if record is None:
        return False
    env = dict(env_of(existing))
    kept = drift.applies_of(existing)
    at = drift.apply_moment(kept, now)
    env[drift.APPLIES_ENV] = drift.applies_env(kept + [[at, by, version]])  # none in APPLIED_FROM_ENV: a rollback applies no gpu.jsonc
    env[drift.APPLIED_AT_ENV] = at  # history: a release made after this is the account's
    env[drift.ROLLED_BACK_ENV] = drift.rolled_back_env(endpoint_id, version, to_version, values, before, record.digests)
    provider.update_template(existing["id"], template_patch(env, image(existing)))
    return True


def forget(provider: Provider, endpoint_id: str) -> None:
    """Delete the record of an endpoint the engine deleted. Best effort: one left behind is
    swept by a later apply (`forget_gone`) and classifies nothing meanwhile, since its id is gone."""
    try:
        record = _find(provider, endpoint_id)
        if record is not None:
            provider.delete_template(record["id"])
    except ProviderError:
        pass


def _age(record: drift.Record, now: float) -> float:
    at = epoch_of(record.applied_at)
    return float("inf") if at is None else now - at  # unreadable: nothing can use it


def forget_gone(provider: Provider, project_id: str, written: Mapping[str, str], now: float) -> None:
    """After an apply, delete this project's records whose endpoint no longer exists: at once
    when this apply wrote an endpoint of that name under another id (it was deleted in the
    account and is now re-created), otherwise once older than SWEEP_AFTER_S, because RunPod
    may not list a new endpoint yet. `written` is {name: id} of the endpoints this apply wrote.
    Best effort: a failure here changes nothing that was applied."""
    try:
        live = {str(e.get("id")) for e in provider.list_endpoints()} | set(written.values())
        for template in provider.list_templates():
            record = drift.read_record(template)
            if not record or record.project_id != project_id or record.endpoint_id in live:
                continue
            if record.endpoint_name in written or _age(record, now) > SWEEP_AFTER_S:
                provider.delete_template(template["id"])
    except ProviderError:
        pass
