"""What a worker process is started with: its argv and directory (from the endpoint's own
env, product.md "Providers") and the environment RunPod gives workers (api-notes §6.2).

A worker gets what RunPod gives a worker and nothing of the shell that started the server:
the few variables any process needs on this machine (`MACHINE_VARS`), a private HOME of its
own (so `~/.runpod/config.toml`, which the SDK reads at import, and every other dotfile stay
out of reach), its endpoint's env, then RunPod's worker variables. Pods get the same minus the
worker protocol. A worker's default directory is that home, never the data dir.

Network volumes are directories under the data dir. A process cannot see them at
`/runpod-volume` without root, so the worker gets the directory in `RUNPOD_VOLUME_PATH`
(and the volume id in `RUNPOD_VOLUME_ID`, as RunPod sets it).
"""

from __future__ import annotations

import json
import os
import re
import site
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from gpuctl.local.datadir.layout import DataDir
from gpuctl.local.datadir.reaper import MARKER
from gpuctl.local.datadir.secrets import DamagedSecret, MissingSecret, Secrets, resolve
from gpuctl.local.errors import Rejected
from gpuctl.local.runtime.keys import WorkerKeys
from gpuctl.local.store.db import Store
from gpuctl.local.store.reference import Catalog

# Passed through from the server when set: where programs are, the locale and time zone, where
# temporary files go, where Python finds the packages the server itself imports (the SDK),
# and which CA certificates HTTPS trusts. None of them carries a credential.
MACHINE_VARS = ("PATH", "LANG", "LANGUAGE", "TZ", "TMPDIR", "PYTHONPATH", "SSL_CERT_FILE", "SSL_CERT_DIR")
MACHINE_PREFIXES = ("LC_",)

COMMAND = "GPUCTL_LOCAL_COMMAND"
CWD = "GPUCTL_LOCAL_CWD"
HINT = "set local.command in gpu.jsonc (it reaches the endpoint as env GPUCTL_LOCAL_COMMAND, a JSON array argv)"


class SpawnError(Rejected):
    """The endpoint's worker cannot be started; the message says why and how to fix it."""


def missing_secret_message(exc: MissingSecret) -> str:
    """A worker or pod not started for a secret there is none of: which key, which secret, the fix."""
    return (f"{exc}, so no worker was started (RunPod resolves {{{{ RUNPOD_SECRET_{exc.name} }}}} from the account's secrets "
            f"when a worker boots): create it with `gpu local secret set {exc.name}` (the value on stdin), then call again")


def damaged_secret_message(exc: DamagedSecret) -> str:
    """A worker or pod not started for a damaged secret: which key, then the verdict `gpu local
    secret list` gives too (DamagedSecret: what is wrong and the fix)."""
    return f"env {exc.key} refers to secret {exc.name}, so no worker was started: {exc} (the value on stdin), then call again"


def has_command(env: dict[str, str]) -> bool:
    return bool(env.get(COMMAND, "").strip())


def no_command_message(endpoint_id: str) -> str:
    return f"endpoint {endpoint_id} has no local runtime, so the local provider cannot run this job: {HINT}"


def command_of(env: dict[str, str]) -> tuple[list[str], Path | None]:
    """The argv and working directory (None: the process's own home), or SpawnError naming
    what is wrong."""
    raw = env.get(COMMAND, "")
    if not raw.strip():
        raise SpawnError(f"no {COMMAND} in the endpoint env: {HINT}")
    try:
        argv = json.loads(raw)
    except ValueError:
        raise SpawnError(f"{COMMAND} is not JSON: {raw!r}; it must be a JSON array such as [\"python\", \"handler.py\"]") from None
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) and a for a in argv):
        raise SpawnError(f"{COMMAND} must be a non-empty JSON array of strings, got {raw!r}")
    cwd = Path(env[CWD]).expanduser() if env.get(CWD) else None
    if cwd is not None and not cwd.is_dir():
        raise SpawnError(f"{CWD} {str(cwd)!r} is not a directory: create it, or fix local.cwd in gpu.jsonc and deploy again")
    if argv[0] in ("python", "python3"):
        argv = [sys.executable, *argv[1:]]  # the interpreter gpuctl runs in, whatever PATH says
    return argv, cwd


MISSING_MODULE = re.compile(r"ModuleNotFoundError: No module named '([A-Za-z0-9_.]+)'")


def missing_module_hint(env: dict[str, str], output: list[str]) -> str:
    """Where a module a `python` worker could not import must be installed: `python` runs in
    gpuctl's own interpreter (see argv above), which is not the shell's active venv after
    `pipx install` or a wheel install. "" when the output has no such error or the command
    is not `python`."""
    found = MISSING_MODULE.search("\n".join(output))
    try:
        argv = json.loads(env.get(COMMAND) or "[]")
    except ValueError:
        return ""
    if found is None or not isinstance(argv, list) or not argv or argv[0] not in ("python", "python3"):
        return ""
    module = found.group(1).split(".")[0]
    return (f"; a `python` local.command runs in gpuctl's own interpreter, {sys.executable}: install {module} "
            f"there with `{sys.executable} -m pip install {module}` (after `pipx install`: `pipx inject gpuctl {module}`)")


def placement(store: Store, catalog: Catalog, doc: dict) -> dict[str, Any]:
    """Where the worker "runs": the first allowed GPU type, a data center, and a volume."""
    gpu = doc.get("gpu")
    volume_id = (doc.get("networkVolumes") or [None])[0]
    volume = store.get("network_volume", volume_id) if volume_id else None
    dc = volume["dataCenter"] if volume else (doc.get("dataCenterIds") or ["EU-RO-1"])[0]
    if gpu:
        gpu_type = catalog.first_gpu(gpu["pools"], gpu.get("excludedTypes", []))
        return {"gpu": gpu_type, "gpuCount": gpu.get("count", 1), "dc": dc, "volume": volume_id}
    cpu = doc.get("cpu") or [{"id": "cpu3c", "vcpuCount": 2}]
    return {"gpu": None, "gpuCount": 0, "cpu": f"{cpu[0]['id']}-{cpu[0]['vcpuCount']}", "vcpus": cpu[0]["vcpuCount"], "dc": dc, "volume": volume_id}


def _user_base() -> str | None:
    """The server's user site base (`~/.local`), when the server imports packages from it:
    with HOME replaced, Python would look for it under the private home instead."""
    if not site.ENABLE_USER_SITE or not os.path.isdir(site.getusersitepackages()):
        return None
    return site.getuserbase()


def machine_env(home: Path) -> dict[str, str]:
    """What any process needs to run here, and nothing else of the server's environment: a
    RunPod key, cloud credentials or tokens in the shell never reach a worker or pod."""
    env = {k: v for k, v in os.environ.items() if k in MACHINE_VARS or k.startswith(MACHINE_PREFIXES)}
    env.setdefault("PATH", os.defpath)
    env["HOME"] = str(home)
    if (base := _user_base()) is not None:
        env["PYTHONUSERBASE"] = base
    return env


@dataclass
class WorkerEnv:
    """The environments of the processes a server starts, from what it knows of itself."""

    data_dir: DataDir
    endpoint_base_url: str
    ping_interval_ms: int
    keys: WorkerKeys

    def endpoint_env(self, env: dict[str, str]) -> dict[str, str]:
        """The endpoint's (or pod's) own env with its `{{ RUNPOD_SECRET_<name> }}` references
        resolved from the local secrets; SpawnError naming a secret there is none of, or one damaged."""
        try:
            return resolve(dict(env), Secrets(self.data_dir.secrets))
        except MissingSecret as exc:
            raise SpawnError(missing_secret_message(exc)) from None
        except DamagedSecret as exc:
            raise SpawnError(damaged_secret_message(exc)) from None

    def markers(self, process_id: str) -> dict[str, str]:
        """How `reaper` finds the process through /proc, and the server its own output."""
        return {"PYTHONUNBUFFERED": "1", MARKER: str(self.data_dir.root), "GPUCTL_LOCAL_WORKER_ID": process_id}

    def worker(self, doc: dict, worker_id: str, where: dict[str, Any]) -> dict[str, str]:
        """The machine essentials, the endpoint's env, then what RunPod sets in a worker."""
        root = f"{self.endpoint_base_url}/{doc['id']}"
        gpu = quote_plus(where["gpu"] or where.get("cpu", "CPU"))
        env = machine_env(self.data_dir.homes / worker_id) | self.endpoint_env(doc.get("env", {}))
        env |= {
            "RUNPOD_WEBHOOK_GET_JOB": f"{root}/job-take/$ID?gpu={gpu}",
            "RUNPOD_WEBHOOK_POST_OUTPUT": f"{root}/job-done/$RUNPOD_POD_ID/$ID?gpu={gpu}",
            "RUNPOD_WEBHOOK_POST_STREAM": f"{root}/job-stream/$RUNPOD_POD_ID/$ID?gpu={gpu}",
            "RUNPOD_WEBHOOK_PING": f"{root}/ping/$RUNPOD_POD_ID",
            "RUNPOD_PING_INTERVAL": str(self.ping_interval_ms),
            "RUNPOD_AI_API_KEY": self.keys.key(doc["id"]),
            "RUNPOD_POD_ID": worker_id,
            "RUNPOD_POD_HOSTNAME": f"{worker_id}-local",
            "RUNPOD_ENDPOINT_ID": doc["id"],
            "RUNPOD_DC_ID": where["dc"],
            "RUNPOD_SKIP_AUTO_SYSTEM_CHECKS": "true",
            "RUNPOD_SKIP_GPU_CHECK": "true",
            **self.markers(worker_id),
        }
        if where["gpu"]:
            env["RUNPOD_GPU_COUNT"] = str(where["gpuCount"])
        else:
            env["RUNPOD_CPU_COUNT"] = str(where["vcpus"])
        if where["volume"]:
            env |= self.volume(where["volume"])
        return env

    def volume(self, volume_id: str) -> dict[str, str]:
        return {"RUNPOD_VOLUME_ID": volume_id, "RUNPOD_VOLUME_PATH": str(self.data_dir.volumes / volume_id)}

    def pod(self, doc: dict, volume: str | None, mount: str) -> dict[str, str]:
        """A pod's: the machine essentials, its own env, then the pod variables RunPod sets."""
        env = machine_env(self.data_dir.homes / doc["id"]) | self.endpoint_env(doc["env"])
        env |= {"RUNPOD_POD_ID": doc["id"], "RUNPOD_DC_ID": doc["dataCenterId"], "GPUCTL_LOCAL_MOUNT_PATH": mount, **self.markers(doc["id"])}
        if volume:
            env |= self.volume(volume)
        return env
