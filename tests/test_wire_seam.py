"""RunPod's wire format stays behind the provider seam (ADR 0026), and each concept has one home.

The commands, the engine, warm-ups, the GitHub runner, doctor, the renderings, the policy and
the top-level rule modules read endpoints, volumes and templates through `gpuctl.v2`, and so do
config/ and plan/ but for the reads listed in NOT_YET; only it,
`gpuctl.plan.fields` (the gpu.jsonc <-> v2 table), `gpuctl.provider` and the snapshot format
spell a v2 field name. These tests read the source (ast, no imports) and fail
listing every offending line, so a new raw read cannot slip in unnoticed.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "gpuctl"
SEAM_DIRS = ("cli", "engine", "warm", "github", "doctor", "render", "policy", "prewarm.py", "releases.py", "jobs.py")

# The fields of RunPod v2 Endpoint, NetworkVolume and Template objects (and of the answers to
# the workers and health calls) that gpuctl reads, plus the flat v1 names a caller might reach for.
V2_KEYS = frozenset({
    "env", "image", "networkVolumes", "gpu", "workers", "scaling", "flashboot", "modelReferences", "cpu", "registry",
    "dataCenter", "dataCenterIds", "size", "pools", "excludedTypes", "idleTimeout", "vcpuCount", "queueDelay",
    "requestCount", "templateId", "gpuTypeIds", "workersMin", "workersMax", "networkVolumeId",
    "endpointVersion", "rollout", "workersOnLatest", "workersTotal", "percentOnLatest",  # a releases answer
})

# (file, the expression read from) -> why it is not a v2 object. Each one is a document gpuctl
# itself writes whose keys happen to match a v2 field.
NOT_V2 = {
    ("render/status.py", "doc"): "the status document gpuctl prints (--json)",
    ("render/status.py", "sc"): "the status document's scaling part",
    ("render/status.py", "r"): "a row of the list document gpuctl prints",
    ("cli/history_cmd.py", "config"): "{v2 path: value} from releases.configuration_at: plan paths, the user-facing vocabulary",
    ("render/status.py", "scaler"): "the v2 scaling object the status document carries verbatim (its --json shape)",
    ("render/status.py", "workers"): "the v2 workers object the status document carries verbatim (its --json shape)",
    ("cli/local_cmd.py", "doc"): "`gpu local status`'s document",
    ("cli/import_cmd.py", "block.get('runpod') or {}"): "a gpu.jsonc block (config keys, not v2)",
    ("warm/report.py", "volume"): "the warm-up result document's volume",
    ("render/history.py", "r"): "a release of the history document gpuctl prints (`workers` is the release's worker count)",
    ("render/history.py", "doc"): "the history document gpuctl prints (--json), which carries v2's rollout verbatim",
    ("render/status.py", "doc['release']"): "the status document's release part, which carries v2's rollout verbatim",
}

# (file, enclosing function) -> why a dict it builds with a v2 field name as a key is gpuctl's own
# document, not a request body. Request bodies are built by gpuctl.v2's builders.
OWN_DOCUMENTS = {
    ("cli/config_cmd.py", "def validate"): "`config validate --json`: each ${VAR} and the env key it fills",
    ("cli/import_cmd.py", "def _hidden"): "a gpu.jsonc block (config keys, not v2)",
    ("cli/views.py", "def _row"): "a row of `list --json`",
    ("cli/views.py", "def project_rows"): "a row of `list --json` for an endpoint not created yet",
    ("cli/views.py", "def status_doc"): "`status --json`, which carries v2's workers and scaling verbatim",
    ("warm/cpu.py", "def warm_volume"): "the warm-up result document",
    ("render/history.py", "def _release"): "a release of the history document (its worker count)",
    ("render/history.py", "def history_document"): "`history --json`, which carries v2's rollout verbatim",
    ("prewarm.py", "def digest"): "what the pre-warm digest hashes: the mode, the models and the image",
}


def _reads(tree: ast.AST, within: str = ""):
    """(line, receiver source, key, enclosing function as "def NAME") for every
    `X.get("key", ...)` and `X["key"]` under `tree`."""
    for node in ast.iter_child_nodes(tree):
        yield from _reads(node, f"def {node.name}" if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else within)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args:
            key, receiver = node.args[0], node.func.value
        elif isinstance(node, ast.Subscript):
            key, receiver = node.slice, node.value
        else:
            continue
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            yield node.lineno, ast.unparse(receiver), key.value, within


def _bodies(tree: ast.AST, within: str = ""):
    """(line, enclosing function as "def NAME", v2 keys) of every `{...}` literal and `dict(...)`
    call under `tree` that spells a v2 field name as a key."""
    for node in ast.iter_child_nodes(tree):
        yield from _bodies(node, f"def {node.name}" if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else within)
        if isinstance(node, ast.Dict):
            keys = [k.value for k in node.keys if isinstance(k, ast.Constant) and k.value in V2_KEYS]
        elif isinstance(node, ast.Call) and ast.unparse(node.func) == "dict":
            keys = [k.arg for k in node.keywords if k.arg in V2_KEYS]
        else:
            continue
        if keys:
            yield node.lineno, within, keys


def _sources(*dirs: str):
    for d in dirs:
        for path in sorted((PACKAGE / d).rglob("*.py")) if (PACKAGE / d).is_dir() else [PACKAGE / d]:
            yield path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text())


def raw_v2_reads(dirs=SEAM_DIRS) -> list[str]:
    return [f"gpuctl/{name}:{line}: {receiver}[{key!r}]"
            for name, tree in _sources(*dirs) for line, receiver, key, within in _reads(tree)
            if key in V2_KEYS and not {(name, receiver), (name, within)} & NOT_V2.keys()]


def test_commands_engine_warm_github_doctor_read_v2_objects_only_through_accessors():
    offenders = raw_v2_reads()
    assert not offenders, "read these through gpuctl.v2 (or add the accessor there):\n" + "\n".join(offenders)


def test_the_rule_can_fail():
    """The checker sees a raw read in the shapes it takes: `.get` with a default, and `[...]`."""
    tree = ast.parse('a = e.get("networkVolumes") or []\nb = e["workers"]["min"]\nc = doc.get("name")\n')
    found = sorted((line, key) for line, _, key, _ in _reads(tree) if key in V2_KEYS)
    assert found == [(1, "networkVolumes"), (2, "workers")]


def test_the_exceptions_are_still_needed():
    """An exception nobody needs any more goes, so the list cannot grow stale."""
    used = {(name, where) for name, tree in _sources(*SEAM_DIRS) for _, receiver, key, within in _reads(tree) if key in V2_KEYS
            for where in (receiver, within)}
    assert not set(NOT_V2) - used, f"remove these from NOT_V2: {sorted(set(NOT_V2) - used)}"


# config/ and plan/ read v2 objects too: an endpoint read back as gpu.jsonc keys (import, pull),
# the plan's matching, orphans and costs. `plan/fields.py` is the table between the two and may
# spell v2 names; everywhere else a read goes through gpuctl.v2, but for these (file, key) pairs,
# not moved behind it yet. An entry is removed when its file's reads move; a new raw read of any
# other key (an endpoint's env, its volumes) fails here.
MODEL_DIRS = ("config", "plan")
NOT_YET = frozenset({
    ("config/from_account.py", k) for k in ("gpu", "pools", "excludedTypes", "modelReferences", "workers", "scaling", "idleTimeout",
                                             "flashboot", "image", "dataCenterIds", "cpu")} | {
    ("config/pull.py", k) for k in ("dataCenterIds", "dataCenter", "size")} | {
    ("plan/cost.py", k) for k in ("gpu", "pools", "size")} | {
    ("plan/drift.py", "image"), ("plan/planner.py", "image"), ("plan/volumes.py", "dataCenter"), ("plan/volumes.py", "size")})

# (file, the expression read from) -> why it is not a v2 object, or must not use the accessor.
NOT_V2_MODEL = {
    ("config/from_account.py", "runpod"): "the gpu.jsonc block's runpod object being written (config keys)",
    ("config/from_account.py", "block"): "the gpu.jsonc block being written (config keys)",
    ("plan/drift.py", "template or {}"): "a record someone may have edited into nonsense: its env is checked to be an object first",
    ("plan/drift.py", "template"): "a record whose env `owner` has just found to be an object",
}


def raw_model_reads() -> list[str]:
    return [f"gpuctl/{name}:{line}: {receiver}[{key!r}]"
            for name, tree in _sources(*MODEL_DIRS) if name != "plan/fields.py" for line, receiver, key, _ in _reads(tree)
            if key in V2_KEYS and (name, key) not in NOT_YET and (name, receiver) not in NOT_V2_MODEL]


def test_config_and_plan_read_v2_objects_through_accessors():
    offenders = raw_model_reads()
    assert not offenders, "read these through gpuctl.v2 (env_of, volume_ids, ...):\n" + "\n".join(offenders)


def test_the_config_and_plan_exceptions_are_still_needed():
    reads = [(name, receiver, key) for name, tree in _sources(*MODEL_DIRS) if name != "plan/fields.py" for _, receiver, key, _ in _reads(tree)
             if key in V2_KEYS]
    assert not NOT_YET - {(name, key) for name, _, key in reads}, f"remove from NOT_YET: {sorted(NOT_YET - {(n, k) for n, _, k in reads})}"
    assert not set(NOT_V2_MODEL) - {(name, receiver) for name, receiver, _ in reads}, "remove the unused NOT_V2_MODEL entries"


def _calls(tree: ast.AST, name: str) -> list[int]:
    return [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func).split(".")[-1] == name]


def test_one_owner_marker_lookup():
    """Only gpuctl.v2.owner reads GPUCTL_PROJECT off an object (writing the marker is elsewhere)."""
    offenders = [f"gpuctl/{name}:{n.lineno}" for name, tree in _sources(".") if not name.startswith("local/") and name != "v2.py"
                 for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "get"
                 and n.args and ast.unparse(n.args[0]) == "MARKER_ENV"]
    assert not offenders, "use gpuctl.v2.owner:\n" + "\n".join(offenders)


def test_one_http_client_stack():
    """Outside the provider package, only cli/connect.client builds an ApiClient, so --debug
    and --record see every request the client side sends."""
    offenders = [f"gpuctl/{name}:{line}" for name, tree in _sources(".") if not name.startswith(("local/", "provider/"))
                 and name != "cli/connect.py" for line in _calls(tree, "ApiClient")]
    assert not offenders, "build clients with gpuctl.cli.connect.client:\n" + "\n".join(offenders)


def raw_v2_bodies(dirs=SEAM_DIRS) -> list[str]:
    return [f"gpuctl/{name}:{line}: {within or 'module'} builds {keys}"
            for name, tree in _sources(*dirs) for line, within, keys in _bodies(tree) if (name, within) not in OWN_DOCUMENTS]


def test_request_bodies_are_built_by_v2():
    """A template patch, a volume resize or a pod request spelled at its call site would make a
    renamed v2 field an edit there too: they are built by gpuctl.v2's builders."""
    offenders = raw_v2_bodies()
    assert not offenders, "build these with gpuctl.v2 (template_request, template_patch, volume_patch, pod_request):\n" + "\n".join(offenders)


def test_the_body_rule_can_fail():
    tree = ast.parse('def renew(p):\n    p.update_template(t, {"env": env})\nx = dict(size=3, name="a")\ny = {"name": "a"}\n')
    assert [(line, within, keys) for line, within, keys in _bodies(tree)] == [(2, "def renew", ["env"]), (3, "", ["size"])]


def test_the_document_exceptions_are_still_needed():
    used = {(name, within) for name, tree in _sources(*SEAM_DIRS) for _, within, _ in _bodies(tree)}
    assert not set(OWN_DOCUMENTS) - used, f"remove these from OWN_DOCUMENTS: {sorted(set(OWN_DOCUMENTS) - used)}"
