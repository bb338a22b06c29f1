"""`gpu serverless warm` as a user runs it, against the local provider over loopback (issue 5,
item 3). A tiny Hugging Face hub is served from the test on 127.0.0.1; HF_ENDPOINT in gpu's
environment points the warm-up pod at it."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gpuctl.local.datadir import reaper
from tests.e2e.conftest import ECHO_HANDLER, echo_config, project
from tests.support.wait import DEADLINE_S, until

REPO = "tiny-org/tiny-model"
FILES = {"config.json": b'{"model_type": "tiny"}\n', "tokenizer.json": b'{"version": "1.0"}\n', "weights/model.bin": bytes(range(256)) * 64}
SHA = hashlib.sha1(b"tiny-model@main").hexdigest()


@dataclass
class FakeHub:
    """`GET /api/models/{repo}/revision/{rev}` and `GET /{repo}/resolve/{rev}/{file}`. A file in
    `slow` trickles out for up to a minute, until the client goes away (`slow_cut` is set then:
    the download was cut off mid-file) or the test ends. While `missing` is set the hub answers
    404 for every model, as for a repo it lacks."""

    url: str = ""
    missing: bool = False
    slow: set[str] = field(default_factory=set)
    slow_started: threading.Event = field(default_factory=threading.Event)
    slow_cut: threading.Event = field(default_factory=threading.Event)
    closing: threading.Event = field(default_factory=threading.Event)
    requests: list[str] = field(default_factory=list)

    def handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                hub.requests.append(self.path)
                if self.path == f"/api/models/{REPO}/revision/main" and not hub.missing:
                    return self.send(json.dumps({"sha": SHA, "siblings": [{"rfilename": n} for n in FILES]}).encode())
                prefix = f"/{REPO}/resolve/{SHA}/"
                name = self.path[len(prefix):] if self.path.startswith(prefix) else None
                if name not in FILES:
                    return self.send(b'{"error": "not found"}', 404)
                self.send(FILES[name], slow=name in hub.slow)

            def send(self, body: bytes, status: int = 200, slow: bool = False) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not slow:
                    self.wfile.write(body)
                    return
                hub.slow_started.set()
                for i in range(600):
                    if hub.closing.is_set():
                        return
                    try:
                        self.wfile.write(body[i:i + 1])
                        self.wfile.flush()
                    except OSError:  # the pod went away mid-file
                        hub.slow_cut.set()
                        return
                    time.sleep(0.1)  # the hub's pace, not a wait of the test's

        return Handler


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    fake = FakeHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), fake.handler())
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.closing.set()
    server.shutdown()
    server.server_close()


def deployed(account, tmp_path: Path, volume: str | None = "models", models: list[str] | None = None, **scaling) -> Path:
    config = echo_config(volume=volume, **scaling)
    if models is not None:
        config["serverless"]["prewarm"] = {"models": models}
    proj = project(tmp_path / "p", config, {"handler.py": ECHO_HANDLER})
    result = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert result.code == 0, result.err
    return proj


def seeded(account, tmp_path: Path, volume: bool, model: str | None = None) -> Path:
    """An endpoint "echo" made through REST v2 directly (no deploy, no gpu.jsonc), with
    `model` as its MODEL_NAME: an endpoint no project declares, and quicker than a deploy."""
    fields: dict = {"env": {"MODEL_NAME": model}} if model else {}
    if volume:
        created = account.server.http.post("/v2/network-volumes", json={"name": "models", "size": 10, "dataCenter": "EU-RO-1"})
        fields |= {"networkVolumes": [created.json()["id"]], "dataCenterIds": ["EU-RO-1"]}
    account.server.create_endpoint("echo", worker=None, **fields)
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    return cwd


def snapshot_dir(account) -> Path:
    (volume,) = account.volumes()
    return account.server.data_dir / "volumes" / volume["id"] / "huggingface-cache" / "hub" / "models--tiny-org--tiny-model"


def nothing_left(account) -> None:
    """No pod in the account, and (by the OS, not the server's word) no process of one."""
    assert account.server.http.get("/v2/pods").json()["pods"] == []
    until(lambda: not [p for p in reaper.marked_processes(account.server.data_dir.resolve()) if reaper.alive(p)],
          "every process the pods and workers started to exit")


def test_cpu_warm_fills_the_volume_in_the_hf_cache_layout_and_leaves_no_pod(account, hub, tmp_path):
    proj = deployed(account, tmp_path, models=[REPO])
    result = account.gpu("serverless", "warm", "echo", "--cpu", "--json", cwd=proj, env={"HF_ENDPOINT": hub.url}, timeout=60)
    assert result.code == 0, result.err
    doc = result.json()
    assert doc["mode"] == "cpu" and doc["models"] == [REPO] and doc["models_from"] == "gpu.jsonc prewarm.models"
    assert doc["record"] == f"gpuctl-prewarm-{doc['endpoint']['id']}"
    assert doc["pods"][0]["files"] == 3 and doc["pods"][0]["bytes"] == sum(len(b) for b in FILES.values()) and doc["cost"] == 0
    base = snapshot_dir(account)
    assert {n: (base / "snapshots" / SHA / n).read_bytes() for n in FILES} == FILES
    assert (base / "refs" / "main").read_text() == SHA
    assert "deleted pod" in result.err and "cost $0.0000" in result.err
    nothing_left(account)

    hub.requests.clear()
    again = account.gpu("serverless", "warm", "echo", "--cpu", cwd=proj, env={"HF_ENDPOINT": hub.url}, timeout=60)
    assert again.code == 0, again.err
    assert not [p for p in hub.requests if "/resolve/" in p], "a second run downloaded again"
    assert "already in the volume" in again.err and "models are in its network volume" in again.out and "cost: $0.0000" in again.out
    nothing_left(account)


def test_model_name_is_the_fallback_and_a_hub_error_fails_cleanly(account, hub, tmp_path):
    cwd = seeded(account, tmp_path, volume=True, model="tiny-org/missing")
    result = account.gpu("serverless", "warm", "echo", "--cpu", cwd=cwd, env={"HF_ENDPOINT": hub.url}, timeout=60)
    assert result.code == 1 and "tiny-org/missing" in result.err and "HTTP 404" in result.err
    assert "Traceback" not in result.err and "deleted pod" in result.err
    nothing_left(account)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupted_cpu_warm_deletes_the_pod(account, hub, tmp_path, signum):
    """Ctrl-C and SIGTERM mid-download: exit 130, the pod is deleted, nothing is left."""
    cwd = seeded(account, tmp_path, volume=True, model=REPO)
    hub.slow.add("weights/model.bin")
    process = account.popen("serverless", "warm", "echo", "--cpu", cwd=cwd, env={"HF_ENDPOINT": hub.url})
    try:
        assert hub.slow_started.wait(DEADLINE_S), "the pod never reached the slow file"
        assert len(account.server.http.get("/v2/pods").json()["pods"]) == 1
        process.send_signal(signum)
        _, err = process.communicate(timeout=DEADLINE_S)
    finally:
        process.kill()
    assert process.returncode == 130 and "interrupted" in err and "deleted pod" in err, err
    assert hub.slow_cut.wait(DEADLINE_S), "the download was not cut off: the pod outlived the interrupt"
    assert not (snapshot_dir(account) / "snapshots" / SHA / "weights" / "model.bin").exists()
    nothing_left(account)


def test_timed_out_cpu_warm_deletes_the_pod(account, hub, tmp_path):
    """The slow file would take a minute: the 2 s timeout ends the warm-up first, and the hub
    sees its download cut off mid-file when the pod is deleted."""
    cwd = seeded(account, tmp_path, volume=True, model=REPO)
    hub.slow.add("weights/model.bin")
    result = account.gpu("serverless", "warm", "echo", "--cpu", "--timeout", "2", cwd=cwd, env={"HF_ENDPOINT": hub.url}, timeout=60)
    assert result.code == 1 and "did not finish within 2 s" in result.err and "--timeout" in result.err, result.err
    assert "deleted pod" in result.err and hub.slow_started.is_set()
    assert hub.slow_cut.wait(DEADLINE_S), "the download was not cut off: the pod outlived the timeout"
    nothing_left(account)


def test_gpu_warm_returns_after_a_worker_ran_the_job(account, tmp_path):
    """A worker is left running (warm): the idle timeout is long enough that it cannot have
    scaled away before the test looks, however slow the machine."""
    proj = deployed(account, tmp_path, volume=None, idle_timeout=300)
    result = account.gpu("serverless", "warm", "echo", "--json", cwd=proj, timeout=90)
    assert result.code == 0, result.err
    doc = result.json()
    endpoint_id = doc["endpoint"]["id"]
    assert doc["mode"] == "gpu" and doc["job"]["status"] == "COMPLETED" and doc["handler_error"] is None
    assert account.server.worker_pids(endpoint_id), "no worker process right after the warm-up"
    assert account.server.job(endpoint_id, "health", method="GET").json()["jobs"]["completed"] == 1
    assert account.server.job(endpoint_id, f"status/{doc['job']['id']}", method="GET").json()["workerId"] == doc["job"]["workerId"]


def test_gpu_warm_with_a_handler_that_rejects_the_input_still_warms(account, tmp_path):
    strict = ECHO_HANDLER.replace('prompt = job["input"].get("prompt", "")', 'prompt = job["input"]["prompt"]')
    proj = project(tmp_path / "p", echo_config(), {"handler.py": strict})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    result = account.gpu("serverless", "warm", "echo", "--gpu", cwd=proj, timeout=90)
    assert result.code == 0, result.err
    assert "is warm" in result.out and "handler rejected its input" in result.out and "'prompt'" in result.out


def test_gpu_warm_timeout_cancels_the_job(account, tmp_path):
    """A worker that never takes a job: --timeout ends the wait, exits 1, and cancels the job."""
    stuck = json.dumps([sys.executable, "-c", "import threading; threading.Event().wait()"])  # never serves, however long the test takes
    endpoint = account.server.create_endpoint("echo", worker=None, env={"GPUCTL_LOCAL_COMMAND": stuck})
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    result = account.gpu("serverless", "warm", "echo", "--timeout", "0.5", cwd=cwd, timeout=60)
    assert result.code == 1 and "no worker ran the warm-up job within 0.5 s" in result.err, result.err  # it said "within 0 s"
    job_id = re.search(r"cancelled the warm-up job (\S+)", result.err).group(1)
    assert account.server.job(endpoint["id"], f"status/{job_id}", method="GET").json()["status"] == "CANCELLED"


def test_gpu_warm_of_a_job_no_worker_took_is_not_warm(account, tmp_path):
    """The local provider fails a job at once when the endpoint has no local runtime: FAILED
    without a workerId is an error that passes the reason on, not a warm endpoint."""
    cwd = seeded(account, tmp_path, volume=False)
    result = account.gpu("serverless", "warm", "echo", cwd=cwd, timeout=60)
    assert result.code == 1 and "without a worker running it" in result.err and "local.command" in result.err, result.err


def test_cpu_without_a_volume_is_an_error_with_a_hint(account, tmp_path):
    cwd = seeded(account, tmp_path, volume=False)
    writes = account.writes()
    result = account.gpu("serverless", "warm", "echo", "--cpu", cwd=cwd)
    assert result.code == 1 and "has no network volume" in result.err and "hint: use --gpu" in result.err
    assert account.writes() == writes


def test_unknown_endpoint_is_an_error_with_a_hint(account, tmp_path):
    cwd = seeded(account, tmp_path, volume=False)
    result = account.gpu("serverless", "warm", "ehco", cwd=cwd)
    assert result.code == 1 and 'no endpoint named or with id "ehco"' in result.err and "echo" in result.err
    assert "Traceback" not in result.err


def test_without_any_model_the_error_says_where_models_come_from(account, tmp_path):
    """No gpu.jsonc, no MODEL_NAME, and GraphQL reports no cached model: nothing is created."""
    cwd = seeded(account, tmp_path, volume=True)
    writes = account.writes()
    result = account.gpu("serverless", "warm", "echo", "--cpu", cwd=cwd)
    assert result.code == 1 and "no models to download for endpoint echo" in result.err and "prewarm" in result.err
    assert account.writes() == writes and account.server.http.get("/v2/pods").json()["pods"] == []


# -- the parts without a server ---------------------------------------------------------------

@pytest.mark.parametrize(("endpoint", "configured", "cached", "expected"), [
    ({"env": {"MODEL_NAME": "a/env"}}, ["a/config"], "a/cached", (("a/config",), "gpu.jsonc prewarm.models")),
    ({"env": {"MODEL_NAME": "a/env", "MODEL_REVISION": "v2"}}, [], "a/cached", (("a/env:v2",), "the endpoint's MODEL_NAME")),
    ({"env": {}}, [], "a/cached:main", (("a/cached:main",), "gpu.jsonc runpod.cached_model")),
    ({"modelReferences": ["https://huggingface.co/a/live:main"]}, [], None, (("a/live:main",), "the endpoint's cached model")),
])
def test_model_list_precedence(endpoint, configured, cached, expected):
    from gpuctl.warm.models import choose_models

    chosen = choose_models(endpoint, configured, cached)
    assert (chosen.refs, chosen.source) == expected


def test_a_model_name_that_is_a_path_is_refused():
    from gpuctl.warm.errors import NoModels
    from gpuctl.warm.models import choose_models

    with pytest.raises(NoModels, match="not a Hugging Face repo id"):
        choose_models({"env": {"MODEL_NAME": "/runpod-volume/models/mine"}})


def test_the_pod_request_is_one_runpod_accepts():
    """The body sent to RunPod (not only the local provider's reading of it) validates against
    CreatePodRequest in RunPod's OpenAPI document, and carries no local-only env."""
    import jsonschema

    from gpuctl.prewarm import ModelList
    from gpuctl.warm.cpu import pod_body
    from tests.local.openapi import SPEC

    endpoint = {"id": "ep1", "env": {"HF_TOKEN": "{{ RUNPOD_SECRET_hf }}"}}
    body = pod_body("runpod", endpoint, {"id": "vol1", "dataCenter": "EU-RO-1"}, ModelList(("a/b",), "x"), {})
    schema = {"$ref": "#/components/schemas/CreatePodRequest", "components": SPEC["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)
    assert body["env"]["HF_TOKEN"] == "{{ RUNPOD_SECRET_hf }}" and "GPUCTL_LOCAL_COMMAND" not in body["env"]
    assert body["args"].startswith("python3 -c ") and body["mounts"]["network"] == [{"volumeId": "vol1", "path": "/runpod-volume"}]


def test_the_pod_a_pre_warm_creates_is_the_one_the_plan_takes_for_the_projects_own():
    """Review 10, R10-7: the plan exempts a pod from the shared-volume check only when it carries
    the project's marker and its deadline has not long passed; the pod body gpuctl's CPU pre-warm
    sends must carry that marker, or the project's own pre-warm would read as a stranger."""
    import time

    from gpuctl.prewarm import ModelList, own_warm_pod
    from gpuctl.warm.cpu import pod_body

    endpoint = {"id": "ep1", "env": {"GPUCTL_PROJECT": "proj"}}
    pod = pod_body("runpod", endpoint, {"id": "vol1", "dataCenter": "EU-RO-1"}, ModelList(("a/b",), "x"), {}, until=time.time() + 60)
    assert own_warm_pod(pod, "proj", {"ep1"}, time.time())
    assert not own_warm_pod(pod, "other", {"ep1"}, time.time()) and not own_warm_pod(pod, "proj", {"ep2"}, time.time())
    assert not own_warm_pod(pod, "proj", {"ep1"}, time.time() + 3600), "a pod its run gave up on an hour ago is anyone's"
    assert not own_warm_pod(pod | {"env": {}}, "proj", {"ep1"}, time.time()), "a pod merely named as a pre-warm"


def test_the_downloader_refuses_file_names_outside_the_snapshot(tmp_path):
    from gpuctl.warm.download import inside

    assert inside(str(tmp_path), "onnx/model.onnx") == str(tmp_path / "onnx" / "model.onnx")
    for name in ("../escape", "/etc/passwd", "a/../../escape"):
        with pytest.raises(ValueError, match="outside"):
            inside(str(tmp_path), name)


def test_deploy_prewarms_what_it_created_when_gpu_jsonc_asks(account, hub, tmp_path):
    """prewarm.enabled: deploy runs the warm step after a verified apply, only for endpoints
    it created or changed."""
    config = echo_config(volume="models")
    config["serverless"]["prewarm"] = {"enabled": True, "mode": "cpu", "models": [REPO]}
    proj = project(tmp_path / "p", config, {"handler.py": ECHO_HANDLER})
    result = account.gpu("serverless", "deploy", "--json", cwd=proj, env={"HF_ENDPOINT": hub.url})
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert doc["applied"] and len(doc["prewarm"]) == 1
    assert (snapshot_dir(account) / "snapshots" / SHA / "config.json").read_bytes() == FILES["config.json"]
    nothing_left(account)
    again = account.gpu("serverless", "deploy", "--json", cwd=proj, env={"HF_ENDPOINT": hub.url})
    assert again.code == 0 and json.loads(again.out)["prewarm"] == []  # nothing changed, warmed already: nothing to warm


# -- issue 8: a pre-warm never fails a deploy for nothing, and never fails silently -----------

FLUX = {"serverless": {"template": "comfyui", "gpu_type": "NVIDIA GeForce RTX 4090",
                       "scaling": {"min_workers": 0, "max_workers": 5, "idle_timeout": 10},
                       "volume": {"name": "comfyui-models", "size_gb": 200},
                       "prewarm": {"enabled": True, "mode": "cpu"}, "runpod": {"flashboot": True}}}


def records(account) -> list[dict]:
    return [t for t in account.server.http.get("/v2/templates").json()["templates"] if t["name"].startswith("gpuctl-prewarm-")]


def pods_created(account) -> int:
    return sum(r["method"] == "POST" and r["path"] == "/v2/pods" for r in account.requests())


def prewarm_config(**prewarm) -> dict:
    config = echo_config(volume="models")
    config["serverless"]["prewarm"] = {"enabled": True, "mode": "cpu", "models": [REPO]} | prewarm
    return config


def test_the_flux_recipe_deploys_and_its_plan_says_there_is_nothing_to_download(account, tmp_path):
    """The seed's ComfyUI-with-FLUX recipe (cpu pre-warm, no model anywhere) used to exit 1
    after a successful apply. Nothing to download is a plan-time warning, never a failure."""
    proj = project(tmp_path / "flux", FLUX)
    text = account.gpu("serverless", "deploy", "--plan", cwd=proj)
    markdown = account.gpu("serverless", "deploy", "--plan", "--format", "markdown", cwd=proj)
    document = account.gpu("serverless", "deploy", "--plan", "--format", "json", cwd=proj)
    assert text.code == markdown.code == document.code == 0, text.err + markdown.err + document.err
    (warning,) = [w for w in document.json()["warnings"] if w["code"] == "prewarm-nothing-to-download"]
    assert warning["address"] == "endpoint.flux" and "nothing to download" in warning["message"] and "prewarm.models" in warning["message"]
    assert warning["message"] in text.out and warning["message"] in markdown.out

    result = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert result.code == 0, result.err
    assert "Apply complete" in result.out and "skipped the pre-warm of flux" in result.err and "Traceback" not in result.err
    assert pods_created(account) == 0 and records(account) == []
    again = account.gpu("serverless", "deploy", "--plan", "--format", "json", cwd=proj).json()
    assert [w["code"] for w in again["warnings"] if w["code"].startswith("prewarm")] == ["prewarm-nothing-to-download"]


def test_a_failed_prewarm_fails_deploy_and_a_fresh_checkout_sees_it_was_never_warmed(account, hub, tmp_path):
    """A real pre-warm failure exits 1 with the hint to warm by hand, the --json result still
    comes out, and the failure is remembered in the account: a fresh copy of the project (no
    .gpu/) plans "never warmed", and the next deploy re-attempts the warm-up until it works."""
    hub.missing = True
    env = {"HF_ENDPOINT": hub.url}
    config = prewarm_config()
    checkout = tmp_path / "runner" / "app"
    first = account.gpu("serverless", "deploy", "--json", cwd=project(checkout, config, {"handler.py": ECHO_HANDLER}), env=env)
    assert first.code == 1, first.err
    doc = first.json()
    (failed,) = doc["prewarm"]
    assert doc["applied"] and failed["status"] == "failed" and "HTTP 404" in (failed["error"] + (failed["detail"] or ""))
    assert failed["retry"] == "gpu serverless warm echo --cpu"
    assert "the pre-warm of endpoint echo failed" in first.err and "gpu serverless warm echo --cpu" in first.err
    assert "Traceback" not in first.err and len(account.endpoints()) == 1 and records(account) == []
    nothing_left(account)

    assert (checkout / ".gpu").is_dir()
    shutil.rmtree(checkout)  # a fresh CI runner: the same checkout, nothing left from the last run
    fresh = project(checkout, config, {"handler.py": ECHO_HANDLER})
    plan = account.gpu("serverless", "deploy", "--plan", cwd=fresh)
    assert plan.code == 0 and "endpoint echo was never warmed" in plan.out and "deploy warms it" in plan.out, plan.out
    assert "No changes" in plan.out

    still_missing = account.gpu("serverless", "deploy", "-y", cwd=fresh, env=env)
    assert still_missing.code == 1 and "pre-warming echo" in still_missing.err and "gpu serverless warm echo --cpu" in still_missing.err
    assert "No changes were needed" in still_missing.out

    hub.missing = False
    fixed = account.gpu("serverless", "deploy", "-y", cwd=fresh, env=env)
    assert fixed.code == 0, fixed.err
    assert "pre-warming echo" in fixed.err and (snapshot_dir(account) / "refs" / "main").read_text() == SHA
    (record,) = records(account)
    assert record["name"] == f"gpuctl-prewarm-{account.endpoints()[0]['id']}" and record["env"]["GPUCTL_PROJECT"] == "e2e"
    after = account.gpu("serverless", "deploy", "--plan", cwd=fresh)
    assert after.code == 0 and "never warmed" not in after.out, after.out
    writes = account.writes()
    assert account.gpu("serverless", "deploy", "-y", cwd=fresh, env=env).code == 0 and account.writes() == writes


def test_a_successful_warm_command_is_recorded_and_a_gpu_warm_keeps_the_cpu_record(account, hub, tmp_path):
    """`gpu serverless warm` writes the record too; the two modes are recorded side by side."""
    proj = project(tmp_path / "p", prewarm_config(enabled=False), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    enabled = json.loads((proj / "gpu.jsonc").read_text())
    enabled["serverless"]["prewarm"]["enabled"] = True
    (proj / "gpu.jsonc").write_text(json.dumps(enabled))
    assert "never warmed" in account.gpu("serverless", "deploy", "--plan", cwd=proj).out

    cpu = account.gpu("serverless", "warm", "echo", "--cpu", cwd=proj, env={"HF_ENDPOINT": hub.url}, timeout=60)
    assert cpu.code == 0, cpu.err
    assert "never warmed" not in account.gpu("serverless", "deploy", "--plan", cwd=proj).out
    gpu = account.gpu("serverless", "warm", "echo", cwd=proj, timeout=90)
    assert gpu.code == 0, gpu.err
    (record,) = records(account)
    assert {"GPUCTL_PREWARM_CPU", "GPUCTL_PREWARM_GPU"} <= set(record["env"])
    assert "never warmed" not in account.gpu("serverless", "deploy", "--plan", cwd=proj).out


def test_warm_without_a_flag_is_gpu_warming_even_with_a_volume(account, tmp_path):
    """The seed: `warm NAME --cpu` is CPU warming and `warm NAME` is GPU warming. It used to
    pick CPU when the endpoint had a volume."""
    proj = deployed(account, tmp_path, volume="models", models=[REPO])
    result = account.gpu("serverless", "warm", "echo", "--json", cwd=proj, timeout=90)
    assert result.code == 0, result.err
    doc = result.json()
    assert doc["mode"] == "gpu" and doc["job"]["status"] == "COMPLETED" and "pods" not in doc
    assert pods_created(account) == 0


def test_a_deploy_that_recreates_an_endpoint_deletes_its_old_record(account, hub, tmp_path):
    """A record names an endpoint id; when that endpoint is gone, the next applying deploy of
    the project removes the record and warms (and records) the new endpoint."""
    env = {"HF_ENDPOINT": hub.url}
    proj = project(tmp_path / "p", prewarm_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env=env).code == 0
    (old,) = records(account)
    assert account.server.http.delete(f"/v2/serverless/{account.endpoints()[0]['id']}").status_code == 204
    result = account.gpu("serverless", "deploy", "-y", cwd=proj, env=env)
    assert result.code == 0, result.err
    (new,) = records(account)
    assert new["id"] != old["id"] and new["name"] == f"gpuctl-prewarm-{account.endpoints()[0]['id']}"
    assert f"deleted the pre-warm record {old['name']}" in result.err


def test_the_planner_never_imports_the_warm_or_provider_code():
    """The nothing-to-download and never-warmed checks are pure (gpuctl.prewarm): planning
    must not pull in what talks to an account."""
    import subprocess

    code = "import sys, gpuctl.plan; print(sorted(m for m in sys.modules if m.startswith(('gpuctl.warm', 'gpuctl.provider'))))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(("runpod", "prewarm", "expected"), [
    ({}, {}, "there is nothing to download"),
    ({"env": {"MODEL_NAME": "/runpod-volume/models/mine"}}, {}, "the endpoint's MODEL_NAME is not a Hugging Face repo id"),
    ({"env": {"MODEL_NAME": "${MODEL}"}}, {}, "the endpoint's MODEL_NAME is not a Hugging Face repo id"),
    ({"env": {"MODEL_NAME": "a/env"}}, {}, None),
    ({"cached_model": "a/cached"}, {}, None),
    ({}, {"models": ["a/config"]}, None),
    ({}, {"mode": "gpu"}, None),
], ids=["nothing", "path", "secret-path", "model-name", "cached-model", "models", "gpu-mode"])
def test_what_a_cpu_prewarm_cannot_download_is_decided_from_gpu_jsonc(runpod, prewarm, expected):
    """The planner's rule (gpuctl.prewarm), from the desired spec alone. A MODEL_NAME read from
    ${VAR} may be a secret, so the reason never quotes it."""
    from gpuctl.prewarm import cannot_download
    from tests.support.strategies import desired_from

    config = echo_config(volume="models")
    config["serverless"]["runpod"] |= runpod
    config["serverless"]["prewarm"] = {"enabled": True} | prewarm
    (spec,) = desired_from(config, {"MODEL": "/secret/canary-path-4242"}).endpoints
    reason = cannot_download(spec)
    assert reason == expected if expected is None else expected in reason
    assert "canary" not in (reason or "")


def test_an_endpoint_deleted_while_it_is_warmed_is_said_so(account, tmp_path):
    """The warm-up's next /status call answered 404: the error was that raw answer, naming
    neither the endpoint nor that it was deleted."""
    from tests.support.terminal import Output

    stuck = json.dumps([sys.executable, "-c", "import threading; threading.Event().wait()"])  # never serves, however long the test takes
    endpoint = account.server.create_endpoint("echo", worker=None, env={"GPUCTL_LOCAL_COMMAND": stuck})
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    warming = account.popen("serverless", "warm", "echo", cwd=cwd)
    err = Output.of_pipe(warming.stderr)
    err.wait_for("sending a warm-up job to echo")
    assert account.gpu("serverless", "delete", endpoint["id"], "--force", cwd=cwd).code == 0
    assert warming.wait(timeout=60) == 1
    said = err.rest()
    assert f"error: endpoint echo ({endpoint['id']}) was deleted while it was warmed" in said, said
    assert "Traceback" not in said


def test_warming_another_projects_endpoint_never_uses_this_gpu_jsonc_models(account, hub, tmp_path):
    """`warm echo` in a project whose echo is not deployed resolves another project's echo
    (by name, as every day-2 command does). It used to warm it with this gpu.jsonc's
    `prewarm.models`, downloading them into the other project's volume; that endpoint's own
    models decide now (here it has none)."""
    theirs = project(tmp_path / "theirs", echo_config(volume="models", project_id="theirs"), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=theirs).code == 0
    config = echo_config(volume="models", project_id="mine")
    config["serverless"]["prewarm"] = {"models": [REPO]}
    mine = project(tmp_path / "mine", config, {"handler.py": ECHO_HANDLER})
    writes = account.writes()
    result = account.gpu("serverless", "warm", "echo", "--cpu", cwd=mine, env={"HF_ENDPOINT": hub.url}, timeout=60)
    assert result.code == 1 and "no models to download for endpoint echo" in result.err, result.err
    assert account.writes() == writes and not hub.requests


def _pod_lookups(account) -> int:
    """Pod look-ups after the pod create was sent (the one before is the sweep of abandoned
    pods; the held create itself is logged only once it is answered): the volume is read
    just before the create."""
    log = account.requests()
    volume_read = max((i for i, r in enumerate(log) if r["path"].startswith("/v2/network-volumes/")), default=len(log))
    return sum(r["method"] == "GET" and r["path"] == "/v2/pods" for r in log[volume_read:])


# A request's answer timeout (GPU_HTTP_TIMEOUT): 30 s by default, 2 s here, so a held create is
# given up on in 2 s; the tests wait for what gpuctl does next, never for a time.
SHORT_HTTP_TIMEOUT = {"GPU_HTTP_TIMEOUT": "2"}


def test_a_pod_create_held_past_the_client_timeout_is_watched_for_then_used_and_deleted(account, hub, tmp_path):
    """The server holds the pod create past gpuctl's timeout (GPU_HTTP_TIMEOUT), before carrying it out. gpuctl
    used to look once, find nothing and fail, and the held create then started a pod nobody
    deleted. Now it sends nothing again and watches for the pod by its name: the test lets the
    create go once gpuctl is looking, and the pod that starts is used and deleted."""
    cwd = seeded(account, tmp_path, volume=True, model=REPO)
    account.faults({"op": "create", "kind": "pod", "action": "hang", "seconds": 3600})
    process = account.popen("serverless", "warm", "echo", "--cpu", cwd=cwd, env={"HF_ENDPOINT": hub.url} | SHORT_HTTP_TIMEOUT)
    try:
        until(lambda: _pod_lookups(account), "gpu to give up on the answer and look the pod up")
        assert account.server.http.get("/v2/pods").json()["pods"] == []  # the held create has not been carried out yet
        account.clear_faults()  # it goes on now, as a slow server's would
        _, err = process.communicate(timeout=DEADLINE_S)
    finally:
        account.clear_faults()
        process.kill()
    assert process.returncode == 0, err
    assert "no answer" in err and "it started" in err and "deleted pod" in err and "Traceback" not in err, err
    assert pods_created(account) == 1
    assert (snapshot_dir(account) / "refs" / "main").read_text() == SHA
    nothing_left(account)


def test_a_pod_create_held_past_the_warm_timeout_is_swept_by_the_next_cpu_warm(account, hub, tmp_path):
    """Held past --timeout too: gpuctl stops watching, sends nothing again, and names the pod
    that may still start. It used to stop there: the held create then started a pod that ran
    (and billed) until someone read the message and deleted it by hand. The pod's name now
    says when its run gave up on it, and the next CPU warm-up in the account deletes it."""
    cwd = seeded(account, tmp_path, volume=True, model=REPO)
    account.faults({"op": "create", "kind": "pod", "action": "hang", "seconds": 3600})
    try:
        result = account.gpu("serverless", "warm", "echo", "--cpu", "--timeout", "4", cwd=cwd, env=SHORT_HTTP_TIMEOUT)
    finally:
        account.clear_faults()
    assert result.code == 1 and "Traceback" not in result.err, result.err
    (name,) = set(re.findall(r"gpuctl-warm-[a-z0-9]+-[0-9a-f]{6}-until[0-9]+", result.err))
    assert "not sent again" in result.err and "the next `gpu serverless warm NAME --cpu`" in result.err and "delete it" in result.err, result.err
    (pod,) = until(lambda: account.server.http.get("/v2/pods").json()["pods"], "the held create to be carried out")
    assert pod["name"] == name and pods_created(account) == 1  # the pod the message named; no second create
    # the run's deadline, which the name carries, must be behind the next warm-up: with a short
    # HTTP timeout the first run can end before it, and until then nothing is abandoned yet
    deadline = int(name.rsplit("until", 1)[1])
    until(lambda: time.time() > deadline, "the first warm-up's deadline to pass")

    again = account.gpu("serverless", "warm", "echo", "--cpu", cwd=cwd, env={"HF_ENDPOINT": hub.url, "GPUCTL_WARM_SWEEP_GRACE": "0"}, timeout=60)
    assert again.code == 0, again.err
    assert f"deleted the abandoned warm-up pod {pod['id']} ({name})" in again.err, again.err
    nothing_left(account)


def test_the_sweep_deletes_only_warm_up_pods_whose_run_gave_up_on_them(account, hub, tmp_path):
    """A warm-up pod whose deadline has not passed may be another run's, still working; a pod
    named without a deadline (an older gpuctl's) or by anyone else is not gpuctl's to judge."""
    cwd = seeded(account, tmp_path, volume=True, model=REPO)
    names = {"expired": "gpuctl-warm-abc123-0a0b0c-until1000000000", "running": f"gpuctl-warm-abc123-0a0b0d-until{int(time.time()) + 3600}",
             "older": "gpuctl-warm-abc123-0a0b0e", "theirs": "my-pod-until1000000000"}
    ids = {}
    for key, name in names.items():
        created = account.server.http.post("/v2/pods", json={"name": name, "image": "python:3.12-slim", "cpu": {"id": "cpu3c", "vcpuCount": 2}})
        assert created.is_success, created.text
        ids[key] = created.json()["id"]
    result = account.gpu("serverless", "warm", "echo", "--cpu", cwd=cwd, env={"HF_ENDPOINT": hub.url}, timeout=60)
    assert result.code == 0, result.err
    assert f"deleted the abandoned warm-up pod {ids['expired']}" in result.err, result.err
    left = {p["id"] for p in account.server.http.get("/v2/pods").json()["pods"]}
    assert left == {ids["running"], ids["older"], ids["theirs"]}
    for pod_id in left:
        assert account.server.http.delete(f"/v2/pods/{pod_id}").is_success
    nothing_left(account)


@pytest.mark.parametrize(("name", "now", "grace", "expected"), [
    ("gpuctl-warm-ep1-a1b2c3-until100", 101, 0, True),
    ("gpuctl-warm-ep1-a1b2c3-until100", 100, 0, False),
    ("gpuctl-warm-ep1-a1b2c3-until100", 350, 300, False),
    ("gpuctl-warm-ep1-a1b2c3-until100", 401, 300, True),
    ("gpuctl-warm-ep1-a1b2c3", 10**10, 0, False),
    ("xgpuctl-warm-ep1-a1b2c3-until100", 10**10, 0, False),
    ("gpuctl-warm-ep1-a1b2c3-until100-mine", 10**10, 0, False),
])
def test_which_pod_names_are_expired(name, now, grace, expected):
    from gpuctl.warm.cpu import expired

    assert expired(name, now, grace) is expected


def test_a_pod_name_says_when_its_run_gives_up():
    from gpuctl.warm.cpu import expired, pod_name

    name = pod_name("ep1", 1000.2)
    assert name.startswith("gpuctl-warm-ep1-") and name.endswith("-until1001")
    assert not expired(name, 1001, 0) and expired(name, 1002, 0)


PLAIN_FILE_LINE = "  config.json: 23 B"  # gpuctl.render.warm.describe's line for a file downloaded; bars show no such line


@pytest.mark.parametrize("term", ["dumb", "xterm"])
def test_warm_draws_bars_only_where_progress_is_live(account, hub, tmp_path, term):
    """One rule (AppContext.live) decides live progress for every view: warm's own view asked
    `stream.isatty()` and drew rich bars on a TERM=dumb terminal, which shows the redraws as
    text, where deploy's and invoke's asked the app."""
    from tests.support.terminal import Terminal

    cwd = seeded(account, tmp_path, volume=True, model=REPO)
    warming = Terminal(["serverless", "warm", "echo", "--cpu"], cwd, account.env | {"HF_ENDPOINT": hub.url, "TERM": term})
    assert warming.exit_code() == 0, warming.transcript
    assert "downloading tiny-org/tiny-model@main" in warming.transcript, warming.transcript
    assert (PLAIN_FILE_LINE in warming.transcript) == (term == "dumb"), warming.transcript
    nothing_left(account)


def test_warm_in_process_without_a_terminal_prints_plain_lines(account, hub, tmp_path):
    """The app's streams (injected, not terminals) decide, not the process's."""
    from tests.conftest import run_cli

    cwd = seeded(account, tmp_path, volume=True, model=REPO)
    result = run_cli(["serverless", "warm", "echo", "--cpu"], cwd, account.env | {"HF_ENDPOINT": hub.url})
    assert result.code == 0, result.err
    assert PLAIN_FILE_LINE in result.err and "\x1b[" not in result.err, result.err
    nothing_left(account)


def test_status_shows_a_left_over_warm_up_pod_and_any_warm_up_deletes_it_first(account, tmp_path):
    """A warm-up pod whose run gave up on it bills until deleted, and only a CPU warm-up that got
    as far as creating its own pod swept it: `status` never showed it, and a warm-up that
    stopped earlier (no volume, no models, --gpu) left it. `status` now names it with what
    deletes it, and every warm-up sweeps first."""
    cwd = seeded(account, tmp_path, volume=False)
    (endpoint,) = [e for e in account.endpoints() if e["name"] == "echo"]
    names = {"left": f"gpuctl-warm-{endpoint['id']}-0a0b0c-until1000000000",
             "running": f"gpuctl-warm-{endpoint['id']}-0a0b0d-until{int(time.time()) + 3600}",
             "other": "gpuctl-warm-zz9other-0a0b0e-until1000000000"}
    ids = {}
    for key, name in names.items():
        created = account.server.http.post("/v2/pods", json={"name": name, "image": "python:3.12-slim", "cpu": {"id": "cpu3c", "vcpuCount": 2}})
        assert created.is_success, created.text
        ids[key] = created.json()["id"]

    shown = account.gpu("serverless", "status", "echo", cwd=cwd)
    assert shown.code == 0, shown.err
    assert ids["left"] in shown.out and ids["running"] not in shown.out and ids["other"] not in shown.out, shown.out
    assert "gpu serverless warm echo" in shown.out and "RunPod console" in shown.out, shown.out
    doc = account.gpu("serverless", "status", "echo", "--json", cwd=cwd).json()
    assert [p["id"] for p in doc["leftover_warm_pods"]] == [ids["left"]]

    refused = account.gpu("serverless", "warm", "echo", "--cpu", cwd=cwd)  # no volume: refused, after the sweep
    assert refused.code == 1 and "has no network volume" in refused.err, refused.err
    assert f"deleted the abandoned warm-up pod {ids['left']}" in refused.err, refused.err
    left = {p["id"] for p in account.server.http.get("/v2/pods").json()["pods"]}
    assert left == {ids["running"]}  # the other endpoint's expired pod went too: the sweep is the account's
    assert ids["left"] not in account.gpu("serverless", "status", "echo", cwd=cwd).out
    assert account.server.http.delete(f"/v2/pods/{ids['running']}").is_success


def test_the_flux_recipe_is_told_that_comfyui_does_not_read_what_a_cpu_pre_warm_downloads(account, tmp_path):
    """`gpu serverless warm flux --cpu` on the seed's ComfyUI-with-FLUX recipe exits 1 (no model
    anywhere), and both it and the plan advised adding prewarm.models: for ComfyUI that does
    nothing, since ComfyUI reads the volume's models/ folders, not the Hugging Face cache a CPU
    pod fills. Both now say so and point to the GPU warm-up."""
    proj = project(tmp_path / "flux", FLUX)
    (warning,) = [w for w in account.gpu("serverless", "deploy", "--plan", "--format", "json", cwd=proj).json()["warnings"]
                  if w["code"] == "prewarm-nothing-to-download"]
    assert "ComfyUI reads" in warning["message"] and 'prewarm.mode to "gpu"' in warning["message"], warning
    assert 'add "prewarm": {"models"' not in warning["message"], warning
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    result = account.gpu("serverless", "warm", "flux", "--cpu", cwd=proj)
    assert result.code == 1 and "no models to download for endpoint flux" in result.err and "Traceback" not in result.err, result.err
    assert "ComfyUI reads" in result.err and "--gpu" in result.err and 'add "prewarm": {"models"' not in result.err, result.err


def test_the_watch_line_counts_left_over_warm_up_pods():
    from gpuctl.render.status import WORKER_STATES, status_line

    doc = {"name": "echo", "workers": dict.fromkeys(WORKER_STATES, 0), "jobs": {}, "paused": False, "release": {"version": 1},
           "leftover_warm_pods": [{"id": "p1", "name": "gpuctl-warm-ep1-0a0b0c-until1", "status": "RUNNING", "cost": 0.06}]}
    assert status_line(doc).endswith("release v1; 1 leftover warm-up pod")
    assert status_line(doc | {"leftover_warm_pods": None}).endswith("release v1")
