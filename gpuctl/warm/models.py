"""Which models a CPU pre-warm downloads, and where that list came from.

Precedence (docs/prewarm.md): gpu.jsonc `prewarm.models` for the endpoint, else the live
endpoint's env `MODEL_NAME` (with `MODEL_REVISION`, as worker-vllm reads them), else its
cached model (`runpod.cached_model`, or the live `modelReferences` that GraphQL reports).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gpuctl.warm.errors import NoModels

REPO_REF = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(:[A-Za-z0-9_./-]+)?$")
HUB_PREFIX = re.compile(r"^https?://[^/]+/")


@dataclass(frozen=True)
class ModelList:
    refs: tuple[str, ...]  # "org/name" or "org/name:revision"
    source: str  # for people: where the list came from


def from_reference(reference: str) -> str:
    """`https://huggingface.co/org/name:main` (GraphQL `modelReferences`) -> `org/name:main`."""
    return HUB_PREFIX.sub("", reference)


def checked(refs: Sequence[str], source: str) -> ModelList:
    bad = [r for r in refs if not REPO_REF.match(r)]
    if bad:
        raise NoModels(f"{source}: {bad[0]!r} is not a Hugging Face repo id", hint='use "org/name" or "org/name:revision"')
    return ModelList(tuple(dict.fromkeys(refs)), source)


def choose_models(endpoint: dict, configured: Sequence[str] = (), cached_model: str | None = None,
                  references: Callable[[], list[str]] | None = None) -> ModelList:
    """The first non-empty source wins. `references` is called only when nothing else gave a
    model, so GraphQL is asked only when it can matter."""
    if configured:
        return checked(configured, "gpu.jsonc prewarm.models")
    env = endpoint.get("env") or {}
    if env.get("MODEL_NAME"):
        revision = env.get("MODEL_REVISION")
        return checked([env["MODEL_NAME"] + (f":{revision}" if revision else "")], "the endpoint's MODEL_NAME")
    if cached_model:
        return checked([cached_model], "gpu.jsonc runpod.cached_model")
    live = list(endpoint.get("modelReferences") or []) or (references() if references else [])
    if live:
        return checked([from_reference(r) for r in live], "the endpoint's cached model")
    raise NoModels(
        f"no models to download for endpoint {endpoint.get('name')}",
        detail="gpu.jsonc declares no prewarm.models for it, and it has no MODEL_NAME and no cached model",
        hint='add "prewarm": {"models": ["org/name"]} to its block in gpu.jsonc, or use --gpu to start a worker instead',
    )
