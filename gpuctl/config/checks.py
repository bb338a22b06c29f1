"""Rules that need two fields, the catalog or the project directory.

Each check gets the validated block and returns located diagnostics (errors) and notices
(warnings for the plan). Nothing here raises.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from pathlib import Path

from gpuctl.catalog import Catalog
from gpuctl.config.shape import ServerlessBlock
from gpuctl.config.templates import CHOICES, detect
from gpuctl.errors import Diagnostic, doc_ref
from gpuctl.model import OWN_ENV, RESERVED_ENV, VLLM_DEFAULT_MODEL, Notice, TemplateChoice, own_env
from gpuctl.spelling import did_you_mean, did_you_mean_one_of

Locate = Callable[[tuple, str, str], Diagnostic]  # (key path, problem, how to fix it)


def _q(value: str) -> str:
    """A value from the file, quoted with control characters escaped: never replay them."""
    return json.dumps(value, ensure_ascii=False)


def resolve_template(block: ServerlessBlock, project: Path, at: Locate) -> tuple[TemplateChoice | None, list[Diagnostic]]:
    if block.template != "auto":
        return TemplateChoice(block.template, block.template), []
    found = detect(block, project)
    if found.resolved:
        return TemplateChoice("auto", found.resolved, found.evidence), []
    if found.candidates:
        seen = "; ".join(f"{name}: {', '.join(ev)}" for name, ev in sorted(found.candidates.items()))
        message = f"template auto found signs of more than one template ({seen})"
    else:
        message = f"template auto found nothing to go on in {project}"
    return None, [at(("template",), message, f'set "template" to one of {", ".join(CHOICES)}')]


def check_gpus(block: ServerlessBlock, catalog: Catalog, at: Locate) -> list[Diagnostic]:
    out = []
    if block.gpu_type is None:
        out.append(at(("gpu_type",), "required key is missing", f'choose a GPU type id, e.g. "NVIDIA GeForce RTX 4090" (every id: {doc_ref("catalog.md")})'))
    listed = [(("gpu_type",), block.gpu_type)] if block.gpu_type else []
    listed += [(("gpu_types", i), gpu) for i, gpu in enumerate(block.gpu_types)]
    seen: set[str] = set()
    for path, gpu in listed:
        known = catalog.gpus.get(gpu)
        if known is None:
            out.append(at(path, f"unknown GPU type {_q(gpu)}", gpu_hint(gpu, catalog)))
        elif known.pool is None:
            out.append(at(path, f"{_q(gpu)} is not offered on RunPod Serverless (no serverless pool)", _pooled_hint(gpu, catalog)))
        elif gpu in seen:
            out.append(at(path, f"{_q(gpu)} is listed twice", "list each GPU type once, in priority order"))
        seen.add(gpu)
    return out


def gpu_hint(gpu: str, catalog: Catalog) -> str:
    """The ids `gpu` may have meant, matched against ids and display names alike ("RTX 4090"
    suggests "NVIDIA GeForce RTX 4090"; "NVIDIA A100" both A100 ids, never the A40)."""
    pool = gpu.strip().upper()
    if pool in catalog.pools and catalog.pool_members(pool):  # RunPod's console and API speak of pools (AMPERE_24)
        members = " or ".join(_q(g) for g in catalog.pool_members(pool)[:3])
        return f"{pool} is a RunPod GPU pool, not a GPU type: name one of its types, e.g. {members}; gpuctl sends the pools of the types named"
    names = {g.display_name: g.id for g in catalog.gpus.values()} | {g.id: g.id for g in catalog.gpus.values()}
    return did_you_mean_one_of(gpu, names) or f'use RunPod\'s exact GPU type id, e.g. "NVIDIA GeForce RTX 4090" (every id: {doc_ref("catalog.md")})'


def _pooled_hint(gpu: str, catalog: Catalog) -> str:
    """Types with a serverless pool and the memory of `gpu`: the nearest substitutes."""
    memory = catalog.gpus[gpu].memory_gb
    same = sorted(g.id for g in catalog.gpus.values() if g.pool is not None and g.memory_gb == memory)[:3]
    examples = ", ".join(_q(g) for g in same) if same else '"NVIDIA GeForce RTX 4090"'
    return f"pick a type that has a serverless pool, e.g. {examples} (every pool: {doc_ref('catalog.md')})"


def check_scaling(block: ServerlessBlock, at: Locate) -> tuple[list[Diagnostic], list[Notice]]:
    s = block.scaling
    errors = []
    if s.max_workers < s.min_workers and "max_workers" not in s.declared:
        errors.append(at(("scaling", "min_workers"), f"must be ≤ max_workers, which defaults to {s.max_workers}, got {s.min_workers}", f"set scaling.max_workers to {s.min_workers} or more"))
    elif s.max_workers < s.min_workers:
        errors.append(at(("scaling", "max_workers"), f"must be ≥ min_workers ({s.min_workers}), got {s.max_workers}", f"raise max_workers to {s.min_workers} or more, or lower min_workers"))
    notices = []
    if block.runpod.scaler_type == "request_count" and "idle_timeout" in s.declared:
        notices.append(Notice("idle-timeout-ignored", "RunPod ignores idle_timeout for queue endpoints scaling on request_count; it is not sent"))
    return errors, notices


def check_runpod(block: ServerlessBlock, choice: TemplateChoice, catalog: Catalog, at: Locate) -> tuple[list[Diagnostic], list[Notice]]:
    r, errors, notices, template = block.runpod, [], [], choice.resolved
    seen: set[str] = set()
    for i, dc in enumerate(r.data_center_ids):
        if dc not in catalog.data_centers:
            errors.append(at(("runpod", "data_center_ids", i), f"unknown data center {_q(dc)}", did_you_mean(dc, catalog.data_centers) or f'use a RunPod data center id, e.g. "US-TX-3" (every id: {doc_ref("catalog.md")})'))
        elif dc in seen:
            errors.append(at(("runpod", "data_center_ids", i), f"{_q(dc)} is listed twice", "remove the repeated id"))
        seen.add(dc)
    for i, port in enumerate(r.ports or []):
        number = int(port.split("/")[0])
        if not 1 <= number <= 65535:
            errors.append(at(("runpod", "ports", i), f"port {number} is outside 1..65535", 'use PORT/http or PORT/tcp with a port from 1 to 65535, e.g. "8000/http"'))
    for key in r.env:
        if key in RESERVED_ENV:
            errors.append(at(("runpod", "env", key), "is reserved: gpuctl sets it", "remove it; the ownership marker comes from project_id, the local command from local.command"))
        elif own_env(key):  # gpuctl's namespace: every output shows its values as gpuctl's own, so a secret there would be printed
            errors.append(at(("runpod", "env", key), f"is reserved: names starting with {OWN_ENV} are gpuctl's own markers and records, which it shows in clear",
                             f"rename the key, e.g. {_q(key[len(OWN_ENV):] or 'MY_SETTING')}, and read that name in the worker"))
    if template == "custom-image" and not r.image_name:
        fix = 'set runpod.image_name to your pushed worker image, e.g. "ghcr.io/me/worker:1.0"'
        if choice.requested == "auto":  # the user wrote no template: say which files chose this one
            seen = f" ({'; '.join(choice.evidence)})" if choice.evidence else ""
            errors.append(at(("runpod", "image_name"), f'required: with no "template" set, template auto chose custom-image{seen}, which runs your own image',
                             f'{fix}; or set "template" to the one you mean ({", ".join(CHOICES)})'))
        else:
            errors.append(at(("runpod", "image_name"), "required for template custom-image", fix))
    if template == "vllm" and "MODEL_NAME" not in r.env and not r.cached_model:
        notices.append(Notice("vllm-default-model", f"no model is set, so RunPod's vLLM worker serves its default, {VLLM_DEFAULT_MODEL}; "
                                                    'set runpod.env.MODEL_NAME (e.g. "meta-llama/Llama-3.1-8B-Instruct") or runpod.cached_model to serve another'))
    if r.data_centers_required is False and r.data_center_ids:
        notices.append(Notice("data-centers-required", "RunPod always restricts placement to data_center_ids; data_centers_required=false cannot be expressed"))
    return errors, notices


def check_volume(block: ServerlessBlock, at: Locate) -> tuple[list[Diagnostic], list[Notice]]:
    errors, notices = [], []
    if block.prewarm.enabled and block.prewarm.mode == "cpu" and not block.volume:
        errors.append(at(("prewarm", "mode"), "cpu pre-warm downloads models into the network volume, but no volume is configured", 'add a "volume" block or set prewarm.mode to "gpu"'))
    if not block.volume:
        return errors, notices
    if block.volume.mount_path != "/runpod-volume":
        notices.append(Notice("mount-path", f"mount_path {block.volume.mount_path} has no effect: RunPod Serverless mounts network volumes at /runpod-volume, "
                                            "and gpuctl passes mount_path to neither provider (the local provider gives workers the volume's "
                                            "directory in RUNPOD_VOLUME_PATH); read the models from /runpod-volume and remove mount_path"))
    return errors, notices


def check_local(block: ServerlessBlock, project_dir: Path) -> tuple[list[Diagnostic], list[Notice]]:
    """A local.cwd that is no directory, or a local.command whose script is not there: only the
    local provider reads them (a warning, not an error), and there every job of the endpoint
    would fail, at the first invoke, long after the mistake was made."""
    if not block.local:
        return [], []
    where = (project_dir / (block.local.cwd or ".")).resolve()
    if not where.is_dir():
        return [], [Notice("local-cwd", f"local.cwd {block.local.cwd} ({where}) is not a directory, so the local provider cannot start "
                                        "this worker; create it, or fix local.cwd (relative to the directory of gpu.jsonc)")]
    script = _script(block.local.command)
    if script is None or (where / script).exists():
        return [], []
    siblings = [p.name for p in where.iterdir() if p.is_file() and p.suffix == Path(script).suffix] if "/" not in script else []
    fix = did_you_mean(script, siblings) or f"fix local.command (its paths are relative to {'local.cwd' if block.local.cwd else 'the directory of gpu.jsonc'})"
    return [], [Notice("local-command", f"local.command runs {_q(script)}, which is not in {where}, so the local provider cannot start this worker; {fix}")]


_PYTHON = re.compile(r"python(\d+(\.\d+)?)?")


def _script(command: list[str] | str) -> str | None:
    """The file a local.command starts, when it names one by a relative path: the script of
    `python [options] script.py`, or the program itself (`./serve.sh`). None for a module
    (`python -m`), code (`python -c`) or a program found on PATH."""
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    if not argv:
        return None
    if _PYTHON.fullmatch(Path(argv[0]).name):
        args = iter(argv[1:])
        for arg in args:
            if arg.startswith(("-m", "-c")):
                return None
            if arg in ("-W", "-X"):  # the options that take the next word as their value
                next(args, None)
            elif not arg.startswith("-"):
                return None if Path(arg).is_absolute() else arg
        return None
    return argv[0] if "/" in argv[0] and not Path(argv[0]).is_absolute() else None
