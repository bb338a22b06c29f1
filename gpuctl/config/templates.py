"""Template resolution: `auto` inspects the project directory and explains what it found.

The image table itself is data (`state/templates.json`, read through the catalog).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gpuctl.config.shape import ServerlessBlock

CHOICES = ("comfyui", "vllm", "whisper", "custom-image")
_HANDLER_FILES = ("handler.py", "rp_handler.py", "src/handler.py", "src/rp_handler.py", "main.py")
_REQUIREMENT_FILES = ("requirements.txt", "requirements-dev.txt", "pyproject.toml", "environment.yml")
_WORKFLOW_FOLDERS = (".", "workflows")  # where ComfyUI workflows (*.json) are looked for
_NODES = "custom_nodes"
_MAX_SCAN_BYTES = 1024 * 1024
FOLDERS = ("", "src", "workflows")  # the project's directories (from it; "" itself) in which `reads` names files


def reads(path: str) -> bool:
    """Whether what template auto finds can depend on the file or directory at `path` (from the
    project directory, "/"-separated): the Dockerfile, handler and requirements files by name,
    every .json file beside gpu.jsonc or in workflows/, and custom_nodes/ (its being there).
    Whatever else the directory holds never changes a plan, so the apply on merge compares only
    these with the branch (gpuctl.github.inputs); every look below goes through `_look`, which
    holds it to this list."""
    p = PurePosixPath(path)
    return path in ("Dockerfile", _NODES, *_HANDLER_FILES, *_REQUIREMENT_FILES) or (p.suffix == ".json" and str(p.parent) in _WORKFLOW_FOLDERS)


def _look(project: Path, relative: str) -> Path:
    if not reads(relative):
        raise AssertionError(f"template auto looks at {relative}, which templates.reads does not name: an apply on merge would not compare it")
    return project / relative


@dataclass(frozen=True)
class Detection:
    resolved: str | None
    evidence: tuple[str, ...]
    candidates: dict[str, tuple[str, ...]]


def _read(project: Path, relative: str) -> str:
    """The text of a file `template: auto` looks at; "" when it is missing, too large, or no
    regular file (a FIFO is refused unopened, never waited on)."""
    from gpuctl.files import read_bytes

    try:
        return read_bytes(_look(project, relative), _MAX_SCAN_BYTES, pipes=False).decode(errors="replace")
    except OSError:  # FileRefused (too large, a pipe or device) and IsADirectoryError included
        return ""


def _requirements(project: Path) -> str:
    return "\n".join(_read(project, name) for name in _REQUIREMENT_FILES).lower()


def _workflow_files(project: Path) -> list[str]:
    found = []
    for folder in _WORKFLOW_FOLDERS:
        if not (project / folder).is_dir():
            continue
        for path in sorted((project / folder).glob("*.json"))[:50]:
            relative = path.relative_to(project).as_posix()
            if '"class_type"' in _read(project, relative):
                found.append(str(path.relative_to(project)))
    return found


def _signals(block: ServerlessBlock, project: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {name: [] for name in CHOICES}
    reqs = _requirements(project)
    env = block.runpod.env
    if block.runpod.image_name:
        found["custom-image"].append(f'runpod.image_name is "{block.runpod.image_name}"')
    if _look(project, "Dockerfile").is_file():
        found["custom-image"].append("Dockerfile")
    for name in _HANDLER_FILES:
        if "runpod.serverless.start" in _read(project, name):
            found["custom-image"].append(f"{name} calls runpod.serverless.start")
    if "MODEL_NAME" in env:
        found["vllm"].append("runpod.env.MODEL_NAME is set")
    if block.runpod.cached_model:
        found["vllm"].append("runpod.cached_model is set")
    if re.search(r"\bvllm\b", reqs):
        found["vllm"].append("requirements mention vllm")
    if re.search(r"faster[-_]whisper|openai-whisper", reqs):
        found["whisper"].append("requirements mention whisper")
    for path in _workflow_files(project):
        found["comfyui"].append(f"{path} is a ComfyUI workflow")
    if _look(project, _NODES).is_dir():
        found["comfyui"].append("custom_nodes/ directory")
    return found


def detect(block: ServerlessBlock, project: Path) -> Detection:
    """Pick a template from what the project directory shows; `resolved` is None when unsure."""
    signals = {k: tuple(v) for k, v in _signals(block, project).items() if v}
    if block.runpod.image_name:
        return Detection("custom-image", signals["custom-image"], signals)
    if len(signals) == 1:
        (name, evidence), = signals.items()
        return Detection(name, evidence, signals)
    return Detection(None, (), signals)
