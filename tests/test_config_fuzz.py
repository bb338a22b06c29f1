"""R8 by fuzzing: mangled gpu.jsonc never crashes gpuctl, never touches the network, and every
error it reports is located at a real `file:line:col` of the file.

(a) byte and character mutations (insert, delete, replace, truncate) of the seed recipes in
fixtures/plans/*/gpu.jsonc; (b) random JSON values (wrong types, huge ints, NaN, unicode,
nested objects) placed at random key paths of a valid config; (c) `socket.socket.connect` is
replaced by a recorder that raises, and must never be called.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES, run_cli

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
NAME = "gpu.jsonc"
LOCATED = re.compile(rf"^{re.escape(NAME)}:(\d+):(\d+): ")


def _seeds() -> list[bytes]:
    distinct: dict[str, bytes] = {}
    for path in sorted(FIXTURES.glob("plans/*/gpu.jsonc")):
        raw = path.read_bytes()
        distinct.setdefault(hashlib.sha256(raw).hexdigest(), raw)
    return list(distinct.values())


SEEDS = _seeds()


@pytest.fixture(scope="module")
def connects():
    """Every attempted connection or DNS lookup, each of which also fails loudly."""
    calls: list[tuple] = []

    def refuse(name):
        def call(*args, **kwargs):
            calls.append((name, args))
            raise OSError(f"network access during config validation: {name}")
        return call

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse("connect"))
        patch.setattr(socket.socket, "connect_ex", refuse("connect_ex"))
        patch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
        yield calls


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """An empty project directory: template auto finds nothing here, so it is a located error too."""
    return tmp_path_factory.mktemp("fuzz")


def check(project: Path, raw: bytes, connects: list) -> tuple[int, str, str]:
    """Validate `raw` as gpu.jsonc and check the R8 contract; returns (code, stdout, stderr)."""
    (project / NAME).write_bytes(raw)
    result = run_cli(["config", "validate", "--config", NAME], project)
    assert connects == [], f"network calls: {connects}"
    assert result.code in (0, 1), f"exit code {result.code}\n{result.err}"
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    if result.code == 0:
        assert result.err == "" and " is valid" in result.out, result.out
        return result.code, result.out, result.err
    assert result.out == "" and result.err.startswith("error:"), result.err
    text = raw.decode("utf-8", errors="replace").removeprefix("\ufeff").split("\n")
    # the tool's lines end in "\n" only; str.splitlines() would also split at \x1c-\x1e, \x85, ...
    body = [line for line in result.err.split("\n")[1:] if line and not line.startswith("  hint:")]
    assert body, result.err
    for line in body:
        located = LOCATED.match(line)
        assert located, f"diagnostic without file:line:col: {line!r}\n{result.err}"
        row, col = int(located.group(1)), int(located.group(2))
        assert 1 <= row <= len(text), f"line {row} is outside the file ({len(text)} lines): {line!r}"
        assert 1 <= col <= len(text[row - 1]) + 1, f"column {col} is outside line {row}: {line!r}"
    return result.code, result.out, result.err


def test_every_seed_is_valid(project, connects):
    """The mutation property starts from valid files, so a failure there is the mutation's."""
    for raw in SEEDS:
        assert check(project, raw, connects)[0] == 0


# --- (a) mutations of the seed recipes ---------------------------------------------------

_INTERESTING = [c.encode() for c in '{}[]:,"\'/\\*\n\t 0-.eE+tfnuN$'] + [
    b"//", b"/*", b"*/", b"\x00", b"\xff", b"\xef\xbb\xbf", b"\xc3\xa9", "\U0001F680".encode(), b"NaN", b"Infinity", b"true", b"null",
    b'"serverless"', b'"scaling"', b'"min_workers"', b"${", b"\r\n", b"[" * 40,
]
_chunk = st.sampled_from(_INTERESTING) | st.binary(min_size=1, max_size=4) | st.text(min_size=1, max_size=3).map(str.encode)


@st.composite
def mutated(draw) -> bytes:
    raw = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["insert", "delete", "replace", "truncate"]))
        at = draw(st.integers(0, len(raw)))
        if op == "insert":
            raw[at:at] = draw(_chunk)
        elif op == "delete":
            del raw[at:at + draw(st.integers(1, 12))]
        elif op == "replace":
            raw[at:at + 1] = draw(_chunk)
        else:
            del raw[at:]
    return bytes(raw)


@SETTINGS
@given(raw=mutated())
def test_mutated_recipes_validate_or_fail_with_a_located_error(project, connects, raw):
    check(project, raw, connects)


# --- (b) random JSON values at random key paths ------------------------------------------

_FIELDS = ["template", "name", "gpu_type", "gpu_types", "scaling", "min_workers", "max_workers", "idle_timeout", "volume",
           "size_gb", "mount_path", "prewarm", "enabled", "mode", "models", "runpod", "flashboot", "scaler_type", "scaler_value",
           "execution_timeout_ms", "container_disk_gb", "data_center_ids", "data_centers_required", "env", "cached_model",
           "image_name", "ports", "local", "command", "cwd", "secret", "serverless", "project_id", "provider", "$schema",
           "GPUCTL_PROJECT", "HF_TOKEN", "1BAD", "MY-VAR", "", "scalng", "gpuType", "max_worker"]
_STRINGS = ["auto", "comfyui", "vllm", "custom-image", "cpu", "gpu", "queue_delay", "NVIDIA L4", "RTX 4090", "NVIDIA H200 NVL",
            "US-TX-3", "us-tx-3", "8000/http", "8000", "org/model", "org/model:", "/runpod-volume", "relative", "${HF_TOKEN}",
            "${1BAD}", "${OPEN", "runpod", "local", " padded ", "x" * 300]
_scalars = (
    st.none() | st.booleans() | st.integers(-5, 5000) | st.integers(-(2**80), 2**80)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12) | st.sampled_from(_STRINGS)
)
json_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(_FIELDS) | st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)


@st.composite
def with_random_value(draw) -> dict:
    """A seed recipe with one value replaced or one key added, somewhere below the top level."""
    doc = json.loads(json.dumps(_parse(draw(st.sampled_from(SEEDS)))))
    node = doc
    while True:
        children = [k for k, v in (node.items() if isinstance(node, dict) else enumerate(node)) if isinstance(v, (dict, list)) and v]
        if not children or draw(st.booleans()):
            break
        node = node[draw(st.sampled_from(children))]
    value = draw(json_values)
    if isinstance(node, list):
        node[draw(st.integers(0, len(node) - 1))] = value
    else:
        existing = [k for k in node if not (node is doc and k == "serverless")]
        key = draw(st.sampled_from(existing) | st.sampled_from(_FIELDS)) if existing else draw(st.sampled_from(_FIELDS))
        if node is doc and key == "serverless":
            key = "project_id"
        node[key] = value
    return doc


def _parse(raw: bytes):
    import pyjson5

    return pyjson5.decode(raw.decode("utf-8"))


@SETTINGS
@given(doc=with_random_value(), indent=st.sampled_from([None, 2]))
def test_random_values_at_random_paths_never_crash(project, connects, doc, indent):
    raw = json.dumps(doc, indent=indent, ensure_ascii=False).encode()
    code, _, _ = check(project, raw, connects)
    as_json = run_cli(["config", "validate", "--json", "--config", NAME], project)
    assert connects == [] and as_json.code == code and "Traceback" not in as_json.err
    result = json.loads(as_json.out)
    assert result["valid"] is (code == 0)
    for error in result.get("errors", []):
        # the document is well-formed JSON, so every problem is about a key
        assert isinstance(error["line"], int) and isinstance(error["column"], int), error
        assert error["path"], error
