"""A damaged saved plan given to `deploy --from-plan` is refused as "not a saved plan", naming
the file and the key, with the command that makes a good one; it never crashes and never
writes. Every field gpuctl reads from a saved plan is typed when the file is read
(gpuctl.render.document.read_saved), not found wrong where it is used."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import run_cli
from tests.e2e.conftest import echo_config, project
from tests.local.conftest import start_server, stop_server
from tests.support.documents import key_paths, replaced

SETTINGS = settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


class Deployed:
    """The echo project deployed to a local provider, with its no-change plan saved."""

    def __init__(self, root: Path):
        self.server = start_server(root / "provider")
        self.env = {"GPUCTL_LOCAL_DIR": str(self.server.data_dir), "GPU_PROVIDER": "local", "HOME": str(root)}
        self.dir = project(root / "proj", echo_config())
        assert self.gpu("serverless", "deploy", "-y").code == 0
        made = self.gpu("serverless", "deploy", "--plan", "--out", "plan.json")
        assert made.code == 0, made.err
        self.plan = json.loads((self.dir / "plan.json").read_text())
        self.writes = self.server.admin("GET", "requests")["writes"]

    def gpu(self, *args: str):
        return run_cli(list(args), self.dir, self.env)

    def apply(self, doc: Any):
        path = self.dir / "plan.json"  # absolute: click checks the path against the process's cwd
        path.write_text(json.dumps(doc))
        return self.gpu("serverless", "deploy", "--from-plan", str(path))


@pytest.fixture(scope="module")
def deployed(tmp_path_factory) -> Iterator[Deployed]:
    made = Deployed(tmp_path_factory.mktemp("saved-plans"))
    yield made
    stop_server(made.server)


def assert_refused_or_applied(deployed: Deployed, result) -> None:
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    assert result.code in (0, 1, 4), result
    if result.code:
        assert result.err.startswith("error: ") and "\nhint: " in result.err, result.err
    assert deployed.server.admin("GET", "requests")["writes"] == deployed.writes  # a no-change plan writes nothing


DAMAGED = {  # each was an internal error: the field was read as the shape deploy writes
    "overrides-a-string": (("overrides",), "x"),
    "overrides-item-a-number": (("overrides",), [1]),
    "override-without-flag": (("overrides",), [{}]),
    "override-without-value": (("overrides",), [{"flag": "--max-workers"}]),
    "policy-a-string": (("policy",), "x"),
    "policy-a-list": (("policy",), ["x"]),
    "violation-without-fields": (("policy",), {"violations": [{}]}),
    "violations-a-string": (("policy",), {"violations": "x"}),
    "resource-without-address": (("resource_changes",), [{"action": "create"}]),
    "change-without-path": (("resource_changes", 0, "changes"), [{}]),
}


@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_a_damaged_field_is_not_a_saved_plan(deployed, case):
    path, value = DAMAGED[case]
    result = deployed.apply(replaced(deployed.plan, path, value))
    assert result.code == 1 and "plan.json is not a saved plan: " + str(path[0]) in result.err, result.err
    assert "hint: save a plan with `gpu serverless deploy --plan --out plan.json`" in result.err, result.err
    assert deployed.server.admin("GET", "requests")["writes"] == deployed.writes


def test_the_saved_plan_itself_applies(deployed):
    assert deployed.apply(deployed.plan).code == 0


_odd = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=5)
        | st.sampled_from([[], [1], [None], [{}], {}, {"violations": [{}]}, [{"flag": 1}], "\x00", "x" * 10_000]))


@SETTINGS
@given(data=st.data())
def test_any_value_at_any_key_path_is_refused_or_applied(deployed, data):
    paths = sorted({p for p in key_paths(deployed.plan) if p} | {("policy",), ("overrides",)}, key=str)
    path = data.draw(st.sampled_from(paths))
    assert_refused_or_applied(deployed, deployed.apply(replaced(deployed.plan, path, data.draw(_odd))))


@pytest.mark.parametrize("value", ["x" * 100_000, json.loads("[" * 500 + "]" * 500), float("nan"), True], ids=["long", "deep", "nan", "true"])
def test_an_override_value_of_a_saved_plan_is_shown_short_and_as_json_spells_it(deployed, value):
    """A saved plan whose override was edited was refused with the value printed whole (100,000
    characters into a CI log) and as Python spells it (`nan`, `True`, `[[[...]]]`)."""
    doc = {**deployed.plan, "overrides": [{"flag": "--max-workers", "path": "scaling.max_workers", "value": value}]}
    result = deployed.apply(doc)
    assert result.code == 1 and "the plan was made with --max-workers " in result.err, result.err
    shown = result.err.split("the plan was made with --max-workers ", 1)[1].split(", and this run has", 1)[0]
    assert len(shown) <= 61 and shown in ('x' * 60 + "…", "a list", "NaN", "true"), shown
    assert deployed.server.admin("GET", "requests")["writes"] == deployed.writes
