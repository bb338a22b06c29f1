"""RunPod REST v2 (control plane) and the serverless job API, speaking domain types.

The same class serves the embedded local provider: it is RunPod-compatible, so only the base
URLs and the key differ.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from gpuctl.interrupts import TICK_S, abandon
from gpuctl.jobs import check_body_size
from gpuctl.model import Observed
from gpuctl.provider.errors import AmbiguousWrite, NotFound, ProviderError, ServerError
from gpuctl.provider.graphql import GraphQL
from gpuctl.provider.http import ApiClient, path

RUNSYNC_HOLD_S = 90.0  # how long /runsync holds without ?wait= (api-notes §5)
STREAM_HOLD_S = 10.0  # an empty /stream poll is held a few seconds (the SDK reads it with a 10 s timeout)


def _at_once(calls: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """{key: calls[key]()} with the calls run at once, each on a daemon thread; the first call's
    error (in `calls` order) is raised. An interrupt (Ctrl-C, SIGTERM) while they run is raised
    at once: these are reads, safe to abandon, and a thread pool made it wait for the slowest
    one (up to the client's timeout and its retries, minutes against a hung API) before gpu
    could release its lease, say what it had applied and stop."""
    results: dict[str, Any] = {}
    errors: dict[str, BaseException] = {}

    def run(key: str, call: Callable[[], Any]) -> None:
        try:
            results[key] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            errors[key] = exc

    threads = [threading.Thread(target=run, args=item, name=f"read {item[0]}", daemon=True) for item in calls.items()]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(TICK_S)  # a tick at a time, so an interrupt is handled while the reads run
    except BaseException:
        abandon(*threads)  # not waited for: a read still running sends nothing more (ADR 20)
        raise
    for key in calls:
        if key in errors:
            raise errors[key]
    return results


def _object(client: ApiClient, method: str, route: str, **kwargs: Any) -> dict:
    """The JSON object `client.request(method, route, ...)` answers with. An empty body or
    another JSON value (`[]`, `null`) in a success came from something that is not RunPod's API
    or was cut short: a provider error, as a body that is not JSON is (`http._json_checked`),
    never an AttributeError or KeyError in whichever caller reads it."""
    response = client.request(method, route, **kwargs)
    body = response.json() if response.content.strip() else None
    if isinstance(body, dict):
        return body
    what = "an empty body" if body is None and not response.content.strip() else f"JSON that is not an object ({type(body).__name__})"
    _misshapen(client, method, route, response.status_code, what, write=kwargs.get("write", method == "POST"))


def _listed(client: ApiClient, key: str, method: str, route: str, **kwargs: Any) -> list[dict]:
    """The objects of a list answer `{key: [...]}`: each an object with a string "id", or a
    provider error naming what is wrong (an observed resource without an id could be neither
    matched nor changed), and each with the fields gpuctl reads into of the shape it reads
    (`_fields_fit`)."""
    body = _object(client, method, route, **kwargs)
    items = body.get(key, [])
    if not isinstance(items, list):
        _misshapen(client, method, route, 200, f'"{key}" that is not a list', write=False)
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            _misshapen(client, method, route, 200, f'"{key}"[{index}] with no string "id"', write=False)
        _fields_fit(client, method, route, key, item)
    return items


# The fields of an answer that gpuctl reads into (their keys, their items), with the JSON shape
# it reads them as, per list key: RunPod REST v2's shape (openapi-v2 `Endpoint`, `Template`).
# Null or left out is "none" to every reader. A field of another shape (an env answered as
# GraphQL's `[{"key", "value"}]`) is an error naming the object, the field and what came back
# (reliability R18), never an AttributeError in whichever reader meets it first: the planner,
# drift, doctor's plan check, pull, status. A scalar of another type is not refused here: its
# readers take it as unknown (a worker count that is not one shows "?").
_OBJECT, _TEXTS, _OBJECTS = "an object", "a list of strings", "a list of objects"
ANSWER_SHAPES: dict[str, dict[str, str]] = {
    "endpoints": {"env": _OBJECT, "gpu": _OBJECT, "workers": _OBJECT, "scaling": _OBJECT, "cpu": _OBJECTS,
                  "gpu.pools": _TEXTS, "gpu.excludedTypes": _TEXTS, "gpu.allowedCudaVersions": _TEXTS,
                  "dataCenterIds": _TEXTS, "networkVolumes": _TEXTS, "ports": _TEXTS},
    "templates": {"env": _OBJECT},
}
_FITS = {_OBJECT: lambda v: isinstance(v, dict), _TEXTS: lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
         _OBJECTS: lambda v: isinstance(v, list) and all(isinstance(i, dict) for i in v)}
_NOUNS = {"endpoints": "endpoint", "templates": "template"}


def _kind(value: Any) -> str:
    """What a JSON value is, in words, never the value (an env's values may be secrets)."""
    if isinstance(value, list):
        items = {_KINDS.get(type(i), ("", "other values"))[1] for i in value}
        mixed = len(items) > 1
        return "an empty list" if not items else "a list of mixed values" if mixed else f"a list of {items.pop()}"
    return _KINDS.get(type(value), (type(value).__name__,))[0]


_KINDS = {dict: ("an object", "objects"), list: ("a list", "lists"), str: ("a string", "strings"), bool: ("true/false", "true/false values"),
          int: ("a number", "numbers"), float: ("a number", "numbers"), type(None): ("null", "nulls")}


def _fields_fit(client: ApiClient, method: str, route: str, key: str, item: dict) -> None:
    """A provider error for the first field of `item` (an object of list `key`) that
    ANSWER_SHAPES holds to a shape it does not have."""
    for field, shape in ANSWER_SHAPES.get(key, {}).items():
        head, _, member = field.partition(".")
        value = item.get(head)
        if member:  # a member of an object held to its own shape above, when it is one
            value = value.get(member) if isinstance(value, dict) else None
        if value is None or _FITS[shape](value):
            continue
        noun, name = _NOUNS.get(key, key), item.get("name")
        named = f"{noun} {json.dumps(name, ensure_ascii=False)} ({item['id']})" if isinstance(name, str) else f"{noun} {item['id']}"
        who = client.provider
        graphql = field == "env" and isinstance(value, list)  # RunPod's GraphQL (and v1) spell env [{"key", "value"}]
        hint = (('[{"key", "value"}] is the GraphQL shape of env; RunPod\'s REST v2 answers an object {"NAME": "value"}. ' if graphql else "")
                + f"gpuctl reads {field} as {shape}, as RunPod's API document says: `{who.commands()['doctor']}` checks every answer "
                  f"of {who.name} against it; file a gpuctl issue with its report")
        _misshapen(client, method, route, 200, f"{named} whose {field} is {_kind(value)}, not {shape}", write=False, hint=hint)


def _misshapen(client: ApiClient, method: str, route: str, status: int, what: str, write: bool, hint: str | None = None):
    who = client.provider
    error = AmbiguousWrite if write else ServerError
    raise error(f"{method} {route}: answered {status} with {what}", status=status, provider=who,
                detail="the write may have been carried out" if write else None,
                hint=hint or f"something between gpuctl and {who.name} (a proxy, a captive portal) may have answered, or the answer was cut short; "
                             f"check the network and {who.address}, then run the command again")


@dataclass
class RunPodProvider:
    name: str
    control: ApiClient  # https://api.runpod.io: /v2/serverless, /v2/network-volumes, /graphql
    jobs: ApiClient  # https://api.runpod.ai/v2: /{endpoint_id}/run, /runsync, /health, ...
    graphql: GraphQL
    # The account's secrets, for a provider that can tell (the local one): each name, with None
    # or the verdict on a damaged one (Observed.secrets); the plan then says which referenced
    # secret is missing or damaged (docs/adr/0032-local-secrets.md).
    secrets: Callable[[], Mapping[str, str | None]] | None = None

    def close(self) -> None:
        self.control.close()
        self.jobs.close()

    def on_pause(self, callback: Callable[[float, str], None] | None) -> None:
        """Tell `callback(seconds, why)` whenever a rate-limit pause of every request begins
        (None: nobody), so a long wait is shown as one (gpuctl.provider.pacing)."""
        self.control.pacer.on_pause = self.jobs.pacer.on_pause = callback

    # -- observed state: one list call per kind, concurrently ---------------------------------

    def observe(self, model_references: bool = False, registries: bool = False, pods: bool = False) -> Observed:
        """The account, one list call per kind at once. `registries`: also the container registry
        credentials (a block declares `runpod.registry_auth`); `pods`: also the pods (a block
        declares a network volume; a failed listing is said, `Observed.pods_unread`, not raised:
        a key without pod access still plans); otherwise they are not read."""
        calls = {"endpoints": self.list_endpoints, "networkVolumes": self.list_volumes, "templates": self.list_templates}
        if pods:
            calls["pods"] = self._pods_or_why
        if model_references:
            calls["modelReferences"] = self.graphql.model_references
        if registries:
            calls["registries"] = self.list_registries
        found = _at_once(calls)
        refs = found.get("modelReferences", {})
        endpoints = tuple({**e, "modelReferences": refs[e["id"]]} if e.get("id") in refs and refs[e["id"]] else e for e in found["endpoints"])
        secrets = self.secrets() if self.secrets is not None else None
        listed = tuple(found["registries"]) if registries else None
        pod_list = found.get("pods")
        return Observed(endpoints, tuple(found["networkVolumes"]), tuple(found["templates"]), secrets, listed,
                        tuple(pod_list) if isinstance(pod_list, list) else None, pod_list if isinstance(pod_list, str) else None,
                        time.time() if isinstance(pod_list, list) else None)

    def _pods_or_why(self) -> list[dict] | str:
        """The account's pods, or why they could not be listed."""
        try:
            return self.list_pods()
        except ProviderError as exc:
            return exc.summary

    def list_endpoints(self) -> list[dict]:
        return _listed(self.control, "endpoints", "GET", "/v2/serverless")

    def list_volumes(self) -> list[dict]:
        return _listed(self.control, "networkVolumes", "GET", "/v2/network-volumes")

    def list_templates(self) -> list[dict]:
        return _listed(self.control, "templates", "GET", "/v2/templates")

    def list_registries(self) -> list[dict]:
        """The account's container registry credentials, `{id, name}` each: RunPod never answers
        with the username or password."""
        return _listed(self.control, "registries", "GET", "/v2/registries")

    # -- endpoints ------------------------------------------------------------------------------

    def get_endpoint(self, endpoint_id: str) -> dict:
        route = path("/v2/serverless/{endpoint}", endpoint=endpoint_id)
        found = _object(self.control, "GET", route)
        if isinstance(found.get("id"), str):  # one without an id is read as a missing one, by whoever asked
            _fields_fit(self.control, "GET", route, "endpoints", found)
        return found

    def create_endpoint(self, body: dict) -> dict:
        return _object(self.control, "POST", "/v2/serverless", json=body)

    def update_endpoint(self, endpoint_id: str, patch: dict) -> dict:
        return _object(self.control, "PATCH", path("/v2/serverless/{endpoint}", endpoint=endpoint_id), json=patch)

    def delete_endpoint(self, endpoint_id: str) -> bool:
        """True when deleted now, False when it was already gone."""
        return self._delete(path("/v2/serverless/{endpoint}", endpoint=endpoint_id))

    def set_model_references(self, endpoint_id: str, references: list[str]) -> list[str]:
        return self.graphql.set_model_references(endpoint_id, references)

    def workers(self, endpoint_id: str) -> dict:
        return _object(self.control, "GET", path("/v2/serverless/{endpoint}/workers", endpoint=endpoint_id))

    def releases(self, endpoint_id: str) -> dict:
        return _object(self.control, "GET", path("/v2/serverless/{endpoint}/releases", endpoint=endpoint_id))

    def worker_logs(self, endpoint_id: str, worker_id: str, *, follow: bool = False, since: str | None = None, tail: int | None = None) -> Iterator[dict]:
        """Log records `{ts, source, line}` of one worker (RunPod v2's SSE log stream). Without
        `follow` the stream ends after a quiet second."""
        params = {k: v for k, v in (("since", since), ("tail", tail)) if v is not None}
        return self.control.events(path("/v2/serverless/{endpoint}/workers/{worker}/logs", endpoint=endpoint_id, worker=worker_id), params, read_timeout=None if follow else 1.0)

    # -- pods (the CPU pre-warm pod) -------------------------------------------------------------

    def create_pod(self, body: dict) -> dict:
        return _object(self.control, "POST", "/v2/pods", json=body)

    def list_pods(self) -> list[dict]:
        return _listed(self.control, "pods", "GET", "/v2/pods")

    def get_pod(self, pod_id: str) -> dict:
        return _object(self.control, "GET", path("/v2/pods/{pod}", pod=pod_id))

    def delete_pod(self, pod_id: str) -> bool:
        return self._delete(path("/v2/pods/{pod}", pod=pod_id))

    def pod_logs(self, pod_id: str, *, follow: bool = False) -> Iterator[dict]:
        return self.control.events(path("/v2/pods/{pod}/logs", pod=pod_id), None, read_timeout=None if follow else 1.0)

    # -- network volumes and templates ----------------------------------------------------------

    def get_volume(self, volume_id: str) -> dict:
        return _object(self.control, "GET", path("/v2/network-volumes/{volume}", volume=volume_id))

    def create_volume(self, body: dict) -> dict:
        return _object(self.control, "POST", "/v2/network-volumes", json=body)

    def update_volume(self, volume_id: str, patch: dict) -> dict:
        return _object(self.control, "PATCH", path("/v2/network-volumes/{volume}", volume=volume_id), json=patch)

    def create_template(self, body: dict) -> dict:
        return _object(self.control, "POST", "/v2/templates", json=body)

    def update_template(self, template_id: str, patch: dict) -> dict:
        return _object(self.control, "PATCH", path("/v2/templates/{template}", template=template_id), json=patch)

    def delete_template(self, template_id: str) -> bool:
        return self._delete(path("/v2/templates/{template}", template=template_id))

    def _delete(self, url: str) -> bool:
        """DELETE `url`: True when it was deleted now, False when it was already gone (404)."""
        try:
            self.control.request("DELETE", url)
        except NotFound:
            return False
        return True

    # -- the job API ----------------------------------------------------------------------------

    def health(self, endpoint_id: str) -> dict:
        return _object(self.jobs, "GET", path("/{endpoint}/health", endpoint=endpoint_id))

    def run(self, endpoint_id: str, payload: dict) -> dict:
        check_body_size("run", payload)
        return _object(self.jobs, "POST", path("/{endpoint}/run", endpoint=endpoint_id), json=payload)

    def runsync(self, endpoint_id: str, payload: dict, wait_ms: int | None = None) -> dict:
        check_body_size("runsync", payload)
        params = {"wait": wait_ms} if wait_ms else None
        hold = wait_ms / 1000 if wait_ms else RUNSYNC_HOLD_S
        return _object(self.jobs, "POST", path("/{endpoint}/runsync", endpoint=endpoint_id), json=payload, params=params, hold=hold)

    def status(self, endpoint_id: str, job_id: str) -> dict:
        return _object(self.jobs, "GET", path("/{endpoint}/status/{job}", endpoint=endpoint_id, job=job_id))

    def stream(self, endpoint_id: str, job_id: str) -> dict:
        return _object(self.jobs, "GET", path("/{endpoint}/stream/{job}", endpoint=endpoint_id, job=job_id), hold=STREAM_HOLD_S)

    def cancel(self, endpoint_id: str, job_id: str) -> dict:
        return _object(self.jobs, "POST", path("/{endpoint}/cancel/{job}", endpoint=endpoint_id, job=job_id))

    def retry(self, endpoint_id: str, job_id: str) -> dict:
        return _object(self.jobs, "POST", path("/{endpoint}/retry/{job}", endpoint=endpoint_id, job=job_id))

    def openai(self, endpoint_id: str, route: str, body: dict) -> dict:
        """POST an OpenAI-shaped request to a vLLM endpoint's `/openai/v1/...` route (`route`
        is "openai/v1/chat/completions" or "openai/v1/completions")."""
        return _object(self.jobs, "POST", path("/{endpoint}/", endpoint=endpoint_id) + route, json=body, write=False)

    def template_users(self) -> dict[str, list[dict]]:
        """{template id: [endpoints bound to it]} from GraphQL: REST v2 endpoints keep an inline
        copy and do not say which template they came from."""
        return self.graphql.template_users()

    def request_url(self, endpoint_id: str, route: str = "runsync") -> str:
        return self.jobs.base_url + path(f"/{{endpoint}}/{route}", endpoint=endpoint_id)

