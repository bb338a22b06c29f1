"""CPU pre-warm: a cheap CPU pod with the endpoint's network volume mounted downloads the models
into the volume's Hugging Face cache, then is deleted.

The pod is deleted on every path out (success, failure, `--timeout`, Ctrl-C, SIGTERM): its
creation and its deletion run with signals held (gpuctl.interrupts), and a create whose
answer was lost is looked up by the pod's unique name, never sent again; one that got no answer
at all is watched for until the deadline (`await_pod`). What it cost is printed either way.

A pod that starts after its run gave up (a create the server carried out later, or a run that
was killed outright) has nobody left to delete it. Its name carries the wall-clock second its
run's deadline passed (`...-until<epoch>`); no run uses its pod past that, so the next
warm-up in the account (`sweep`) deletes any warm-up pod whose deadline passed, plus a grace for
clock skew between machines. The name needs no local state, so a CI runner that is gone by then
leaves nothing unswept. Every warm-up sweeps first (any mode, before anything can stop it), and
`status` shows an endpoint's pods left over this way (`left_over`) until then.
"""

from __future__ import annotations

import json
import math
import secrets
import shlex
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gpuctl.commands import NONE, Flags, suggest
from gpuctl.model import LOCAL_COMMAND_ENV, MARKER_ENV
from gpuctl.prewarm import WARM_POD, ModelList
from gpuctl.provider.errors import AmbiguousWrite, ProviderError
from gpuctl.warm.download import PREFIX
from gpuctl.warm.errors import DownloadFailed, PodLeft, WarmTimeout
from gpuctl.warm.podlog import PodLog
from gpuctl.interrupts import held
from gpuctl.polling import poll_until, time_left
from gpuctl.files import json_in
from gpuctl.v2 import data_center, env_of, owner, pod_request, volume_ids
from gpuctl.provider.protocol import Provider
from gpuctl.safetext import one_line
from gpuctl.words import counted, in_seconds

IMAGE = "python:3.12-slim"  # any image with Python 3.8+ runs the downloader
CPU_FLAVOR, VCPUS = "cpu3c", 2  # the smallest CPU pod: downloading needs no more
DISK_GB = 10  # the models go to the volume; the container disk only holds the image
MOUNT = "/runpod-volume"
POLL_S = 2.0
EXIT_GRACE_S = 3.0  # after the pod exits, how long its last lines may take to arrive
GONE = ("EXITED", "TERMINATED", "ERROR")
NAME = WARM_POD  # gpuctl.prewarm's, which the planner reads too


def downloader_argv() -> list[str]:
    return ["python3", "-c", (Path(__file__).parent / "download.py").read_text()]


def hub_env(endpoint: dict, environ: dict) -> dict[str, str]:
    """HF_TOKEN and HF_ENDPOINT for the pod, the pair from one place, so a token goes only to
    the Hub its owner chose: gpu's own environment when it sets HF_TOKEN (with its HF_ENDPOINT,
    else the Hub's default), else the endpoint's env (where a RunPod secret reference such as
    `{{ RUNPOD_SECRET_hf }}` resolves as usual). Never your token with the endpoint's
    HF_ENDPOINT: whoever can edit that env (another project, the console, a merged pull
    request) chose it. With no token anywhere, either HF_ENDPOINT serves, gpu's first."""
    mine, theirs = environ, env_of(endpoint)
    source = mine if mine.get("HF_TOKEN") else theirs if theirs.get("HF_TOKEN") else None
    if source is None:
        url = mine.get("HF_ENDPOINT") or theirs.get("HF_ENDPOINT")
        return {"HF_ENDPOINT": url} if url else {}
    return {k: source[k] for k in ("HF_TOKEN", "HF_ENDPOINT") if source.get(k)}


def hub_notes(endpoint: dict, environ: dict) -> list[str]:
    """What `hub_env` chose that a user would not guess: a Hub the endpoint's env names, and
    gpu's own HF_ENDPOINT left out because the token is the endpoint's."""
    chosen, theirs, name = hub_env(endpoint, environ), env_of(endpoint), one_line(str(endpoint.get("name") or endpoint.get("id")), 100)
    notes = []
    if chosen.get("HF_ENDPOINT") and chosen["HF_ENDPOINT"] == theirs.get("HF_ENDPOINT") != environ.get("HF_ENDPOINT"):
        notes.append(f"the pod downloads from {one_line(chosen['HF_ENDPOINT'], 200)}, the HF_ENDPOINT in endpoint {name}'s env")
    if environ.get("HF_ENDPOINT") and chosen.get("HF_ENDPOINT") != environ["HF_ENDPOINT"]:
        notes.append(f"your HF_ENDPOINT is not used: the token is endpoint {name}'s HF_TOKEN, which goes only to the Hub its env names; "
                     "export HF_TOKEN as well to download from your HF_ENDPOINT")
    return notes


def pod_name(endpoint_id: str, until: float) -> str:
    """Unique per run, and saying when its run gives up on it (see the module doc)."""
    return f"gpuctl-warm-{endpoint_id}-{secrets.token_hex(3)}-until{math.ceil(until)}"


def expired(name: str, now: float, grace: float) -> bool:
    """Whether `name` is a warm-up pod's whose run's deadline passed more than `grace` ago.
    A name without the deadline (an older gpuctl's, or anyone else's pod) is never expired."""
    match = NAME.fullmatch(str(name))
    return bool(match) and now > int(match.group(2)) + grace


def left_over(pods: list[dict], endpoint_id: str, now: float, grace: float) -> list[dict]:
    """The pods among `pods` that a warm-up of endpoint `endpoint_id` gave up on (`expired`),
    which the next warm-up's `sweep` deletes: what `status` shows, since they bill until then."""
    prefix = f"gpuctl-warm-{endpoint_id}-"
    return [p for p in pods if str(p.get("name", "")).startswith(prefix) and expired(p["name"], now, grace)]


def sweep(provider: Provider, note: Callable[[str], None], grace: float, now: Callable[[], float] = time.time) -> list[str]:
    """Delete every warm-up pod whose run gave up on it (`expired`): one that started after its
    create went unanswered past --timeout, or whose run was killed. Every warm-up does this
    first, whatever its mode and however it then ends. Returns their ids. A pod that cannot be
    deleted now, or pods that cannot be listed, are left to the next sweep, with a note."""
    try:
        pods = provider.list_pods()
    except ProviderError as exc:
        note(f"warning: could not list the account's pods to delete abandoned warm-up pods ({exc.summary}); the next warm-up tries again")
        return []
    gone = []
    for pod in pods:
        if not expired(pod.get("name", ""), now(), grace):
            continue
        try:
            with held():
                provider.delete_pod(pod["id"])
        except ProviderError as exc:
            note(f"warning: could not delete the abandoned warm-up pod {pod['id']} ({pod.get('name')}): {exc.summary}; "
                 f"delete it in the RunPod console (Pods)")
            continue
        note(f"deleted the abandoned warm-up pod {pod['id']} ({pod.get('name')}): an earlier warm-up gave up on it before it started")
        gone.append(pod["id"])
    return gone


def pod_body(provider_name: str, endpoint: dict, volume: dict, models: ModelList, environ: dict, until: float | None = None) -> dict[str, Any]:
    """The CreatePodRequest (REST v2). RunPod runs `args` in the image; the local provider runs
    the same argv from env GPUCTL_LOCAL_COMMAND, with the volume directory in RUNPOD_VOLUME_PATH.
    `until`: the wall-clock time (epoch seconds) the run's deadline passes, put in the name."""
    argv = downloader_argv()
    env = {"GPUCTL_WARM_MODELS": json.dumps(list(models.refs)), "PYTHONUNBUFFERED": "1"} | hub_env(endpoint, environ)
    if owner(endpoint):  # the project's marker: the plan tells its own pre-warm pods from a pod merely named so (gpuctl.prewarm.own_warm_pod)
        env[MARKER_ENV] = owner(endpoint)
    if provider_name == "local":
        env[LOCAL_COMMAND_ENV] = json.dumps(argv)
    return pod_request(pod_name(endpoint["id"], time.time() if until is None else until), IMAGE, shlex.join(argv), CPU_FLAVOR, VCPUS, DISK_GB, env,
                       data_center(volume), volume["id"], MOUNT)


def create_pod(provider: Provider, body: dict) -> dict | None:
    """Create once, never twice (a second create could start a second billed pod). When the
    answer was lost, find the pod by its unique name; None when it is not there yet and the
    server may still be carrying the create out (`in_flight`): `await_pod` watches for it."""
    try:
        return provider.create_pod(body)
    except AmbiguousWrite as exc:
        found = _named(provider, body["name"])
        if found:
            return found
        if exc.in_flight:
            return None
        raise


def _named(provider: Provider, name: str) -> dict | None:
    return next((p for p in provider.list_pods() if p.get("name") == name), None)


def await_pod(provider: Provider, name: str, deadline: float, timeout: float, view: Any, clock: Callable[[], float],
              sleep: Callable[[float], None], flags: Flags = NONE) -> dict:
    """The pod of a create that got no answer: a server that held the request may still start it
    at any moment, and then it would run (and bill) unseen. Watch for it by name until the
    warm-up's deadline (gpuctl.polling: the last look is at the deadline, no pause goes past
    it); once it shows up it is this run's pod, used and deleted like any other.
    Whatever ends the watch first (the deadline, Ctrl-C), the user is told the pod's name."""
    view.status(f"the create of pod {name} got no answer; the server may still start it: watching for it for up to {max(deadline - clock(), 0):.0f} s")
    try:
        found = poll_until(lambda: _named(provider, name), lambda pod: pod is not None, remaining=time_left(deadline, clock), sleep=sleep, first=POLL_S)
        if found:
            view.note(f"the create of pod {name} got no answer, but it started: pod {found['id']}; it is used, then deleted")
            return found
        raise WarmTimeout(f"the create of pod {name} got no answer, and it did not start within --timeout ({in_seconds(timeout)}); it was not sent again",
                          hint=f"the server may still start it: the next `{suggest('serverless', 'warm', 'NAME', '--cpu', flags=flags)}` (or a deploy's CPU pre-warm) "
                               f"in this account deletes it, or find the pod named {name} in the RunPod console (Pods) and delete it")
    except BaseException as exc:
        if not isinstance(exc, WarmTimeout):
            view.note(f"the create of pod {name} got no answer and the pod has not started; if it does, it runs until deleted: "
                      f"once its --timeout has passed, the next `{suggest('serverless', 'warm', 'NAME', '--cpu', flags=flags)}` in this account deletes it, "
                      f"or find the pod named {name} in the RunPod console (Pods) and delete it")
        raise


def delete_pod(provider: Provider, pod_id: str) -> None:
    try:
        provider.delete_pod(pod_id)
    except ProviderError as exc:
        raise PodLeft(f"could not delete the warm-up pod {pod_id}; it may still be running and costing money",
                      detail=exc.summary, hint=f"delete pod {pod_id} in the RunPod console (Pods), or with DELETE /v2/pods/{pod_id}") from None


def _event(line: str) -> dict | None:
    """The downloader's event on this output line, or None for any other output."""
    if not line.startswith(PREFIX):
        return None
    _, event = json_in(line[len(PREFIX):])
    return event if isinstance(event, dict) and "event" in event else None


class PodWatch:
    """Reads the downloader's events from the pod's output until `done`, and polls the pod for
    its status and its cost per hour (the v2 Pod `cost` field, USD/h, 0 once it has exited)."""

    def __init__(self, provider: Provider, pod: dict, view: Any, clock: Callable[[], float]):
        self.provider, self.pod_id, self.view, self.clock = provider, pod["id"], view, clock
        self.rate = float(pod.get("cost") or 0.0)
        self.exited_at: float | None = None
        self.next_poll = clock() + POLL_S
        self.output: list[str] = []

    def until_done(self, deadline: float, timeout: float) -> dict:
        with PodLog(self.provider, self.pod_id) as log:
            while True:
                for line in log.take(0.25):
                    done = self._line(line)
                    if done:
                        return done
                self._check(deadline, timeout)

    def _line(self, line: str) -> dict | None:
        event = _event(line)
        if event is None:
            self.output = (self.output + [line])[-20:]
            self.view.output(line)
            return None
        self.view.event(event)
        if event["event"] == "error":
            raise DownloadFailed(f"the download failed: {event.get('model')}: {event.get('message')}",
                                 hint="check the model id and revision; a gated or private model needs HF_TOKEN exported before running gpu")
        return event if event["event"] == "done" else None

    def _check(self, deadline: float, timeout: float) -> None:
        now = self.clock()
        if now >= deadline:
            raise WarmTimeout(f"the warm-up did not finish within {in_seconds(timeout)}", hint="raise --timeout; files already in the volume are not downloaded again")
        if self.exited_at is not None and now - self.exited_at > EXIT_GRACE_S:
            raise DownloadFailed(f"the warm-up pod {self.pod_id} stopped before the download finished",
                                 detail="\n".join(self.output[-10:]) or None, hint="its output is above; check the image has python3")
        if now >= self.next_poll:
            self._poll(now)

    def _poll(self, now: float) -> None:
        pod = self.provider.get_pod(self.pod_id)
        self.rate = max(self.rate, float(pod.get("cost") or 0.0))
        if pod.get("status") in GONE and self.exited_at is None:
            self.exited_at = now
        status = str(pod.get("status", "?")).lower()
        self.view.status(f"pod {self.pod_id}: {status}" + (", downloading" if status == "running" else ""))
        self.next_poll = now + POLL_S


def warm_volume(provider: Provider, endpoint: dict, volume_id: str, models: ModelList, deadline: float, timeout: float,
                view: Any, environ: dict, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                flags: Flags = NONE) -> dict:
    """One pod for one volume, always deleted; returns what it did and cost. A signal held
    during the create is raised inside the `try`, once `pod` is known, so it is deleted too."""
    volume = provider.get_volume(volume_id)
    body = pod_body(provider.name, endpoint, volume, models, environ, until=time.time() + max(deadline - clock(), 0.0))
    for note in hub_notes(endpoint, environ):
        view.note(note)
    view.status(f"creating a CPU pod in {data_center(volume)} with volume {volume.get('name', volume_id)} mounted")
    pod, started, watch = None, clock(), None
    try:
        with held():
            pod = create_pod(provider, body)
        if pod is None:  # outside held(): Ctrl-C ends the watch
            pod = await_pod(provider, body["name"], deadline, timeout, view, clock, sleep, flags)
        watch = PodWatch(provider, pod, view, clock)
        view.status(f"pod {pod['id']}: starting, downloading {counted(len(models.refs), 'model')}")
        done = watch.until_done(deadline, timeout)
    finally:
        seconds = clock() - started
        if pod is not None:
            remove(provider, pod["id"], view, seconds, watch.rate if watch else 0.0)
    return {"volume": {"id": volume["id"], "name": volume.get("name"), "dataCenter": data_center(volume)}, "pod_id": pod["id"],
            "seconds": round(seconds, 1), "cost_per_hour": watch.rate, "cost": round(watch.rate * seconds / 3600, 6),
            "files": done.get("files", 0), "bytes": done.get("bytes", 0)}


def remove(provider: Provider, pod_id: str, view: Any, seconds: float, rate: float) -> None:
    """Delete the pod and say what it cost: on every path out, so also after a failure."""
    view.status(f"deleting pod {pod_id}")
    with held():
        delete_pod(provider, pod_id)
        view.note(cost_line(pod_id, seconds, rate, provider.name))


def warm_cpu(provider: Provider, endpoint: dict, models: ModelList, timeout: float, view: Any, environ: dict,
             clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep, flags: Flags = NONE) -> dict:
    """One pod per attached volume, in turn: RunPod gives each worker the volume of its data
    center and never syncs them (api-notes §8.2), so each needs its own copy."""
    deadline = clock() + timeout
    pods = [warm_volume(provider, endpoint, v, models, deadline, timeout, view, environ, clock, sleep, flags) for v in volume_ids(endpoint)]
    return {"models": list(models.refs), "models_from": models.source, "pods": pods,
            "seconds": round(sum(p["seconds"] for p in pods), 1), "cost": round(sum(p["cost"] for p in pods), 6)}


def cost_line(pod_id: str, seconds: float, rate: float, provider_name: str) -> str:
    free = " (the local provider charges nothing)" if provider_name == "local" else ""
    return f"deleted pod {pod_id} after {seconds:.1f} s; cost ${rate * seconds / 3600:.4f} at ${rate:.3f}/h{free}"
