"""The last-applied record (ADR 10) and the classification of drift it allows. Pure: no I/O.

After an endpoint write has been read back, the engine keeps a pod template named
`gpuctl-applied-<endpoint id>` whose env says which project applied it, under which name,
when, and a digest per declared field (`GPUCTL_APPLIED`, compact JSON `{path: digest}`). With
desired (D), observed (A) and last applied (L) the planner can say who moved a field:
A = L: gpu.jsonc (config); D = L: the account; neither: both. The record lives in the
account, so a fresh CI runner with no `.gpu/` classifies the same way. It also keeps, per
deploy, a digest of the block applied and where from (`APPLIED_FROM_ENV`), so that A = L made
by another gpu.jsonc after this one was applied is told from this gpu.jsonc moving (ADR 37).

A digest is the first 16 hex digits of SHA-256 over `[endpoint id, path, value]`, the value in
the planner's comparable form (`fields.normalise`, integral floats as integers), so two values
the planner calls equal digest equal. A sensitive value (a secret or a `${VAR}` in gpu.jsonc)
is stored as "set", never digested: nothing a secret can be recovered from is kept.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from gpuctl.files import json_in
from gpuctl.model import MARKER_ENV, REDACTED, EndpointSpec, Notice, Sensitive, Unresolved, own_env, secret_name, written_env
from gpuctl.moments import iso_utc
from gpuctl.redact import APPLIED_ENV, DECLARED
from gpuctl.v2 import env_of, owner, template_request
from gpuctl.plan import fields
from gpuctl.plan.model import Action, Drift, FieldChange, Kind, Origin, ResourceChange, Unknown, update_reason
from gpuctl.words import counted

RECORD_PREFIX = "gpuctl-applied-"
APPLIED_AT_ENV = "GPUCTL_APPLIED_AT"
NAME_ENV = "GPUCTL_ENDPOINT_NAME"
APPLIES_ENV = "GPUCTL_APPLIES"  # [[applied_at, applied_by or null, version made or null], ...]: the last MAX_APPLIES applies, oldest first (docs/history.md)
# [[applied_at, block digest, where or null, commit or null], ...]: what each of the last MAX_APPLIES deploys applied and where from (ADR 37).
# Beside APPLIES_ENV, not in it: a gpuctl before ADR 37 reads entries of 2 or 3 items there and drops any other, and drops this key when it deploys.
APPLIED_FROM_ENV = "GPUCTL_APPLIED_FROM"
MAX_APPLIES = 20
ROLLED_BACK_ENV = "GPUCTL_ROLLED_BACK"  # {"version": made, "to": restored, "paths": [...]}: the last `gpu serverless rollback`, until the next deploy rewrites the record
CONFIG_ENV = "GPUCTL_CONFIG"  # which gpu.jsonc applied it (config.loader.config_identity: its path from the repository root), ADR 35
REPOSITORY_ENV = "GPUCTL_REPOSITORY"  # which repository that gpu.jsonc is in (gpuctl.author.repository: host:owner/repo), ADR 60, ADR 62
SET = DECLARED  # the digest of a sensitive field: it was declared, and nothing more is kept (also every env digest in a shared file: redact.shared_digests)
KEYED = "k:"  # a rollback's digest of an env value, keyed by the record's digest of that key (RolledBack)
RECORD_IMAGE = "gpuctl/applied:none"  # a pod template that is never run


@dataclass(frozen=True)
class Apply:
    """One of gpuctl's applies a record keeps (APPLIES_ENV; APPLIED_FROM_ENV by its time):
    when, who (gpuctl.author), the release its write made, the digest of the endpoint block it
    applied (`config_digest`; None for a rollback, or an apply kept by a gpuctl before ADR 37), where it ran from
    (gpuctl.author.applied_from: `owner/repo:branch` in GitHub Actions, else `user@host`) and
    the commit it applied (GitHub Actions only)."""

    at: str
    by: str | None = None
    version: int | None = None
    config: str | None = None
    where: str | None = None
    commit: str | None = None
    file: str | None = None  # not kept per apply: the record's CONFIG_ENV, which other_apply fills in


@dataclass(frozen=True)
class Record:
    """One last-applied record, read back from its template."""

    endpoint_id: str
    project_id: str
    endpoint_name: str
    applied_at: str
    digests: Mapping[str, str]
    rolled_back: RolledBack | None = None  # gpuctl's rollback since the last deploy of the endpoint
    config: str | None = None  # which gpu.jsonc applied it (CONFIG_ENV); None in a record written before gpuctl kept it
    applies: tuple[Apply, ...] = ()  # the last applies, oldest first (APPLIES_ENV)
    repository: str | None = None  # which repository's gpu.jsonc applied it (REPOSITORY_ENV); None in a record written without one (ADR 60)

    def applied_in(self) -> str | None:
        """The repository whose gpu.jsonc applied the endpoint last (ADR 60): the one the record
        names, else, for a record written before gpuctl kept it, the one GitHub Actions ran its
        last deploy in (`Apply.where`, `owner/repo:branch`); None when nothing tells (an apply
        outside Actions from a checkout without a remote, or before either was kept)."""
        if self.repository:
            return self.repository
        from gpuctl.author import place_repository

        deploys = [a for a in self.applies if a.config or a.where or a.commit]  # a rollback's entry applies no gpu.jsonc
        return place_repository(deploys[-1].where) if deploys else None


@dataclass(frozen=True)
class RolledBack:
    """A `gpu serverless rollback` the record keeps: it made release `version` (None: not known),
    the configuration of version `to`, writing the fields `paths` (v2 paths: `image`, `env`),
    and `digests` of the values it wrote, as `digest` makes them, for every field but env; and
    for each env key it wrote or removed, `env.<KEY>`: the digest of null for a key it removed,
    of the value for gpuctl's own GPUCTL_* keys, `keyed_digest` of the value for a key whose
    last-applied record keeps a digest (gpu.jsonc declares it as a literal), and SET for any
    other value (it may be a secret: never digested, review 6, R6-6). A field whose account
    value digests so is the rollback's, not someone's in the account (review 3, L6); of a SET
    key the account holds, whether the value is still the rollback's cannot be told (review 7,
    R7-3: a console edit since would be hidden)."""

    version: int | None
    to: int
    paths: tuple[str, ...]
    digests: Mapping[str, str]

    def made(self, endpoint_id: str, change: FieldChange, kept: Mapping[str, str]) -> bool | None:
        """Whether the account's value of `change` is the one this rollback wrote; None: it
        wrote this env key, and whether the account's value is still that one is not known.
        `kept`: the record's digests, the keys of `keyed_digest`."""
        last = self.digests.get(change.path)
        if last is None:
            return False
        if last == SET or last.startswith(KEYED):
            if not change.path.startswith("env.") or change.before is None:
                return False
            key = kept.get(change.path)
            if last == SET or key is None or key == SET:  # no digest kept, or a shared file's record ("set"): cannot be told
                return None
            return hmac.compare_digest(keyed_digest(key, endpoint_id, change.path, change.before.value if _hidden(change.before) else change.before), last)
        return digest(endpoint_id, change.path, change.before) == last


def rolled_back_env(endpoint_id: str, version: int | None, to: int, values: Mapping[str, Any], before: Mapping[str, Any] | None = None,
                    kept: Mapping[str, str] | None = None) -> str:
    """ROLLED_BACK_ENV's value for a rollback that wrote `values` ({v2 path: value}) over
    `before` (the same paths, as they were): env, a whole `{key: value}`, as the keys it wrote
    or removed (`RolledBack`). `kept`: the digests of the endpoint's last-applied record; an
    env value is digested only under a key it keeps a digest of, keyed by that digest."""
    kept = kept or {}
    digests = {path: digest(endpoint_id, path, value) for path, value in values.items() if path != "env"}
    if "env" in values:  # both sides as releases.normalized gives them: a dict each
        old, new = env_of(before or {}), env_of(values)
        for key in sorted(set(old) | set(new), key=str):
            if old.get(key) == new.get(key) and (key in old) == (key in new):
                continue
            path, value = f"env.{key}", new.get(key)
            if value is None or written_env(key):
                digests[path] = digest(endpoint_id, path, value)
            elif kept.get(path) not in (None, SET, digest(endpoint_id, path, None)):
                digests[path] = keyed_digest(kept[path], endpoint_id, path, value)
            else:
                digests[path] = SET
    return json.dumps({"version": version, "to": to, "paths": sorted(values), "digests": digests}, sort_keys=True, separators=(",", ":"))


def _rolled_back(raw: Any) -> RolledBack | None:
    """What ROLLED_BACK_ENV holds; None for none, or for anything a person edited into another shape."""
    read, doc = json_in(raw) if isinstance(raw, str) else (False, None)
    if not read or not isinstance(doc, dict):
        return None
    version, to, paths, digests = doc.get("version"), doc.get("to"), doc.get("paths"), doc.get("digests")
    if (not (version is None or (isinstance(version, int) and not isinstance(version, bool))) or not isinstance(to, int) or isinstance(to, bool)
            or not isinstance(paths, list) or not all(isinstance(p, str) for p in paths)
            or not isinstance(digests, dict) or not all(isinstance(v, str) for v in digests.values())):
        return None
    return RolledBack(version, to, tuple(paths), digests)


def record_name(endpoint_id: str) -> str:
    return f"{RECORD_PREFIX}{endpoint_id}"


def _canonical(value: Any) -> Any:
    """4.0 and 4 are one value to the planner, so they are one value here."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    return value


def digest(endpoint_id: str, path: str, value: Any) -> str:
    """The digest of one field's value as the planner compares it (None: absent)."""
    doc = [endpoint_id, path, _canonical(fields.normalise(path, value))]
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def keyed_digest(key: str, endpoint_id: str, path: str, value: Any) -> str:
    """A rollback's digest of an env value it wrote (review 7, R7-3): an HMAC keyed by the
    last-applied record's digest of that key, which the record keeps only for a literal of
    gpu.jsonc and which a shared file (a snapshot, a cassette) turns into "set" unless it shows
    that literal (`redact.shared_digests`), so the value cannot be confirmed from such a file."""
    doc = [endpoint_id, path, _canonical(fields.normalise(path, value))]
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return KEYED + hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()[:16]


def _hidden(value: Any) -> bool:
    return isinstance(value, Sensitive)


def _compared(value: Any) -> Any:
    """What a record digests and origins compare: a RunPod secret reference's text, which names
    a secret and holds none (pull prints it), unwrapped; any other value as it is."""
    return value.value if _hidden(value) and secret_name(value) else value


def _secret(value: Any) -> bool:
    """A hidden value that is a secret itself, of which a record keeps nothing but "set"."""
    return _hidden(value) and not secret_name(value)


def _unresolved(value: Any) -> bool:
    return isinstance(value, (Unknown, Unresolved)) or (isinstance(value, list) and any(isinstance(v, Unknown) for v in value))


def record_digests(endpoint_id: str, declared: Mapping[str, Any]) -> dict[str, str]:
    """`{path: digest}` for a record, from the declared fields as written (`fields.flatten` of
    the desired body plus `name`, ids known after apply filled in, secrets still `Sensitive`)."""
    out = {}
    for path, value in sorted(declared.items()):
        if _unresolved(value):
            raise ValueError(f"{path} is not known yet; the record is written after the endpoint")
        out[path] = SET if _secret(value) else digest(endpoint_id, path, _compared(value))
    return out


def keys_removed(record: Record | None, declared: Mapping[str, Any]) -> dict[str, Any]:
    """The fields declared only by their key (`fields.DECLARED_BY_KEY`) that gpu.jsonc no longer
    declares although the last apply set them (its record holds a digest of a value, not of
    null): the key was removed, so they are declared at the value that clears them, as any
    managed field a user removes (ADR 41). Without a record of gpuctl setting one (set in the
    console, or cleared by the last apply), nothing: the account's value is left alone."""
    if record is None:
        return {}
    return {path: cleared for path, cleared in fields.DECLARED_BY_KEY.items()
            if path not in declared and record.digests.get(path) not in (None, digest(record.endpoint_id, path, None))}


def taken_away(record: Record | None, path: str, live: Any) -> bool:
    """Whether the account no longer holds a value gpuctl set: the last apply set `path` (its
    record holds a digest of a value, not of none) and the endpoint's value now, `live`, is
    another or none. False without a record, or with one of no value there."""
    if record is None:
        return False
    last = record.digests.get(path)
    return last not in (None, digest(record.endpoint_id, path, None)) and digest(record.endpoint_id, path, live) != last


def _set_digests(endpoint_id: str, digests: Mapping[str, str]) -> dict[str, str]:
    """`digests` without the entries of null: a path with no entry compares as null (ADR 10),
    so a record that cleared a field (ADR 41) and one that never declared it say the same."""
    return {path: d for path, d in digests.items() if d != digest(endpoint_id, path, None)}


def lagging(record: Record | None, endpoint_id: str, declared: Mapping[str, Any], config: str | None = None, repository: str | None = None) -> bool:
    """Whether an endpoint found as gpu.jsonc declares it (`declared`, as `record_digests`
    takes it) has no record, or one of other values: gpu.jsonc took the account's values (`pull
    --write`), or a record write was missed. Left so, the next edit of such a field in the
    console would read as changed in both. A declared value not known in this run lags nothing.
    A record that names another gpu.jsonc than `config` (this one; or none, written before
    records kept it) lags too: once the block leaves this gpu.jsonc, its endpoint is this
    config's orphan only if the record says this config applied it (ADR 35); so does one naming
    another repository than `repository` (this one's), or none (ADR 60)."""
    if any(_unresolved(v) for v in declared.values()):
        return False
    from gpuctl.author import same_repository

    return (record is None or _set_digests(endpoint_id, record.digests) != _set_digests(endpoint_id, record_digests(endpoint_id, declared))
            or (config is not None and record.config != config)
            or (repository is not None and not (record.repository and same_repository(record.repository, repository))))


def lagging_records(changes: Iterable[ResourceChange], templates: Iterable[Mapping[str, Any]], project_id: str,
                    config: str | None = None, repository: str | None = None) -> list[str]:
    """Ids of the endpoints in sync among `changes` (a plan's, made against an account with
    `templates`) whose last-applied record lags (`lagging`). Only a deploy that applies asks
    (ADR 10): a plan alone never writes records, so planning does not pay for this."""
    records = records_of(templates, project_id)
    return [str(c.id) for c in changes
            if c.kind is Kind.ENDPOINT and c.action is Action.NOOP and c.id and c.desired is not None and c.drift is None
            and lagging(records.get(str(c.id)), str(c.id), fields.flatten(c.desired) | {"name": c.name}, config, repository)]


def previous_repositories(changes: Iterable[ResourceChange], templates: Iterable[Mapping[str, Any]], project_id: str,
                          config: str | None = None) -> dict[str, str]:
    """By address, for each endpoint a plan (made against an account with `templates`) creates
    or replaces, the repository the block's previous last-applied record names (`Record.applied_in`,
    ADR 60): a replace's, the record of the endpoint it deletes; a create's, the records of this
    project naming the block (`endpoint_name`) and this gpu.jsonc (`config`, or none: ADR 35)
    whose endpoint no other block declares: one deleted in the account, or renamed in it and kept
    (ADR 59). Left out when they name none, or disagree. The record of the new endpoint keeps it
    when the run cannot name its own repository, as an update keeps the one its record named
    (review 11, R11-8; review F1): a replace or a create from a checkout without `origin` must
    not leave the block's endpoint to another repository's --prune."""
    from gpuctl.author import same_repository

    changes = [c for c in changes if c.kind is Kind.ENDPOINT]
    creating = [c for c in changes if c.action in (Action.CREATE, Action.REPLACE) and c.desired is not None]
    if not creating:
        return {}
    records = records_of(templates, project_id)
    declared = {str(c.id) for c in changes if c.id and c.desired is not None and c.action is not Action.REPLACE}
    by_block: dict[str, list[Record]] = {}
    for r in records.values():
        if r.endpoint_id not in declared and not (r.config and config and r.config != config):
            by_block.setdefault(r.endpoint_name, []).append(r)
    out: dict[str, str] = {}
    for c in creating:
        replaced = records.get(str(c.id)) if c.action is Action.REPLACE else None
        named = [r.applied_in() for r in ([replaced] if replaced is not None else by_block.get(c.name, []))]
        named = [n for n in named if n]
        if named and all(same_repository(n, named[0]) for n in named):
            out[c.address] = named[0]
    return out


def record_env(project_id: str, endpoint_id: str, name: str, declared: Mapping[str, Any], applied_at: str,
               applies: list[list] | None = None, config: str | None = None, sources: list[list] | None = None,
               repository: str | None = None) -> dict[str, str]:
    """The record template's env: owner, name, when (UTC, ISO 8601), the digests, the last
    applies with who made them (`applies_of`), which gpu.jsonc applied it (`config`), and what
    the last deploys applied and where from (`sources_of`)."""
    digests = record_digests(endpoint_id, declared)
    env = {MARKER_ENV: project_id, NAME_ENV: name, APPLIED_AT_ENV: applied_at,
           APPLIED_ENV: json.dumps(digests, sort_keys=True, separators=(",", ":"))}
    if config:
        env[CONFIG_ENV] = config
    if repository:
        env[REPOSITORY_ENV] = repository
    if applies:
        env[APPLIES_ENV] = applies_env(applies)
    if sources:
        env[APPLIED_FROM_ENV] = sources_env(sources)
    return env


def applies_env(applies: list[list]) -> str:
    """APPLIES_ENV's value: the last MAX_APPLIES of `applies`."""
    return json.dumps(applies[-MAX_APPLIES:], ensure_ascii=False, separators=(",", ":"))


def applies_of(template: Mapping[str, Any] | None) -> list[list]:
    """The [applied_at, applied_by, version] a record keeps, oldest first (`version`: the release
    the apply's write made, None for none; a record written before gpuctl kept it has pairs,
    read with None); those that cannot be read are left out (a record someone edited
    classifies nothing, it does not fail a command)."""
    env = (template or {}).get("env") or {}
    read, applies = json_in(env.get(APPLIES_ENV) or "[]") if isinstance(env, Mapping) else (False, None)
    if not read or not isinstance(applies, list):
        return []
    return [[a[0], a[1], a[2] if len(a) == 3 else None] for a in applies if _an_apply(a)]


def _an_apply(a: Any) -> bool:
    return (isinstance(a, list) and len(a) in (2, 3) and isinstance(a[0], str) and (a[1] is None or isinstance(a[1], str))
            and (len(a) == 2 or a[2] is None or (isinstance(a[2], int) and not isinstance(a[2], bool))))


def sources_env(sources: list[list]) -> str:
    """APPLIED_FROM_ENV's value: the last MAX_APPLIES of `sources`, each without the nulls it
    ends with (the record stays small: RunPod keeps it in one env value)."""
    def trimmed(s: list) -> list:
        s = list(s)
        while len(s) > 2 and s[-1] is None:
            s.pop()
        return s
    return json.dumps([trimmed(s) for s in sources[-MAX_APPLIES:]], ensure_ascii=False, separators=(",", ":"))


def sources_of(template: Mapping[str, Any] | None) -> list[list]:
    """The [applied_at, block digest, where, commit] a record keeps for its last deploys, oldest
    first, always four long (None for what is not known); those that cannot be read are left
    out, as for `applies_of`."""
    env = (template or {}).get("env") or {}
    read, sources = json_in(env.get(APPLIED_FROM_ENV) or "[]") if isinstance(env, Mapping) else (False, None)
    if not read or not isinstance(sources, list):
        return []
    return [[*s, *([None] * (4 - len(s)))] for s in sources if _a_source(s)]


def _a_source(s: Any) -> bool:
    return (isinstance(s, list) and 2 <= len(s) <= 4 and isinstance(s[0], str)
            and all(v is None or (isinstance(v, str) and v and v != REDACTED) for v in s[1:]))


def config_digest(digests: Mapping[str, str]) -> str:
    """The digest of an endpoint block as an apply declared it: of its record digests
    (`record_digests`: every field, a secret as "set"), so it is the block's, with nothing a
    secret's digest could be recovered from; 12 hex digits, kept with each apply (ADR 37)."""
    text = json.dumps(dict(digests), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def other_apply(record: Record | None, endpoint_id: str, declared: Mapping[str, Any], config: str | None = None) -> Apply | None:
    """The apply that put the account's values there when it came from another gpu.jsonc than
    this one (`declared`, as `record_digests` takes it; `config`: this one's identity), so
    that a field "as last applied" is not this gpu.jsonc moving (ADR 37); None otherwise.

    Another gpu.jsonc when the record names another file (CONFIG_ENV), or when this block, as
    it is now, was applied before, and after it another block was applied from another place
    (`Apply.where`: another repository or branch in GitHub Actions, another person's machine).
    A block nobody applied yet is a change of this gpu.jsonc, as before; one applied again from
    the place that applied it (a revert merged to the same branch) is one too. Records written
    before gpuctl kept block digests, and blocks with a value not known in this run, are as before."""
    if record is None:
        return None
    last_config = [a for a in record.applies if a.config]
    if config is not None and record.config is not None and record.config != config:
        return replace(last_config[-1] if last_config else (record.applies or (Apply(record.applied_at),))[-1], file=record.config)
    if not last_config or any(_unresolved(v) for v in declared.values()):
        return None
    mine, latest = config_digest(record_digests(endpoint_id, declared)), last_config[-1]
    if latest.config == mine or latest.config != config_digest(record.digests):
        return None  # this block is the one last applied; or the record was rewritten since, without an apply (ADR 10)
    ours = [a for a in last_config if a.config == mine]
    if not ours or (latest.where is not None and ours[-1].where == latest.where):
        return None
    return replace(latest, file=record.config)


def record_body(project_id: str, endpoint_id: str, name: str, declared: Mapping[str, Any], applied_at: str,
                applies: list[list] | None = None, config: str | None = None, sources: list[list] | None = None,
                repository: str | None = None) -> dict:
    """The v2 create body of a record: a pod template (`serverless: false`), so it is never
    offered for an endpoint, costs nothing and never runs."""
    return template_request(record_name(endpoint_id), RECORD_IMAGE, record_env(project_id, endpoint_id, name, declared, applied_at, applies, config, sources, repository))


def read_record(template: Mapping[str, Any]) -> Record | None:
    """The record a template holds; None for any other template or one that cannot be read
    (a record someone edited into nonsense classifies nothing, it does not fail the plan)."""
    name = str(template.get("name") or "")
    project = owner(template)
    if not name.startswith(RECORD_PREFIX) or not project:
        return None
    env = template["env"]
    read, digests = json_in(env.get(APPLIED_ENV) or "{}")
    if not read or not isinstance(digests, dict) or not all(isinstance(v, str) for v in digests.values()):
        return None
    config, repository = env.get(CONFIG_ENV), env.get(REPOSITORY_ENV)
    return Record(name.removeprefix(RECORD_PREFIX), str(project), str(env.get(NAME_ENV) or ""), str(env.get(APPLIED_AT_ENV) or ""), digests,
                  _rolled_back(env.get(ROLLED_BACK_ENV)), config if isinstance(config, str) and config and config != REDACTED else None,
                  _applies(template), repository if isinstance(repository, str) and repository and repository != REDACTED else None)


def _applies(template: Mapping[str, Any]) -> tuple[Apply, ...]:
    """Each apply of APPLIES_ENV with what APPLIED_FROM_ENV says of the deploy made at its time;
    applies that share a time (records written before `apply_moment`) take theirs in order."""
    sources: dict[str, list[list]] = {}
    for s in sources_of(template):
        sources.setdefault(s[0], []).append(s[1:])
    return tuple(Apply(*a, *(sources[a[0]].pop(0) if sources.get(a[0]) else ())) for a in applies_of(template))


def apply_moment(applies: Iterable[list], now: float) -> str:
    """The time a new apply is kept by, after `applies` (`applies_of`): to the second, or to the
    microsecond when the record keeps an apply of that second already. APPLIED_FROM_ENV is read
    back by this time, so two deploys within one second (main's workflow, then a laptop) must
    not share it: the second one's place and block were read as both's (CI, stop 29)."""
    at, taken = iso_utc(now), {a[0] for a in applies}
    return at if at not in taken else f"{at[:-1]}.{int(round(now % 1 * 1e6)) % 1_000_000:06d}Z"


def records_of(templates: Iterable[Mapping[str, Any]], project_id: str) -> dict[str, Record]:
    """This project's records by endpoint id."""
    found = (read_record(t) for t in templates)
    return {r.endpoint_id: r for r in found if r is not None and r.project_id == project_id}


def deleted_records(records: Mapping[str, Record], live_ids: set[str]) -> dict[str, Record]:
    """By endpoint name, the newest record of an endpoint of that name that is no longer in the
    account (one pass, so a plan looks each name up instead of scanning every record)."""
    newest: dict[str, Record] = {}
    for r in records.values():
        if r.endpoint_id in live_ids:
            continue
        kept = newest.get(r.endpoint_name)
        if kept is None or (r.applied_at, r.endpoint_id) > (kept.applied_at, kept.endpoint_id):
            newest[r.endpoint_name] = r
    return newest


def origin(record: Record | None, change: FieldChange) -> Origin:
    """Who moved this field (`before` is the account's value, `after` gpu.jsonc's, None where a
    side lacks it), per ADR 10. The account as the record says it was means gpu.jsonc moved,
    whatever gpu.jsonc now holds (a secret or a `${VAR}` added or put in a literal's place);
    beyond that, unknown without a record, when the record or gpu.jsonc holds a secret (a
    `{{ RUNPOD_SECRET_x }}` reference is none: its text is digested and compared), for
    a value a snapshot redacted, and when gpu.jsonc's value is not known before apply (the id of
    a volume deleted in the account, an unset `${VAR}`): whether gpu.jsonc moved cannot be told,
    and "both" would say it did."""
    if record is None:
        return Origin.UNKNOWN
    last = record.digests.get(change.path) or digest(record.endpoint_id, change.path, None)
    if last == SET or REDACTED in (change.before, change.after):
        return Origin.UNKNOWN
    if digest(record.endpoint_id, change.path, _compared(change.before)) == last:
        return Origin.CONFIG
    if _secret(change.after) or _unresolved(change.after):
        return Origin.UNKNOWN
    if digest(record.endpoint_id, change.path, _compared(change.after)) == last:
        return Origin.ACCOUNT
    return Origin.BOTH


# -- resources ------------------------------------------------------------------------------------

def _with_origins(change: ResourceChange, record: Record | None, other: Apply | None = None) -> ResourceChange:
    """`change` with each field's origin; `other`: the apply from another gpu.jsonc that put the
    account's values there (`other_apply`), which a field "changed in gpu.jsonc" is instead."""
    if record is None:
        return change  # without a record every origin is unknown, as the planner made them (and no apply is another's)
    changes = tuple(_rollback_of(record, _account_value_shown(_other_config(other, c if c.origin is o else replace(c, origin=o))))
                    for c, o in ((c, origin(record, c)) for c in change.changes))
    if all(new is old for new, old in zip(changes, change.changes)):
        return change
    return replace(change, changes=changes)


def _other_config(other: Apply | None, change: FieldChange) -> FieldChange:
    """A field the account holds as last applied, when another gpu.jsonc applied it: not this
    gpu.jsonc moving, which deploy would call a harmless pending change (ADR 37)."""
    if other is None or change.origin is not Origin.CONFIG:
        return change
    return replace(change, origin=Origin.OTHER_CONFIG, applied_from=other)


def _rollback_of(record: Record | None, change: FieldChange) -> FieldChange:
    """A field the account moved to the value gpuctl's last rollback wrote: that rollback's
    ((version made, version restored): FieldChange.rolled_back), so drift says gpuctl's rollback
    set it, not someone in the account."""
    rolled = record.rolled_back if record is not None else None
    if change.origin is not Origin.ACCOUNT or rolled is None:
        return change
    made = rolled.made(record.endpoint_id, change, record.digests)
    if made is None:  # the rollback wrote this env key, but its value may have been changed since: whose is not known
        return replace(change, origin=Origin.UNKNOWN, rolled_back=(rolled.version, rolled.to))
    return replace(change, rolled_back=(rolled.version, rolled.to)) if made else change


def _account_value_shown(change: FieldChange) -> FieldChange:
    """An env value read from the account is shown only when it is the literal gpu.jsonc held
    at the last apply (origin config: the account is as the record's digest says, and the
    record kept a digest, not "set"). Any other account value may be a secret: one a `${VAR}`
    or someone in the console set. Shown next to a literal that replaces it, it would reach a
    pull-request comment, which a fork can trigger by writing any literal (ADR 2). So a literal
    removed from gpu.jsonc (origin config) shows the value it removes, as Terraform shows it;
    a removed key of any other origin stays hidden."""
    if change.path.startswith("env.") and change.after is None and change.origin is Origin.CONFIG and isinstance(change.before, str):
        return replace(change, sensitive=False)
    if not change.path.startswith("env.") or change.sensitive or change.before is None or change.origin is Origin.CONFIG:
        return change
    return replace(change, before=Sensitive(str(change.before)))


def classify(change: ResourceChange, live: dict | None, project_id: str, records: Mapping[str, Record], deleted: Mapping[str, Record],
             renamed_from: str | None = None, config: str | None = None) -> tuple[ResourceChange, list[Notice]]:
    """An endpoint change with the origin of each field and its drift label, and the warning a
    re-create after a deletion in the account deserves (its callers' URL changes). `deleted` is
    `deleted_records(records, ...)`. A block created though it says `renamed_from` (ADR 29)
    whose old endpoint a record says was deleted in the account is that deletion too: there was
    nothing left to rename, so the create is a new id and URL. `config`: this gpu.jsonc's
    identity (config.loader.config_identity), to tell an apply from another one (`other_apply`)."""
    record = deleted.get(change.name) if live is None else records.get(str(live.get("id")))
    if live is None and record is None and renamed_from and change.action is Action.CREATE:
        gone = deleted.get(renamed_from)
        if gone is not None:
            return _rename_gone(_with_origins(change, gone), gone, renamed_from)
    if record is not None and live is not None and change.action in (Action.NOOP, Action.UPDATE) and owner(live):
        change = _guess_hidden(change, live, record)
    other = None
    if record is not None and live is not None and isinstance(change.desired, dict) and change.changes:  # a block in sync has nothing to label
        other = other_apply(record, record.endpoint_id, fields.flatten(change.desired) | {"name": change.name}, config)
    classified = _with_origins(change, record, other)
    if record is None:
        return classified, []
    if live is None:
        why = f"applied by this project as endpoint {record.endpoint_id}, then DELETED IN THE ACCOUNT: re-creating it gives a NEW id and a NEW URL"
        loud = (f"endpoint {record.endpoint_id} was deleted in the account; deploy re-creates it with a NEW id and URL, so every caller of "
                f"endpoint {record.endpoint_id} must be updated (or remove the block from gpu.jsonc)")
        return replace(classified, drift=Drift.DELETED_IN_ACCOUNT, reason=why), [Notice("deleted-in-account", loud, change.address)]
    if not owner(live):
        if change.action is not Action.UPDATE:
            return replace(classified, drift=Drift.MARKER_LOST), []
        why = (f"the {MARKER_ENV} marker was removed in the account; the last-applied record {record_name(record.endpoint_id)} says "
               f'project "{project_id}" applied it, so apply writes {MARKER_ENV}={project_id} back'
               + (f" and {counted(len(change.changes) - 1, 'more field')}" if len(change.changes) > 1 else "")
               + " (or set it again in the console)")
        return replace(classified, drift=Drift.MARKER_LOST, reason=why), []
    return classified, []


def _guess_hidden(change: ResourceChange, live: dict, record: Record) -> ResourceChange:
    """A literal in gpu.jsonc equal to an account env value that gpuctl did not apply as that
    literal (the record has `set` for it: it came from a `${VAR}`; or nothing: it was set in the
    console) is written all the same. Planned as a no-op, it would tell whoever can change
    gpu.jsonc (a pull request's author, through the plan comment) that a guess of the secret is
    right. Once written, the record holds the literal's digest and the plan is in sync."""
    declared = env_of(change.desired) if isinstance(change.desired, dict) else {}
    account = env_of(live)
    changed = {c.path for c in change.changes}
    guessed = tuple(FieldChange(f"env.{key}", Sensitive(str(account[key])), value)
                    for key, value in declared.items()
                    if type(value) is str and not own_env(key) and f"env.{key}" not in changed and account.get(key) == value
                    and value != REDACTED and record.digests.get(f"env.{key}", SET) == SET)
    if not guessed:
        return change
    changes = tuple(sorted((*change.changes, *guessed), key=lambda c: c.path))
    return replace(change, action=Action.UPDATE, reason=update_reason(changes), changes=changes)  # worded as for a literal that differs


def _rename_gone(change: ResourceChange, record: Record, old_name: str) -> tuple[ResourceChange, list[Notice]]:
    when = f"last applied {record.applied_at}" if record.applied_at else "last applied at an unknown time"
    why = (f'"renamed_from": "{old_name}", but this project\'s endpoint "{old_name}" ({record.endpoint_id}, {when}) was DELETED IN THE ACCOUNT, '
           "so there is nothing to rename: deploy creates a NEW endpoint, with a new id and a new URL")
    loud = (f'"renamed_from": "{old_name}" was to rename endpoint {record.endpoint_id} in place, keeping its id and URL, but it was deleted in the account '
            f'({when}); deploy creates "{change.name}" as a NEW endpoint with a new id and URL, so every caller of endpoint {record.endpoint_id} '
            "must be updated (or remove the block from gpu.jsonc)")
    return replace(change, drift=Drift.DELETED_IN_ACCOUNT, reason=why), [Notice("deleted-in-account", loud, change.address)]


def _looks_like(endpoint: Mapping[str, Any], spec: EndpointSpec) -> bool:
    """Same name, or the image of a block and a name that starts with the block's name (a copy
    made in the console, `echo-2`, `echo -fb`)."""
    name = str(endpoint.get("name") or "")
    return name == spec.name or (endpoint.get("image") == spec.image and name.startswith(spec.name))


def _first_look_alike(endpoint: Mapping[str, Any], specs: Mapping[str, tuple[int, EndpointSpec]], lengths: list[int]) -> EndpointSpec | None:
    """The first block (in gpu.jsonc's order) that `endpoint` looks like. Only a block whose name
    is a prefix of the endpoint's name can match, so those prefixes are looked up by name."""
    name = str(endpoint.get("name") or "")
    candidates = [specs[name[:n]] for n in lengths if n <= len(name) and name[:n] in specs]
    alike = [(i, s) for i, s in candidates if _looks_like(endpoint, s)]
    return min(alike, key=lambda c: c[0])[1] if alike else None


def unmanaged(specs: Iterable[EndpointSpec], endpoints: Iterable[dict], matched: set[str]) -> list[ResourceChange]:
    """Endpoints without any marker that share a block's name or look like one of its endpoints:
    listed (as no-ops, so that someone knows), never touched."""
    by_name: dict[str, tuple[int, EndpointSpec]] = {}
    for i, s in enumerate(specs):
        by_name.setdefault(s.name, (i, s))
    lengths = sorted({len(name) for name in by_name})
    out = []
    for e in endpoints:
        if owner(e) or str(e.get("id")) in matched:
            continue
        like = _first_look_alike(e, by_name, lengths)
        if like is None:
            continue
        if e.get("name") == like.name:
            why = f"no {MARKER_ENV} marker, and the name of gpu.jsonc's endpoint.{like.name}, which this project owns; gpuctl leaves it alone"
        else:
            why = f"no {MARKER_ENV} marker, but its name starts with \"{like.name}\" and it runs the image of gpu.jsonc's endpoint.{like.name}; gpuctl leaves it alone"
        out.append(ResourceChange(Kind.ENDPOINT, str(e.get("name") or ""), f"endpoint.{e.get('name')}", Action.NOOP, e.get("id"), why, drift=Drift.UNMANAGED))
    return out
