"""Network volumes: resolved by (name, data center), grown but never shrunk, never deleted."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from gpuctl.catalog import Catalog
from gpuctl.commands import NONE, Flags, suggest
from gpuctl.errors import Diagnostic
from gpuctl.model import Notice, Observed, VolumeSpec
from gpuctl.plan.model import Action, Drift, FieldChange, Kind, ResourceChange, Unknown
from gpuctl.prewarm import own_warm_pod
from gpuctl.v2 import owner, pod_volume_ids, volume_ids
from gpuctl.words import joined

DEFAULT_SIZE_GB = 50
SHARED_CODE = "shared-volume"  # the volume gpu.jsonc names is attached to endpoints not this project's, or mounted by pods (policy forbid_shared_volumes)
PODS_UNREAD_CODE = "shared-volume-pods-unread"  # the pods could not be listed (a key without pod access): policy forbid_shared_volumes refuses the plan
SHARED_ADVICE = (". If it is not meant to be shared, give volume.name a name of this project's own (the plan then creates a new, empty volume); "
                 "policy forbid_shared_volumes refuses such a plan")  # the end of a shared-volume warning: what to do


@dataclass(frozen=True)
class ResolvedVolume:
    change: ResourceChange
    ref: str | Unknown  # the id to put in an endpoint's networkVolumes
    size_gb: int


def _address(name: str, dc: str) -> str:
    return f"network_volume.{name}@{dc}"


def _choose_dc(spec: VolumeSpec, catalog: Catalog) -> str:
    storage = [dc for dc in spec.data_centers if catalog.data_centers.get(dc) and catalog.data_centers[dc].network_volumes]
    return (storage or list(spec.data_centers) or [catalog.default_volume_data_center])[0]


def resolve_volume(spec: VolumeSpec, same_name: tuple[dict, ...], catalog: Catalog, report: bool = False, flags: Flags = NONE) -> tuple[ResolvedVolume | None, list[Diagnostic], list[Notice]]:
    """The volume `spec` names, from the account's volumes of that name (in the account's order).
    A live volume larger than `size_gb` is kept at its size: a no-op labelled larger-in-account,
    with a warning; with `report` (a drift report) it lists the size on both sides as a field."""
    allowed = [not spec.data_centers or v.get("dataCenter") in spec.data_centers for v in same_name]
    inside = [v for v, ok in zip(same_name, allowed) if ok]
    new_dc = None if inside else _choose_dc(spec, catalog)
    notices = [_outside(spec.name, v, new_dc) for v, ok in zip(same_name, allowed) if not ok]
    if len(inside) > 1:
        listed = ", ".join(f'{v.get("id")} in {v.get("dataCenter")}' for v in inside)
        return None, [Diagnostic(f'{len(inside)} network volumes are named "{spec.name}" ({listed}); gpuctl cannot tell which to use', f"network_volume.{spec.name}", hint="set runpod.data_center_ids to the one data center whose volume you want")], notices
    if not inside:
        return _create(spec, catalog, notices)
    return _existing(spec, inside[0], notices, report, flags)


def _outside(name: str, volume: dict, new_dc: str | None) -> Notice:
    """A same-named volume outside data_center_ids. When the plan creates the volume anew in
    `new_dc` (the endpoint moved data center), it says that the data stays behind: a network
    volume cannot move, the new one starts empty, and the old one is kept, and billed, until
    someone deletes it."""
    dc = volume.get("dataCenter", "?")
    message = f'a volume named "{name}" exists in {dc} ({volume.get("id")}), outside data_center_ids; it is not used'
    if new_dc is not None:
        message += (f". Its data does not move: the new volume in {new_dc} is created empty, so copy into it what the endpoint needs "
                    f"(or set runpod.data_center_ids back to {dc}); the volume in {dc} is kept, and its storage billed, "
                    f"until you delete it in the RunPod console (gpuctl never deletes volumes)")
    return Notice("volume-outside-data-centers", message, _address(name, dc))


def _create(spec: VolumeSpec, catalog: Catalog, notices: list[Notice]):
    dc = _choose_dc(spec, catalog)
    address = _address(spec.name, dc)
    if not spec.data_centers:
        notices.append(Notice("volume-data-center-default", f"runpod.data_center_ids is not set; the volume is created in {dc}, and attaching it keeps the endpoint's workers there", address))
    size = spec.size_gb or DEFAULT_SIZE_GB
    desired = {"name": spec.name, "size": size, "dataCenter": dc}
    changes = tuple(FieldChange(k, None, v) for k, v in desired.items())
    change = ResourceChange(Kind.NETWORK_VOLUME, spec.name, address, Action.CREATE, None, f'no network volume named "{spec.name}" in {dc}', changes, desired, data_center=dc)
    return ResolvedVolume(change, Unknown(f"{address}.id"), size), [], notices


def _existing(spec: VolumeSpec, volume: dict, notices: list[Notice], report: bool = False, flags: Flags = NONE):
    dc, size = volume.get("dataCenter"), volume.get("size")
    address = _address(spec.name, dc)
    base = dict(kind=Kind.NETWORK_VOLUME, name=spec.name, address=address, id=volume.get("id"), data_center=dc)
    if spec.size_gb is not None and spec.size_gb < (size or 0):
        # Grown in the console: nothing can shrink it, so the plan keeps it as it is (a no-op,
        # labelled) and plans everything else; a warning says so. Refusing to plan blocked every
        # apply of the project, an unrelated hotfix too, until gpu.jsonc said the new size (review 3, R12).
        why = f"{size} GB in the account, {spec.size_gb} GB in gpu.jsonc; network volumes can only grow, so it is kept at {size} GB"
        notices.append(Notice("volume-larger-in-account", f"{spec.name} is {size} GB in the account and gpu.jsonc says {spec.size_gb}: network volumes "
                                                          f"cannot shrink, so it is kept at {size} GB; set volume.size_gb to {size} "
                                                          f"(`{suggest('serverless', 'pull', '--write', flags=flags)}` does) to silence this", address))
        # The drift report lists the size on both sides; a plan writes nothing, so it lists no
        # field change (one would read as a resize to gpu.jsonc's size).
        sizes = (FieldChange("size", size, spec.size_gb),) if report else ()
        change = ResourceChange(action=Action.NOOP, reason=why, changes=sizes, desired={}, drift=Drift.LARGER_IN_ACCOUNT, **base)
        return ResolvedVolume(change, volume["id"], size), [], notices
    if spec.size_gb is not None and spec.size_gb > (size or 0):
        desired = {"size": spec.size_gb}
        change = ResourceChange(action=Action.UPDATE, reason=f"size grows from {size} to {spec.size_gb} GB", changes=(FieldChange("size", size, spec.size_gb),), desired=desired, **base)
        return ResolvedVolume(change, volume["id"], spec.size_gb), [], notices
    change = ResourceChange(action=Action.NOOP, desired={}, **base)
    return ResolvedVolume(change, volume["id"], size or DEFAULT_SIZE_GB), [], notices


def preserved(observed: Observed, referenced_ids: set[str], kept_ids: set[str], why: str) -> list[ResourceChange]:
    """Volumes that endpoints of this project used but the config no longer attaches."""
    out = []
    for v in observed.network_volumes:
        if v.get("id") in referenced_ids and v.get("id") not in kept_ids:
            out.append(ResourceChange(Kind.NETWORK_VOLUME, v.get("name", ""), _address(v.get("name", ""), v.get("dataCenter", "?")), Action.PRESERVE, v.get("id"), why, data_center=v.get("dataCenter")))
    return out


def shared(volumes: Iterable[ResolvedVolume], endpoints: Iterable[dict], ours: Callable[[dict], bool], pods: Iterable[dict] | None = (),
           pods_unread: str | None = None, project_id: str | None = None, pods_read_at: float | None = None) -> list[Notice]:
    """A warning on each existing volume gpu.jsonc names that endpoints not this project's
    (`ours` false: another project's marker, or none) attach, or that pods mount (a training
    pod writing its checkpoints there, review 8), but for the live pre-warm pods of this project's
    endpoints (`project_id`'s marker, deadline checked against `pods_read_at`: gpuctl.prewarm.own_warm_pod). Volumes carry no marker and are reused by name (review 6, R6-3): without it, the
    plan mounted another team's volume into this project's workers and grew it, irreversibly,
    and a reviewer saw only `size = 10 → 50`. `pods` None: not read (`pods_unread`: why, which
    the plan then says of each existing volume it names). One pass over each list, then a
    lookup per volume (issue 11)."""
    endpoint_users: dict[str, list[dict]] = {}
    for e in endpoints:
        for vid in volume_ids(e):
            endpoint_users.setdefault(vid, []).append(e)
    pod_users: dict[str, list[dict]] = {}
    for p in pods or ():
        for vid in pod_volume_ids(p):
            pod_users.setdefault(vid, []).append(p)
    out = []
    for volume in volumes:
        if not isinstance(volume.ref, str):
            continue
        if pods is None and pods_unread:
            out.append(Notice(PODS_UNREAD_CODE, f'the account\'s pods could not be listed ({pods_unread}), so whether a pod mounts network volume '
                                                           f'"{volume.change.name}" ({volume.ref}) was not checked', volume.change.address))
        users = endpoint_users.get(volume.ref, [])
        ours_ids = {str(e.get("id")) for e in users if ours(e)}
        others = [_user(e) for e in users if not ours(e)]
        others += [_pod(p) for p in pod_users.get(volume.ref, []) if not own_warm_pod(p, project_id, ours_ids, pods_read_at)]
        if others:
            out.append(_shared_notice(volume, others, attached=bool(ours_ids)))
    return out


def _user(endpoint: dict) -> str:
    project = owner(endpoint)
    return f'endpoint "{endpoint.get("name")}" ({endpoint.get("id")})' + (f' of project "{project}"' if project else ", unmanaged (no gpuctl marker)")


def _pod(pod: dict) -> str:
    status = pod.get("status")
    return f'pod "{pod.get("name")}" ({pod.get("id")}' + (f", {str(status).lower()})" if isinstance(status, str) and status else ")")


def _shared_notice(volume: ResolvedVolume, others: list[str], attached: bool) -> Notice:
    change = volume.change
    users = joined(others, 5)
    what = ("this project's endpoints already attach it too, so both read and write the same files" if attached else
            "this plan attaches it to this project's workers too, so both read and write the same files")
    grown = next((c for c in change.changes if c.path == "size" and change.action is Action.UPDATE), None)
    if grown is not None:
        since = f"from {grown.before} " if isinstance(grown.before, int) else ""
        what += f", and grows it {since}to {grown.after} GB, which cannot be undone (network volumes never shrink)"
    return Notice(SHARED_CODE, f'network volume "{change.name}" ({volume.ref}) in {change.data_center} is attached to {users}: {what}' + SHARED_ADVICE,
                  change.address)
