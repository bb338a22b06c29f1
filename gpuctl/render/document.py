"""The versioned JSON plan document (`schema/plan.schema.json`). Text and Markdown are
rendered from this document, never from the Plan object, so the three cannot disagree."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from pathlib import Path
from typing import Any

from gpuctl import __version__
from gpuctl.commands import NONE, Flags, suggest
from gpuctl.errors import GpuctlError
from gpuctl.model import Notice, Sensitive, Unresolved, acyclic, secret_name
from gpuctl.plan.model import CHANGING, Action, CostEstimate, CostItem, FieldChange, LeaseSeen, Plan, ResourceChange, Unknown
from gpuctl.redact import clip
from gpuctl.safetext import json_safe, one_line
from gpuctl.v2 import env_of, with_env

FORMAT_VERSION = "1"
HIDDEN = {"sensitive": True}
SUMMARY_ACTIONS = (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE, Action.NOOP, Action.PRESERVE, Action.ORPHAN)
_SCALARS = frozenset({str, int, float, bool, type(None)})
_KEY = json.encoder.encode_basestring  # a key is a string: no encoder needed
_SPREAD_DEPTH = 3  # objects nested deeper than a resource are written on one line
_END = object()


def _value(value: Any) -> Any:
    """JSON form of a plan value: a sensitive value becomes {"sensitive": true} (never the
    value), one known only after apply becomes {"unknown": "<reference>"}, an env value whose
    `${VAR}`s this run does not have {"unknown_from": ["VAR"]} (ADR 24)."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, Sensitive):
        return hidden(value)
    if isinstance(value, Unresolved):
        return {"unknown_from": list(value.variables)}
    if isinstance(value, Unknown):
        return {"unknown": value.ref}
    if isinstance(value, dict):
        return {k: v if type(v) in _SCALARS else _value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [v if type(v) in _SCALARS else _value(v) for v in value]
    return value


def hidden(value: Any) -> dict:
    """{"sensitive": true} for a value never shown, with `"from": ["HF_TOKEN"]` when gpu.jsonc
    read it from `${VAR}`s (`Sensitive.variables`): the names, never the value; and with
    `"secret": "hf_tok"` when it is a RunPod secret reference (`model.secret_name`), whose name is no secret."""
    variables = value.variables if isinstance(value, Sensitive) else ()
    secret = secret_name(value)
    return HIDDEN | ({"from": list(variables)} if variables else {}) | ({"secret": secret} if secret else {})


def _hidden(value: Any, sensitive: bool) -> Any:
    if isinstance(value, Unresolved):
        return _value(value)
    if sensitive:
        return None if value is None else hidden(value)
    return value if type(value) in _SCALARS else _value(value)


Locate = Callable[[str, str, str], list[dict]]  # (kind, name, path) -> [{"key", "file", "line"[, "flag"]}]: gpuctl.config.locate
LOCATED = (Action.UPDATE, Action.REPLACE)  # a create lists every field of a new block, a delete none of gpu.jsonc's
PRESENTATION = "config_keys"  # what a field change says for people only: never compared (check_saved), may differ between runs
# Also never compared: the origin, which says who moved a field for people (apply writes the same
# either way) and is read with the flag that `config_keys` name (`field_origin`), which a plan
# made to check a saved one does not locate.
UNCOMPARED = (PRESENTATION, "origin", "rolled_back", "applied_from")


def _field(change: FieldChange) -> dict:
    before, after, sensitive = change.before, change.after, change.sensitive
    row = {
        "path": change.path,  # a plain value of a field not sensitive is itself: most fields, so looked at first
        "before": before if not sensitive and type(before) in _SCALARS else _hidden(before, sensitive),
        "after": after if not sensitive and type(after) in _SCALARS else _hidden(after, sensitive),
        "sensitive": sensitive,
        "forces_replace": change.forces_replace,
        "origin": change.origin.value,
    }
    if change.rolled_back:
        row["rolled_back"] = {"version": change.rolled_back[0], "to": change.rolled_back[1]}
    if change.applied_from is not None:
        row |= _applied_from(change.applied_from)
    return row


def _applied_from(a) -> dict:
    """Origin other-config: the apply from another gpu.jsonc that put the account's value there
    (ADR 37): when, who, from where, which commit, which gpu.jsonc (each null when not known)."""
    return {"applied_from": {"at": a.at, "by": a.by, "where": a.where, "commit": a.commit, "config": a.file}}


def public(doc: dict) -> dict:
    """A plan or drift document as a public page may show it (ADR 39): each apply from another
    gpu.jsonc (`applied_from`) names its place by `author.public_place`, and the holder of the
    project's account lease (`lease`, drift's `applying`) by `author.public_holder`, so the host
    of a machine outside GitHub Actions is never written to GitHub (an issue, a comment, a job
    summary, a log, a plan artifact). Everything else as it is; `doc` itself is not changed."""
    from gpuctl.author import public_holder, public_place

    def change(c: dict) -> dict:
        a = c.get("applied_from")
        return c | {"applied_from": a | {"where": public_place(a.get("where"))}} if isinstance(a, dict) else c

    out = dict(doc)
    for key in ("resource_changes", "drift"):  # a plan's resources, a drift report's
        if isinstance(doc.get(key), list):
            out[key] = [r | {"changes": [change(c) for c in r["changes"]]} if isinstance(r, dict) and isinstance(r.get("changes"), list) else r
                        for r in doc[key]]
    lease = doc.get("lease")
    if isinstance(lease, dict) and isinstance(lease.get("holder"), str):
        holder, shown = lease["holder"], public_holder(lease["holder"])
        out["lease"] = lease | {"holder": shown, "message": str(lease.get("message", "")).replace(holder, shown)}
        if isinstance(doc.get("applying"), str):
            out["applying"] = doc["applying"].replace(holder, shown)
    return out


# What a document holds that gpuctl reads back, compares or writes (gpu.jsonc's values, the account's,
# names and ids): `published` leaves it as it is. Every other string is text for people.
_DATA = frozenset({"desired", "before", "after", "value", "unknown_from", "address", "name", "id", "path", "project_id", "provider",
                   "config", "format_version", "observed_digest", "kind", "action", "origin", "code", "applied_from"})


def published(doc: dict, repository: str | None) -> dict:
    """A plan or drift document as `gpu github` may publish it, in the repository `repository`
    (GITHUB_REPOSITORY): the one place that decides it, for everything gpu github writes of it
    (the comment, the job summary, the drift issue, the plan file of the plan artifact, which a
    public repository lets anyone download for 30 days). `public` (no host), each text for people
    (a note, a warning, a reason, a policy message, whatever a later field adds) by
    `author.public_text`, and an apply's place by `author.public_repository_place`: another
    repository is named only when this repository's owner owns it (review 11, R11-7, F4). What
    a saved plan is compared and applied by (`_DATA`) is left as it is, and a resource's reason,
    text for people, is never compared (`comparable`): the reviewed plan, saved so, applies.
    The terminal and --json of the account's own user keep the whole text; `doc` itself is not changed."""
    from gpuctl.author import public_repository_place, public_text

    def walk(value: Any, key: str | None = None) -> Any:
        if key == "applied_from" and isinstance(value, dict):
            return value | {"where": public_repository_place(value.get("where"), repository)} if isinstance(value.get("where"), str) else value
        if key in _DATA:
            return value
        if isinstance(value, str):
            return public_text(value, repository)
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        return value

    return walk(public(doc))


def run_flag(keys: list[dict] | None) -> str | None:
    """The per-run flag (`--idle-timeout`) that sets every gpu.jsonc key of a field for this run
    (its `config_keys`, `gpuctl.config.locate`), or None."""
    flags = {k.get("flag") for k in keys or ()}
    return flags.pop() if len(flags) == 1 and None not in flags else None


FLAG_ORIGINS = ("flag", "flag-and-account")


def field_origin(origin: str | None, flag: str | None) -> str:
    """A field change's `origin` in the document, and the one rule the text and Markdown labels
    read it by (`words.origin_note`), so the three cannot disagree. The record's origin (ADR 10)
    judges this run's value against the last apply; when a per-run flag sets that value, the
    value is the flag's and not gpu.jsonc's: `flag` (the account is as last applied), or
    `flag-and-account` (the account changed it too, whether or not the flag's value differs
    from the last apply: apply writes the flag's). `config` and `both` would say gpu.jsonc moved
    it and that apply keeps gpu.jsonc's value. Idempotent: a document's origin read again with its
    flag is itself. A missing or unknown origin is `unknown`."""
    known = ("config", "account", "both", "unknown", "other-config", *FLAG_ORIGINS)
    origin = origin if origin in known else "unknown"
    if flag is None or origin == "unknown":
        return origin
    return "flag" if origin in ("config", "flag") else "flag-and-account"  # other-config: the account is another's apply, not as last applied from here


def _located(change: FieldChange, kind: str, name: str, locate: Locate) -> dict:
    """The field change with the gpu.jsonc keys that declare it (`config_keys`), and its origin
    read with the flag that sets them, if one does (`field_origin`)."""
    keys = locate(kind, name, change.path)
    field = _field(change)
    return field | {"origin": field_origin(field["origin"], run_flag(keys)), PRESENTATION: keys}


def comparable(resources: list[dict]) -> list[dict]:
    """A checked document's `resource_changes` without what is there for people only
    (`config_keys`: a key's line moves when a comment is added above it; `origin`, read with the
    flags those keys name; a resource's `reason`, which a plan gpu github published words as a
    public page may, `published`), for comparing a saved plan with a fresh one. What a plan
    writes (its action, id, desired body and field changes) is compared whole."""
    return [{**{k: v for k, v in r.items() if k != "reason"}, "changes": [{k: v for k, v in c.items() if k not in UNCOMPARED} for c in r["changes"]]}
            if "changes" in r else r for r in resources]


WRITES = frozenset(action.value for action in CHANGING)


def writes(doc: dict) -> list[dict]:
    """What applying a plan document would write, in a form that compares with `==`: each
    create, update, replace and delete with its address, id, desired body and field changes."""
    return [{"address": r["address"], "action": r["action"], "id": r.get("id"), "desired": r.get("desired"),
             "changes": [(c["path"], c["before"], c["after"]) for c in r.get("changes", [])]}
            for r in doc.get("resource_changes", []) if r.get("action") in WRITES]


def unknown_variables(doc: dict) -> list[str]:
    """The `${VAR}`s the run that made the plan document `doc` did not have (values
    `{"unknown_from": [...]}`, ADR 24), in what the plan would write: a plan holding any is
    never applied (`deploy --from-plan`, the GitHub apply). Each name as the document holds it,
    shortened: a saved plan is a file anyone may have edited."""
    found: set[str] = set()

    def walk(value) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("unknown_from"), list):
                found.update(one_line(v if isinstance(v, str) else json.dumps(v), 60) for v in value["unknown_from"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(writes(doc))
    return sorted(found)


def _redact_env(body: Any, sensitive_paths: set[str]) -> Any:
    if not isinstance(body, dict) or not env_of(body):
        return _value(body)
    env = {k: (hidden(v) if f"env.{k}" in sensitive_paths and not isinstance(v, Unresolved) else v) for k, v in env_of(body).items()}
    return _value(with_env(body, env))


def _resource(change: ResourceChange, locate: Locate | None = None) -> dict:
    sensitive = {c.path for c in change.changes if c.sensitive}
    if isinstance(change.desired, dict):
        sensitive |= {f"env.{k}" for k, v in env_of(change.desired).items() if isinstance(v, Sensitive)}
    doc = {
        "address": change.address,
        "kind": change.kind.value,
        "name": change.name,
        "id": change.id,
        "action": change.action.value,
        "drift": change.drift.value if change.drift else None,
        "reason": change.reason,
        "changes": [_located(c, change.kind.value, change.name, locate) for c in change.changes] if locate is not None and change.action in LOCATED
                   else [_field(c) for c in change.changes],
        "desired": _redact_env(change.desired, sensitive) if change.desired is not None else None,
    }
    if change.data_center:
        doc["data_center"] = change.data_center
    if change.template:
        t = change.template
        doc["template"] = {"requested": t.requested, "resolved": t.resolved, "evidence": list(t.evidence)}
    return doc


def _notice(notice: Notice) -> dict:
    return {"code": notice.code, "address": notice.address, "message": notice.message}


def policy_section(plan: Plan) -> dict | None:
    """The policy the plan was checked against and its violations (docs/policy.md); None
    when no policy was in force, and then the document has no `policy` key."""
    if plan.policy is None:
        return None
    return {"sources": list(plan.policy.sources),
            "violations": [{"rule": v.rule, "endpoint": v.endpoint, "path": v.path, "message": v.message, "source": v.source, "where": v.where}
                           for v in plan.policy.violations]}


@acyclic
def to_document(plan: Plan, locate: Locate | None = None) -> dict:
    """The plan document; with `locate` (gpuctl.config.locate), each field change of an update
    or a replace names the gpu.jsonc keys that declare it (`config_keys`). It is called for
    changed fields only: a plan in sync never calls it."""
    return _document(plan, [_resource(c, locate) for c in plan.changes])


def _document(plan: Plan, resources: Iterable[dict]) -> dict:
    summary = {a.value: plan.count(a) for a in SUMMARY_ACTIONS}
    return {
        "format_version": FORMAT_VERSION,
        "tool": {"name": "gpuctl", "version": __version__},
        "project_id": plan.project_id,
        "config": plan.config_path,
        "provider": plan.provider,
        "prune": plan.prune,
        "has_changes": plan.has_changes,
        "in_sync": plan.in_sync,
        "summary": summary,
        "overrides": [{"flag": o.flag, "path": o.path, "value": o.value} for o in plan.overrides],
        "resource_changes": resources,
        "warnings": [_notice(n) for n in plan.notices if n.level == "warning"],
        "notes": [_notice(n) for n in plan.notices if n.level == "note"],
        "cost": _cost(plan.cost),
        "observed_digest": plan.observed_digest,
    } | ({"policy": policy_section(plan)} if plan.policy is not None else {}) | (
        {"observed_from": plan.observed_from} if plan.observed_from is not None else {}) | (
        {"lease": lease_section(plan.lease)} if plan.lease is not None else {})


LEASE_STILL = ("the account may still change, and what that command has yet to write shows in this plan as changes of its own: "
               "plan again once it has finished")
DRIFT_STILL = ("the account may still change, and what that command has yet to write shows in this report as drift: "
               "run the report again once it has finished")  # the same judgement, said of a drift report (`gpu serverless drift`)


def lease_section(lease: LeaseSeen, still: str = LEASE_STILL) -> dict:
    """The plan document's `lease` (and the drift report's, with `still` = DRIFT_STILL):
    another command of the project held its account lease when the account was read
    (`plan.model.LeaseSeen`, judged by `engine.lease.seen_by_plan` for both), with the sentence
    the text and Markdown views put above everything else (`message`). The holder as the lease
    records it, never its token."""
    holder = lease.holder or "an unknown holder"
    if lease.status == "held":
        message = (f"another gpuctl command of this project holds its account lease ({lease.template}): {holder} ({lease.detail}). "
                   f"It is applying now: {still}")
    elif lease.holder is None and lease.detail.startswith("the lease template could not be read"):
        message = f"{lease.detail} ({lease.template}): whether another gpuctl command is applying now cannot be told. If one is, {still}"
    else:
        message = (f"the project's account lease ({lease.template}) names {holder}, but {lease.detail}: whether it is applying now "
                   f"cannot be told. If it is, {still}")
    return {"status": lease.status, "template": lease.template, "holder": lease.holder, "detail": lease.detail, "message": message}


def _hourly(after: CostItem | CostEstimate) -> dict:
    """`before` and `delta` (after minus before) of one item or of the totals."""
    always, worst = after.before_always_on_per_hour, after.before_worst_case_per_hour
    return {"before": {"always_on_per_hour": always, "worst_case_per_hour": worst},
            "delta": {"always_on_per_hour": round(after.always_on_per_hour - always, 4), "worst_case_per_hour": round(after.worst_case_per_hour - worst, 4)}}


def _cost(cost: CostEstimate) -> dict:
    """After apply (`always_on_per_hour`, `worst_case_per_hour`, as before they had a `before`),
    what the account pays now, and the difference: for the plan and for each resource."""
    items = [{"address": i.address, "always_on_per_hour": i.always_on_per_hour, "worst_case_per_hour": i.worst_case_per_hour, "basis": i.basis, **_hourly(i)}
             for i in cost.items]
    return {"currency": "USD", "always_on_per_hour": cost.always_on_per_hour, "worst_case_per_hour": cost.worst_case_per_hour,
            "complete": cost.complete, **_hourly(cost), "items": items}


@acyclic
def dumps(document: dict) -> str:
    """The document as UTF-8 JSON laid out for people and diffs: objects down to a resource
    spread one member per line (two spaces a level), every list of objects one item per line,
    and anything else (a field change, a desired body, a cost item, a list of plain values) on
    one line. Deterministic; keys keep the document's order. `json.dumps(indent=2)` runs json's
    pure-Python encoder (about 170 ms for a plan of 1,000 new endpoints); here the C encoder
    writes each line."""
    out: list[str] = []
    _emit(document, 0, "", _line_encoder(), out, lambda: None)
    return json_safe("".join(out)) + "\n"


@acyclic
def write_document(plan: Plan, write: Callable[[str], object], locate: Locate | None = None) -> None:
    """`dumps(to_document(plan))`, written a resource at a time: each is converted when it is
    reached and its text written, so a large plan never holds the whole document and its text
    at once (10,000 new endpoints: peak memory 300 -> 100 MiB, a tenth less time)."""
    out: list[str] = []

    def flush() -> None:
        write(json_safe("".join(out)))
        out.clear()

    _emit(_document(plan, (_resource(c, locate) for c in plan.changes)), 0, "", _line_encoder(), out, flush)
    write(json_safe("".join(out)) + "\n")


def _line_encoder() -> Callable[[Any], str]:
    """json's C encoder, made once per document: `JSONEncoder.encode` makes a new one for every
    call, which costs as much as encoding a field change. No check for cycles: the document
    is a tree. Numbers are RFC 8259's, as every --json document's (gpuctl.jsontext.strict): a
    non-finite float (an account's value read from a snapshot) is null."""
    from json.encoder import c_make_encoder

    from gpuctl.jsontext import strict

    if c_make_encoder is None:  # a Python without json's C accelerator
        return strict(json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode)
    encoder = c_make_encoder(None, json.JSONEncoder().default, _KEY, None, ": ", ", ", False, False, False)
    return strict(lambda value: "".join(encoder(value, 0)))


def _emit(value: Any, depth: int, pad: str, encode: Callable[[Any], str], out: list[str], flush: Callable[[], None]) -> None:
    """Appends the layout of `value` to `out`. A list may be any iterable (`write_document`'s
    resources are converted as they are reached); `flush` runs after each item of a list in the
    document itself, the resources among them."""
    if isinstance(value, dict) and value and depth < _SPREAD_DEPTH:
        inner, sep = pad + "  ", "{\n"
        for k, v in value.items():
            out.append(f"{sep}{inner}{_KEY(k)}: ")
            _emit(v, depth + 1, inner, encode, out, flush)
            sep = ",\n"
        out.append("\n" + pad + "}")
    elif isinstance(value, (list, Iterator)):
        _emit_items(iter(value), depth, pad, encode, out, flush)
    else:
        out.append(encode(value))


def _emit_items(items: Iterator, depth: int, pad: str, encode: Callable[[Any], str], out: list[str], flush: Callable[[], None]) -> None:
    """A list of objects one item per line (each on one line from a field change down); any
    other list on one line."""
    first = next(items, _END)
    if first is _END or not isinstance(first, dict):
        out.append(encode([] if first is _END else [first, *items]))
        return
    inner, sep = pad + "  ", "[\n"
    for v in chain([first], items):
        out.append(sep + inner)
        if isinstance(v, dict) and depth + 1 >= _SPREAD_DEPTH:
            out.append(encode(v))
        else:
            _emit(v, depth + 1, inner, encode, out, flush)
        if depth == 1:
            flush()
        sep = ",\n"
    out.append("\n" + pad + "]")


JSON_TYPES = {list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


@functools.cache
def _saved_model() -> type:
    """The pydantic model of a saved plan, built once, when a plan is first read (pydantic is
    imported then too, never by `gpu --help`)."""
    from pydantic import BaseModel, ConfigDict

    # Every field gpuctl reads from a saved plan (deploy --from-plan, the GitHub apply's
    # reviewed plan) has its type here, so a damaged one is this error and not a crash later.
    class Open(BaseModel):
        model_config = ConfigDict(extra="allow", strict=True)

    class Change(Open):
        path: str
        before: Any
        after: Any

    class Resource(Open):
        address: str
        action: str
        changes: list[Change] = []

    class Override(Open):
        flag: str
        value: Any

    class Violation(Open):
        rule: str
        endpoint: str | None
        path: str | None
        message: str
        source: str | None
        where: str | None = None  # a plan saved before `where` has none

    class Policy(Open):
        violations: list[Violation] = []

    class Saved(Open):
        format_version: str
        project_id: str
        provider: str
        prune: bool
        resource_changes: list[Resource]
        observed_digest: str
        overrides: list[Override] | None = None
        policy: Policy | None = None

    return Saved


def _remake(flags: Flags) -> str:
    """How to make a plan `--from-plan` reads, with the run's options (`flags`)."""
    return (f"save a plan with `{suggest('serverless', 'deploy', '--plan', '--out', 'plan.json', flags=flags)}`, "
            f"then apply it with `{suggest('serverless', 'deploy', '--from-plan', 'plan.json', flags=flags)}`")


def read_saved(path: Path, shown: str | None = None, flags: Flags = NONE) -> dict:
    """A plan document written by `deploy --out`, checked before anything is compared or
    applied: a file that is not one, or of another format version, is refused with the fix.
    `shown`: the name the errors give the file (as the user typed it), else `path`; `flags`:
    the run's options, which the commands its errors suggest repeat."""
    name = str(path) if shown is None else shown
    doc = _saved_json(path, name, flags)
    _check_format_version(doc, name, flags)
    _check_plan_shape(doc, name, flags)
    return doc


def _saved_json(path: Path, name: str, flags: Flags = NONE) -> Any:
    """The JSON value in the file, or an error: unreadable, or not JSON at all."""
    from gpuctl.files import FileUnreadable, read_json

    try:
        return read_json(path, shown=name)
    except FileUnreadable as exc:
        if not exc.json:
            raise GpuctlError(f"cannot read the saved plan {name}: {exc.problem}", hint=_remake(flags)) from None
        raise GpuctlError(f"{exc.place}: it is not a saved plan: {exc.problem}", hint=_remake(flags)) from None


def _check_format_version(doc: Any, name: str, flags: Flags = NONE) -> None:
    """An object of another format version is refused: a number for the string ("1" written as
    1, edited or made by hand) is said as such."""
    if not isinstance(doc, dict) or doc.get("format_version") in (None, FORMAT_VERSION):
        return
    found = doc["format_version"]
    shown = clip(json.dumps(found), 20)
    if isinstance(found, (int, float)) and not isinstance(found, bool) and str(found) == FORMAT_VERSION:
        raise GpuctlError(f"{name}: format_version is the number {shown}, and must be the string {json.dumps(FORMAT_VERSION)}",
                          hint=_remake(flags) + " (with this gpuctl)")
    raise GpuctlError(f"{name} is plan format {shown}; this gpuctl reads format {json.dumps(FORMAT_VERSION)} only", hint=_remake(flags) + " (with this gpuctl)")


def _check_plan_shape(doc: Any, name: str, flags: Flags = NONE) -> None:
    """A JSON object with the saved plan's keys and types; the first problem is named by its place."""
    from pydantic import ValidationError

    if not isinstance(doc, dict):
        raise GpuctlError(f"{name} is not a saved plan: it holds a JSON {JSON_TYPES.get(type(doc), 'value')}, and a plan is an object", hint=_remake(flags))
    try:
        _saved_model().model_validate(doc)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "the top level"
        raise GpuctlError(f"{name} is not a saved plan: {where}: {first['msg'].lower()}", hint=_remake(flags)) from None
