"""`gpu serverless list` names GPUs as people wrote them (issue 8, item 7): the project's
endpoints show gpu_type and gpu_types from gpu.jsonc; other endpoints (`--all`) show the GPU
type a pool stands for when the catalog says so unambiguously, else the pool. `--json` adds
`gpus` and `pools` and keeps `gpu` (RunPod's pools) as it was."""

from __future__ import annotations

import json

from tests.e2e.conftest import echo_config, project

RTX_4090 = "NVIDIA GeForce RTX 4090"
AMPERE_24 = ["NVIDIA L4", "NVIDIA RTX A5000", "NVIDIA GeForce RTX 3090"]  # the whole pool, in the order written


def blocks() -> list[dict]:
    """solo runs on one GPU type; mixed lists a whole pool, which reads back only as the pool."""
    solo = echo_config(name="solo")["serverless"]
    mixed = echo_config(name="mixed")["serverless"] | {"gpu_types": AMPERE_24}
    return [solo, mixed]


def by_name(run) -> dict[str, dict]:
    assert run.code == 0, run.err
    return {row["name"]: row for row in run.json()["endpoints"]}


def test_list_shows_the_gpu_types_as_written(account, tmp_path):
    proj = project(tmp_path / "p", {"project_id": "e2e-list", "serverless": blocks()})
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj).code == 0

    rows = by_name(account.gpu("serverless", "list", "--json", "--provider", "local", cwd=proj))
    assert rows["solo"]["gpus"] == [RTX_4090] and rows["solo"]["pools"] == ["ADA_24"] and rows["solo"]["gpu"] == "ADA_24"
    assert rows["mixed"]["gpus"] == [RTX_4090, *AMPERE_24]
    assert rows["mixed"]["pools"] == ["ADA_24", "AMPERE_24"] and rows["mixed"]["gpu"] == "ADA_24, AMPERE_24"

    table = account.gpu("serverless", "list", "--provider", "local", cwd=proj, env={"COLUMNS": "400"})
    lines = {line.split()[0]: line for line in table.out.splitlines()[1:]}
    assert RTX_4090 in lines["solo"] and "ADA_24" not in lines["solo"]
    assert ", ".join([RTX_4090, *AMPERE_24]) in lines["mixed"] and "AMPERE_24" not in lines["mixed"]


def test_a_missing_endpoint_still_shows_its_gpu_types(account, tmp_path):
    proj = project(tmp_path / "p", {"project_id": "e2e-list", "serverless": blocks()[:1]})
    rows = by_name(account.gpu("serverless", "list", "--json", "--provider", "local", cwd=proj))
    assert rows["solo"]["state"] == "missing" and rows["solo"]["gpus"] == [RTX_4090] and rows["solo"]["pools"] is None


def test_list_all_reads_pools_back_when_unambiguous(account, tmp_path):
    proj = project(tmp_path / "p", {"project_id": "e2e-list", "serverless": blocks()})
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj).code == 0
    all_but_a4000 = ["NVIDIA RTX 2000 Ada Generation", "NVIDIA RTX 4000 Ada Generation", "NVIDIA RTX A4500"]
    for name, gpu in (("by-hand", {"pools": ["AMPERE_16"], "excludedTypes": all_but_a4000}), ("wide", {"pools": ["AMPERE_16"]})):
        created = account.server.http.post("/v2/serverless", json={"name": name, "type": "QUEUE", "image": "x/y:1", "gpu": gpu,
                                                                    "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}})
        assert created.status_code == 201, created.text
    outside = tmp_path / "elsewhere"
    outside.mkdir()

    rows = by_name(account.gpu("serverless", "list", "--all", "--json", "--provider", "local", cwd=outside))
    assert rows["by-hand"]["gpus"] == ["NVIDIA RTX A4000"]  # one type of the pool let through
    assert rows["wide"]["gpus"] is None and rows["wide"]["pools"] == ["AMPERE_16"]  # four types: the pool says it
    assert rows["solo"]["gpus"] == [RTX_4090]
    assert rows["mixed"]["gpus"] is None  # without gpu.jsonc, AMPERE_24 is three types

    inside = by_name(account.gpu("serverless", "list", "--all", "--json", "--provider", "local", cwd=proj))
    assert inside["mixed"]["gpus"] == [RTX_4090, *AMPERE_24] and inside["wide"]["gpus"] is None

    table = account.gpu("serverless", "list", "--all", "--provider", "local", cwd=outside, env={"COLUMNS": "400"})
    lines = {line.split()[0]: line for line in table.out.splitlines()[1:]}
    assert "NVIDIA RTX A4000" in lines["by-hand"] and "AMPERE_16" in lines["wide"] and "ADA_24, AMPERE_24" in lines["mixed"]


def test_list_names_the_variables_it_could_not_read_in_a_sentence_that_fits_their_number(account, tmp_path):
    block = echo_config(name="solo", env={"TOKEN": "${API_TOKEN}"})["serverless"]
    proj = project(tmp_path / "p", {"project_id": "e2e-list", "serverless": [block]})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env={"API_TOKEN": "s3cret-value-1"}).code == 0
    one = account.gpu("serverless", "list", cwd=proj)
    assert one.code == 0 and "note: API_TOKEN not set here; env values read from it are not compared" in one.err, one.err
    block["runpod"]["env"]["OTHER"] = "${OTHER_TOKEN}"
    (proj / "gpu.jsonc").write_text(json.dumps({"project_id": "e2e-list", "serverless": [block]}))
    two = account.gpu("serverless", "list", cwd=proj)
    assert "note: API_TOKEN, OTHER_TOKEN not set here; env values read from them are not compared" in two.err, two.err


def test_status_names_the_gpu_types_as_list_does(account, tmp_path):
    """Review 3, L10: `status` showed the pools (`gpu ADA_24`, `ADA_24, AMPERE_24 minus 2 types`)
    where `list` shows the GPU types gpu.jsonc names; an on-call engineer reading both could
    not tell they were the same endpoint's GPUs. Status now shows the same names as list, and
    --json keeps `gpu` (RunPod's pools) as it was."""
    proj = project(tmp_path / "p", {"project_id": "e2e-list", "serverless": blocks()})
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj).code == 0

    doc = account.gpu("serverless", "status", "mixed", "--json", "--provider", "local", cwd=proj).json()
    assert doc["scaling"]["gpus"] == [RTX_4090, *AMPERE_24] and doc["scaling"]["gpu"] == "ADA_24, AMPERE_24"
    panel = account.gpu("serverless", "status", "mixed", "--provider", "local", cwd=proj, env={"COLUMNS": "400"})
    gpu_line = next(line for line in panel.out.splitlines() if line.split()[1:2] == ["gpu"])
    assert ", ".join([RTX_4090, *AMPERE_24]) in gpu_line and "AMPERE_24" not in gpu_line, panel.out

    outside = tmp_path / "elsewhere"
    outside.mkdir()  # no gpu.jsonc: the pool read back when it stands for one type, else the pool
    solo = account.gpu("serverless", "status", "solo", "--json", "--provider", "local", cwd=outside).json()
    assert solo["scaling"]["gpus"] == [RTX_4090]
    mixed = account.gpu("serverless", "status", "mixed", "--json", "--provider", "local", cwd=outside).json()
    assert mixed["scaling"]["gpus"] is None and mixed["scaling"]["gpu"] == "ADA_24, AMPERE_24"
