"""Where the RunPod API key comes from: RUNPOD_API_KEY wins over the stored key file.

The key file lives in a 0700 directory with mode 0600 (`gpu auth login` writes it); the key is
never accepted as a command-line flag and never printed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path


def config_dir(environ: Mapping[str, str]) -> Path:
    if environ.get("GPUCTL_CONFIG_DIR"):
        return Path(environ["GPUCTL_CONFIG_DIR"])
    base = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME", str(Path.home()))) / ".config")
    return Path(base) / "gpuctl"


def key_file(environ: Mapping[str, str]) -> Path:
    return config_dir(environ) / "credentials.json"


def api_key(environ: Mapping[str, str]) -> tuple[str | None, str]:
    """(key, where it came from)."""
    if environ.get("RUNPOD_API_KEY"):
        return environ["RUNPOD_API_KEY"], "the RUNPOD_API_KEY environment variable"
    path = key_file(environ)
    try:
        key = json.loads(path.read_text()).get("api_key")
    except (OSError, ValueError, AttributeError):
        return None, "nowhere"
    return (key, str(path)) if key else (None, "nowhere")
