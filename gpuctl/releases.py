"""RunPod releases read as an endpoint's history: who made each one, and the configuration of
any version, rebuilt from the diffs. Pure: no provider, no output.

A release (`GET /v2/serverless/{id}/releases`, newest first) is a version of the endpoint's
configuration with a diff `[{field, old, new}]` of the fields that changed. Diffs name fields
template-scoped (`template.imageName`, `template.env`, ...) or top-level (`gpuCount`,
`locations`); `FIELD_PATHS` maps each to where the v2 endpoint body keeps it. The
configuration of version N is the endpoint as it is now with, for every field a later release
changed, the `old` value of the earliest such release (so only fields the releases name are
restored, and every later version must be there).
"""

from __future__ import annotations

import json
from typing import Any

from gpuctl.errors import GpuctlError
from gpuctl.model import MARKER_ENV
from gpuctl.moments import epoch_of
from gpuctl.commands import NONE, Flags, suggest
from gpuctl.v2 import env_of, owner, release_version
from gpuctl.words import agreeing, counted

FORMAT_VERSION = "1"
RECORD_PREFIX = "gpuctl-applied-"  # ADR 0010's last-applied record, one per endpoint
APPLIED_AT = "GPUCTL_APPLIED_AT"

# Release field -> v2 body path (a dotted path into the Endpoint object).
FIELD_PATHS = {
    "template.imageName": "image", "template.dockerArgs": "args", "template.containerDiskInGb": "disk",
    "template.ports": "ports", "template.env": "env", "template.containerRegistryAuthId": "registry",
    "gpuCount": "gpu.count", "locations": "dataCenterIds",
}
# v2 paths gpuctl can write back with a PATCH; a diff may also name one of these directly.
WRITABLE = {*FIELD_PATHS.values(), "networkVolumes", "timeout", "flashboot", "workers.min", "workers.max", "workers.idleTimeout"}

# A release is gpuctl's when the last-applied record was written within this long after it:
# the engine writes the record once the endpoint write has been read back (ADR 0010). SKEW_S
# allows the deploying machine's clock to run that far behind RunPod's.
APPLY_WINDOW_S = 120.0
SKEW_S = 5.0


class VersionNotFound(GpuctlError):
    pass


class HistoryIncomplete(GpuctlError):
    pass


# -- values ---------------------------------------------------------------------------------------

def v2_path(field: str) -> str | None:
    """Where the v2 body keeps a release field, or None when gpuctl cannot write it."""
    path = FIELD_PATHS.get(field, field)
    return path if path in WRITABLE else None


def normalized(path: str, value: Any) -> Any:
    """A release or endpoint value in the v2 body's shape. Diffs carry "raw JSON", and RunPod's
    older surfaces spell env as `[{key, value}]` and ports and locations as comma-separated
    strings, so both are read."""
    if path == "env":
        if isinstance(value, list):
            return {e.get("key"): e.get("value") for e in value if isinstance(e, dict)}
        return dict(value) if isinstance(value, dict) else {}
    if path in ("ports", "dataCenterIds", "networkVolumes"):
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return list(value) if isinstance(value, list) else []
    if path == "args" and value is None:
        return ""
    return value


def value_at(endpoint: dict, path: str) -> Any:
    node: Any = endpoint
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return normalized(path, node)


def patch_body(values: dict[str, Any]) -> dict[str, Any]:
    """{"gpu.count": 2, "image": "x"} -> {"gpu": {"count": 2}, "image": "x"}, nested the way
    the planner nests a desired body."""
    from gpuctl.plan.fields import request_body

    body = request_body(values, "")
    del body["name"]
    return body


def env_keys(old: Any, new: Any) -> dict[str, list[str]]:
    """Which env keys a change adds, removes or changes: the keys say what is configured; the
    values are compared here and never returned."""
    before, after = normalized("env", old), normalized("env", new)
    return {"added": sorted(set(after) - set(before)), "removed": sorted(set(before) - set(after)),
            "changed": sorted(k for k in set(before) & set(after) if before[k] != after[k])}


# -- reconstruction ----------------------------------------------------------------------------

def versions(doc: dict) -> list[int]:
    return sorted((r["version"] for r in doc.get("releases") or [] if isinstance(r.get("version"), int)), reverse=True)


def configuration_at(doc: dict, endpoint: dict, version: int, flags: Flags = NONE) -> dict[str, Any]:
    """{v2 path: value} of every field a release after `version` changed, as it was at
    `version`. Raises VersionNotFound (listing the versions there are) or HistoryIncomplete
    (a later version is missing, or a diff names a field gpuctl cannot write)."""
    name = endpoint.get("name")
    known = versions(doc)
    if version not in known:
        listed = ", ".join(map(str, known)) or "none"
        raise VersionNotFound(f"endpoint {name} has no version {version}; its versions are {listed}",
                              hint=f"pick one of them, as `{suggest('serverless', 'history', str(endpoint.get('id') or name), flags=flags)}` lists them")
    latest = known[0] if release_version(doc) is None else release_version(doc)
    missing = sorted(set(range(version + 1, latest + 1)) - set(known))
    if missing:
        raise HistoryIncomplete(f"endpoint {name}'s releases skip {agreeing(len(missing), 'version')} {', '.join(map(str, missing))}, so version {version} cannot be rebuilt",
                                hint=f"roll back to a version after {missing[-1]}, or set the fields in the RunPod console")
    later = sorted((r for r in doc["releases"] if isinstance(r.get("version"), int) and r["version"] > version),
                   key=lambda r: r["version"], reverse=True)
    config: dict[str, Any] = {}
    for release in later:  # newest to oldest: the oldest later release's `old` is the value at `version`
        for entry in release.get("diff") or []:
            path = v2_path(str(entry.get("field")))
            if path is None:
                raise HistoryIncomplete(f"version {release['version']} of endpoint {name} changed {entry.get('field')!r}, which gpuctl cannot write back",
                                        hint="roll back in the RunPod console, or to a version after it")
            config[path] = normalized(path, entry.get("old"))
    return config


def rollback_changes(endpoint: dict, config: dict[str, Any]) -> list[dict[str, Any]]:
    """[{path, before, after}] for the fields whose value at the version differs from now,
    sorted by path. The env keeps the endpoint's current GPUCTL_PROJECT marker, so a rollback
    never takes an endpoint away from its project."""
    changes = []
    for path in sorted(config):
        before, after = value_at(endpoint, path), config[path]
        if path == "env" and MARKER_ENV in before:
            after = {**after, MARKER_ENV: before[MARKER_ENV]}
        if before != after:
            changes.append({"path": path, "before": before, "after": after})
    return changes


# -- attribution -------------------------------------------------------------------------------

def _record(templates: list[dict], endpoint: dict) -> dict | None:
    """The endpoint's last-applied record (ADR 0010), if it is there and belongs to the
    endpoint's project."""
    name = f"{RECORD_PREFIX}{endpoint.get('id')}"
    record = next((t for t in templates if t.get("name") == name), None)
    if record is None or (owner(endpoint) and owner(record) != owner(endpoint)):
        return None
    return record


def applied_at(templates: list[dict], endpoint: dict) -> float | None:
    """When gpuctl last applied this endpoint, from its last-applied record."""
    record = _record(templates, endpoint)
    return None if record is None else epoch_of(env_of(record).get(APPLIED_AT))


def applies(templates: list[dict], endpoint: dict) -> list[tuple[float, str | None, int | None]]:
    """(when, who, the release version it made) of each of gpuctl's last applies of this endpoint
    its record keeps, oldest first."""
    from gpuctl.author import clean
    from gpuctl.plan.drift import applies_of

    found = [(epoch_of(at), clean(by), version) for at, by, version in applies_of(_record(templates, endpoint))]
    return [(at, by, version) for at, by, version in found if at is not None]


def attribute(releases: list[dict], last_applied: float | None, applied: list[tuple[float, str | None, int | None]] | None = None) -> dict[int, tuple[str, str, str | None]]:
    """{version: (made_by, why, applied_by)}, made_by being "gpuctl", "marker", "account" or
    "unknown" (docs/history.md), applied_by who ran the deploy that made it (None: not known).

    - a GitHub build is the account's: gpuctl never starts one;
    - version 1 created with a GPUCTL_PROJECT marker is "marker": gpuctl writes the marker at
      create, but an endpoint made in the console or the API with the marker copied looks the
      same; it is gpuctl's when an apply the record keeps made it too (below);
    - with a last-applied record: a release made more than SKEW_S after it is the account's
      (made after gpuctl's last deploy: the console, the API, another tool, or `rollback`);
    - each apply the record keeps (`applied`: when, who, and the release version its write made,
      read back) is the release of that version, exactly; an apply recorded without a version
      (an older record) is matched with the release made closest to it in the window before it
      (APPLY_WINDOW_S, SKEW_S after): the one release of an apply is gpuctl's, by whoever
      applied; several matched with one apply: unknown. A record written before gpuctl kept its
      applies has only its last: the one release in its window is gpuctl's;
    - anything else: unknown.
    """
    times = {r["version"]: epoch_of(r.get("createdAt")) for r in releases if isinstance(r.get("version"), int)}
    applied = list(applied or [])
    if not applied and last_applied is not None:
        applied = [(last_applied, None, None)]
    made = {v: i for i, (_, _, v) in enumerate(applied) if v in times}  # the release an apply read back it made: exact
    matched: dict[int, int] = dict(made)  # version -> index in `applied`
    by_time = [(i, at) for i, (at, _, v) in enumerate(applied) if v is None]  # older records: by time alone
    for version, t in times.items():
        near = [(abs(at - t), i) for i, at in by_time if version not in made and t is not None and at - APPLY_WINDOW_S <= t <= at + SKEW_S]
        if near:
            matched[version] = min(near)[1]
    out = {}
    for release in releases:
        version = release.get("version")
        if not isinstance(version, int):
            continue
        out[version] = _made_by(release, times[version], last_applied, applied, matched)
    return out


def _made_by(release: dict, created: float | None, last_applied: float | None, applied: list[tuple[float, str | None, int | None]],
             matched: dict[int, int]) -> tuple[str, str, str | None]:
    version = release["version"]
    first = applied[matched[version]][1] if version in matched else None
    if release.get("source") == "GIT_BUILD":
        return "account", f"a GitHub build ({release.get('buildId') or 'no build id'})", None
    if version == 1 and MARKER_ENV in _new_env(release):
        return _created_with_marker(_new_env(release)[MARKER_ENV], matched, version, first)
    if last_applied is None or created is None:
        return "unknown", "no last-applied record to compare with" if last_applied is None else "no readable createdAt", None
    if created > last_applied + SKEW_S:
        return "account", "made after gpuctl's last deploy of this endpoint", None
    if version in matched:
        same = [v for v, i in matched.items() if i == matched[version]]
        if len(same) == 1:
            return "gpuctl", "the release of a deploy the last-applied record keeps" + (f", applied by {first}" if first else ""), first
        return "unknown", f"{counted(len(same), 'release')} around one of gpuctl's deploys; which one was gpuctl's cannot be told", None
    return "unknown", "made before gpuctl's last deploy, and no deploy the record keeps made it", None


def _created_with_marker(project: Any, matched: dict[int, int], version: int, first: str | None) -> tuple[str, str, str | None]:
    """Version 1 with a GPUCTL_PROJECT marker: gpuctl writes the marker at create, but anyone can
    copy it into an endpoint made in the console or through the API, so the marker alone says
    only "marker". It is gpuctl's when an apply the last-applied record keeps made it too."""
    said = f"created with the {MARKER_ENV} marker of project {json.dumps(project, ensure_ascii=False)}"
    if version in matched and [v for v, i in matched.items() if i == matched[version]] == [version]:
        return "gpuctl", f"{said}, by a deploy the last-applied record keeps" + (f", applied by {first}" if first else ""), first
    return "marker", (f"{said}, which gpuctl writes at create; one copied into an endpoint made in the console or "
                      "through the API looks the same, and no deploy the last-applied record keeps made it"), None


def _new_env(release: dict) -> dict:
    for entry in release.get("diff") or []:
        if FIELD_PATHS.get(entry.get("field"), entry.get("field")) == "env":
            return normalized("env", entry.get("new"))
    return {}
