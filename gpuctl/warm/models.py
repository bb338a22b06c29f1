"""Which models a CPU pre-warm downloads, and where that list came from.

Precedence (docs/prewarm.md): gpu.jsonc `prewarm.models` for the endpoint, else the live
endpoint's env `MODEL_NAME` (with `MODEL_REVISION`, as worker-vllm reads them), else its
cached model (`runpod.cached_model`, or the live `modelReferences` that GraphQL reports).
The first three are gpuctl.prewarm's rule, which the planner uses too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from gpuctl.prewarm import UNREAD_CACHE, ModelList, declared_models, not_repo_ids, reads_hub_cache
from gpuctl.warm.errors import NoModels
from gpuctl.v2 import env_of, image, model_references

HUB_PREFIX = re.compile(r"^https?://[^/]+/")


def from_reference(reference: str) -> str:
    """`https://huggingface.co/org/name:main` (GraphQL `modelReferences`) -> `org/name:main`."""
    return HUB_PREFIX.sub("", reference)


def checked(models: ModelList) -> ModelList:
    bad = not_repo_ids(models)
    if bad:
        raise NoModels(f"{models.source}: {bad[0]!r} is not a Hugging Face repo id", hint='use "org/name" or "org/name:revision"')
    return models


def choose_models(endpoint: dict, configured: Sequence[str] = (), cached_model: str | None = None,
                  references: Callable[[], list[str]] | None = None) -> ModelList:
    """The first non-empty source wins. `references` is called only when nothing else gave a
    model, so GraphQL is asked only when it can matter."""
    declared = declared_models(configured, env_of(endpoint), cached_model)
    if declared:
        return checked(declared)
    live = model_references(endpoint) or [] or (references() if references else [])
    if live:
        return checked(ModelList(tuple(dict.fromkeys(from_reference(r) for r in live)), "the endpoint's cached model"))
    hint = 'add "prewarm": {"models": ["org/name"]} to its block in gpu.jsonc, or use --gpu to start a worker instead'
    if not reads_hub_cache(image(endpoint)):
        hint = f"use --gpu to start a worker instead: {UNREAD_CACHE}, so prewarm.models would not help"
    raise NoModels(
        f"no models to download for endpoint {endpoint.get('name')}",
        detail="gpu.jsonc declares no prewarm.models for it, and it has no MODEL_NAME and no cached model",
        hint=hint,
    )
