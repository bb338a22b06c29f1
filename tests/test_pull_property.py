"""`pull`, as a property: for a random gpu.jsonc (commented on every line, trailing commas
everywhere) deployed to a snapshot of the account, and random console edits of every editable
declared field, pull's rewrite leaves the planner with no difference except the env values it
must not copy, keeps every comment and the order of every key, and a second pull finds
nothing. Against snapshots (the pure planner and the pure in-memory apply), so it can try
many accounts; tests/e2e/test_pull.py drives the real CLI against the local provider."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpuctl.config import build_desired, load_config
from gpuctl.config.edit import comments
from gpuctl.config.pull import pull
from gpuctl.config.sourcemap import scan
from gpuctl.model import Observed
from gpuctl.plan import plan
from gpuctl.plan.fields import gpu_selection
from gpuctl.render.document import to_document
from tests.support.apply import apply_plan
from tests.support.strategies import CATALOG, SERVERLESS_GPUS, STORAGE_DCS, blocks

SPARE = {"id": "spare00001", "name": "spare-volume", "size": 80, "dataCenter": "EU-RO-1", "type": "STANDARD"}
EDITS = ("workers", "idle", "scaler", "timeout", "flashboot", "disk", "image", "gpus", "data_centers", "ports",
         "env_change", "env_remove", "env_secret", "env_plain", "volume", "model")


def commented(config: dict) -> str:
    """The config as a person might keep it: a comment after every line, a block comment
    before every member, and a trailing comma after every last member."""
    lines = json.dumps(config, indent=2).split("\n")
    out = ["// gpu.jsonc, kept by hand", "/* header */"]
    for number, line in enumerate(lines):
        following = lines[number + 1].strip() if number + 1 < len(lines) else ""
        if following[:1] in ("}", "]") and line.rstrip()[-1:] not in ("{", "[", ","):
            line += ","
        if re.match(r'\s*"', line):
            out.append(re.match(r"\s*", line).group() + f"/* before line {number} */")
        out.append(f"{line} // line {number}")
    return "\n".join(out) + "\n// the end\n"


def _load(tmp: Path, text: str):
    path = tmp / "gpu.jsonc"
    path.write_text(text)
    loaded = load_config(path, catalog=CATALOG)
    return loaded, build_desired(loaded, {}, CATALOG)


@st.composite
def edited(draw, endpoint: dict, volume_dc: str | None, derived: set[str]) -> tuple[dict, set[str], frozenset[str]]:
    """The endpoint after console edits, and the env paths pull must leave to the user: a
    plain value the console added, and an env var gpuctl derives (`derived`) that it removed."""
    e = copy.deepcopy(endpoint)
    chosen = draw(st.sets(st.sampled_from(EDITS), min_size=1))
    workers, env, leave = e["workers"], e["env"], set()
    workers.setdefault("idleTimeout", 5)  # RunPod reports its default where gpuctl sent none (request_count)
    if "workers" in chosen:
        low = draw(st.integers(0, 4))
        workers.update(min=low, max=draw(st.integers(max(low, 1), 9)))
    if "idle" in chosen:
        workers["idleTimeout"] = draw(st.integers(1, 3600))
    if "scaler" in chosen:
        kind = draw(st.sampled_from(["QUEUE_DELAY", "REQUEST_COUNT"]))
        e["scaling"] = {"type": kind, "queueDelay" if kind == "QUEUE_DELAY" else "requestCount": draw(st.integers(1, 60))}
    if "timeout" in chosen:
        e["timeout"] = draw(st.integers(5_000, 3_600_000))
    if "flashboot" in chosen:
        e["flashboot"] = "OFF" if e["flashboot"] == "FLASHBOOT" else "FLASHBOOT"
    if "disk" in chosen:
        e["disk"] = draw(st.integers(1, 500))
    if "image" in chosen:
        e["image"] = f"registry.example/console-{draw(st.integers(1, 99))}:2"
    if "gpus" in chosen:
        pools, excluded = gpu_selection(tuple(draw(st.lists(st.sampled_from(SERVERLESS_GPUS), min_size=1, max_size=4, unique=True))), CATALOG)
        e["gpu"] = {**e["gpu"], "pools": pools, "excludedTypes": excluded}
    if "data_centers" in chosen:  # a volume stays reachable: its data center stays allowed
        picked = draw(st.lists(st.sampled_from(STORAGE_DCS), max_size=3, unique=True))
        e["dataCenterIds"] = picked + ([volume_dc] if volume_dc and picked and volume_dc not in picked else [])
    if "ports" in chosen:
        e["ports"] = draw(st.lists(st.sampled_from(["8000/http", "8080/http", "22/tcp", "9000/tcp"]), unique=True, max_size=3))
    own = sorted(k for k in env if not k.startswith("GPUCTL_"))
    literal = set()
    if own and "env_change" in chosen:
        changed = draw(st.sampled_from(own))
        before, env[changed] = env[changed], draw(st.text(alphabet="abcdefghij-_", min_size=1, max_size=10))
        if changed not in derived and env[changed] != before:  # a literal the console changed: copied only with --literal-env (review 3, R11)
            if draw(st.booleans()):
                literal.add(changed)
            else:
                leave.add(f"env.{changed}")
    if own and "env_remove" in chosen:
        removed = draw(st.sampled_from(own))
        env.pop(removed)
        leave.discard(f"env.{removed}")  # changed, then removed: pull removes it
        literal.discard(removed)
        leave |= {f"env.{removed}"} & {f"env.{k}" for k in derived}
    if "env_secret" in chosen:
        env["CONSOLE_SECRET"] = "{{ RUNPOD_SECRET_console.key }}"
    if "env_plain" in chosen:
        env["CONSOLE_PLAIN"] = "typed-in-the-console"
        leave.add("env.CONSOLE_PLAIN")
    if "volume" in chosen and not volume_dc and SPARE["dataCenter"] in (e["dataCenterIds"] or [SPARE["dataCenter"]]):
        e["networkVolumes"] = [SPARE["id"]]
    elif "volume" in chosen:
        e["networkVolumes"] = []
    if "model" in chosen and e.get("modelReferences"):
        e["modelReferences"] = [f"https://huggingface.co/org/other-{draw(st.integers(1, 9))}:main"]
    return e, leave, frozenset(literal)


def _key_order(text: str) -> list[tuple]:
    return [path for path, _ in sorted(scan(text).positions.items(), key=lambda item: item[1])]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_pull_then_plan_is_empty_and_every_comment_survives(tmp_path, data):
    config = {"project_id": "prop", "serverless": data.draw(blocks("prop-ep"))}
    text = commented(config)
    loaded, desired = _load(tmp_path, text)
    deployed = apply_plan(plan(desired, Observed(network_volumes=(SPARE,)), CATALOG), Observed(network_volumes=(SPARE,)))
    (endpoint,) = deployed.endpoints
    own_volume = next((v for v in deployed.network_volumes if v["id"] in endpoint["networkVolumes"]), None)
    runpod = config["serverless"]["runpod"]
    derived = {"MODEL_NAME"} if runpod.get("cached_model") and "MODEL_NAME" not in runpod["env"] else set()
    live, leave, literal = data.draw(edited(endpoint, own_volume["dataCenter"] if own_volume else None, derived))
    observed = Observed((live,), deployed.network_volumes, deployed.templates)
    changes = to_document(plan(desired, observed, CATALOG))["resource_changes"]

    result = pull(text, loaded, changes, {live["id"]: live}, list(observed.network_volumes), CATALOG, literal=literal)

    assert comments(result.text) == comments(text)
    kept = [p for p in _key_order(text) if p in scan(result.text).positions]
    assert [p for p in _key_order(result.text) if p in kept] == kept
    again_loaded, again = _load(tmp_path, result.text)
    left = {c.path for r in plan(again, observed, CATALOG).changes for c in r.changes}
    assert left == leave, result.text
    assert {item.field for item in result.left} == leave
    assert "typed-in-the-console" not in result.text
    second = pull(result.text, again_loaded, to_document(plan(again, observed, CATALOG))["resource_changes"], {live["id"]: live},
                  list(observed.network_volumes), CATALOG, literal=literal)
    assert second.pulled == [] and second.text == result.text


def _one_change(origin: str | None) -> list[dict]:
    change = {"path": "workers.max", "before": 7, "after": 2, "sensitive": False, "forces_replace": False}
    if origin:
        change["origin"] = origin
    return [{"kind": "endpoint", "name": "prop-ep", "address": "endpoint.prop-ep", "id": "ep1", "action": "update", "changes": [change]}]


def test_a_change_made_in_gpu_jsonc_is_kept_and_a_missing_origin_counts_as_unknown(tmp_path):
    text = '{"project_id": "prop", "serverless": {"name": "prop-ep", "template": "whisper", "gpu_type": "NVIDIA L4",\n  "scaling": {"max_workers": 2}}}\n'
    loaded, desired = _load(tmp_path, text)
    (live,) = apply_plan(plan(desired, Observed(), CATALOG), Observed()).endpoints
    live = {**live, "id": "ep1", "workers": {**live["workers"], "max": 7}}
    kept = pull(text, loaded, _one_change("config"), {"ep1": live}, [], CATALOG)
    assert kept.text == text and kept.pulled == [] and [k.field for k in kept.kept] == ["workers.max"]
    for origin, shown in ((None, "unknown"), ("account", "account"), ("both", "both")):
        taken = pull(text, loaded, _one_change(origin), {"ep1": live}, [], CATALOG)
        assert '"max_workers": 7' in taken.text and [p.origin for p in taken.pulled] == [shown]
