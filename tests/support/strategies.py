"""Hypothesis strategies for valid gpu.jsonc documents and for drifted accounts."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import strategies as st

from gpuctl.catalog import load_catalog
from gpuctl.config import build_desired, load_config
from gpuctl.model import Desired

CATALOG = load_catalog()
SERVERLESS_GPUS = sorted(g.id for g in CATALOG.gpus.values() if g.pool)
STORAGE_DCS = sorted(d.id for d in CATALOG.data_centers.values() if d.network_volumes)
names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=3, max_size=12).filter(lambda s: s[0].isalpha())
env_values = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20).filter(lambda s: "${" not in s)


@st.composite
def blocks(draw, name: str, volume_names=st.sampled_from(["models", "cache", "shared"])) -> dict:
    template = draw(st.sampled_from(["comfyui", "whisper", "custom-image", "vllm"]))
    primary = draw(st.sampled_from(SERVERLESS_GPUS))
    fallbacks = draw(st.lists(st.sampled_from(SERVERLESS_GPUS), max_size=3, unique=True))
    low = draw(st.integers(0, 3))
    block: dict = {
        "name": name,
        "template": template,
        "gpu_type": primary,
        "gpu_types": [g for g in fallbacks if g != primary],
        "scaling": {"min_workers": low, "max_workers": draw(st.integers(low, low + 5)), "idle_timeout": draw(st.integers(1, 3600))},
    }
    env = draw(st.dictionaries(st.from_regex(r"[A-Z][A-Z0-9_]{0,8}", fullmatch=True).filter(lambda k: not k.startswith("GPUCTL")), env_values, max_size=4))
    runpod: dict = {
        "flashboot": draw(st.booleans()),
        "scaler_type": draw(st.sampled_from(["queue_delay", "request_count"])),
        "scaler_value": draw(st.integers(1, 60)),
        "execution_timeout_ms": draw(st.integers(5_000, 3_600_000)),
        "env": env,
    }
    if draw(st.booleans()):
        runpod["container_disk_gb"] = draw(st.integers(1, 500))
    if draw(st.booleans()):
        runpod["data_center_ids"] = draw(st.lists(st.sampled_from(STORAGE_DCS), min_size=1, max_size=3, unique=True))
    if template == "custom-image":
        runpod["image_name"] = f"registry.example/{name}:1"
    if template == "vllm":
        if draw(st.booleans()):
            env["MODEL_NAME"] = "org/model"
        else:
            runpod["cached_model"] = "org/model:main"
    if draw(st.booleans()):
        runpod["ports"] = draw(st.lists(st.sampled_from(["8000/http", "8080/http", "22/tcp"]), unique=True, max_size=2))
    block["runpod"] = runpod
    if draw(st.booleans()):
        block["volume"] = {"name": f"{name}-{draw(volume_names)}", "size_gb": draw(st.integers(10, 400))}
    return block


@st.composite
def configs(draw) -> dict:
    endpoint_names = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    project = draw(names)
    return {"project_id": project, "serverless": [draw(blocks(n)) for n in endpoint_names]}


def desired_from(config: dict, environ: dict | None = None) -> Desired:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gpu.jsonc"
        path.write_text(json.dumps(config))
        return build_desired(load_config(path, catalog=CATALOG), environ or {}, CATALOG)
