"""A gpu.jsonc without `project_id`: the ownership marker is the directory's name (review 2, F1)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import echo_config, project

pytestmark = pytest.mark.e2e


def unnamed(directory):
    """The contract's Quick Start shape: no `project_id` and no `name`."""
    config = echo_config()
    del config["project_id"]
    del config["serverless"]["name"]
    return project(directory, config)


def test_the_warning_says_which_project_id_keeps_the_endpoints_deployed_so_far(account, tmp_path):
    """The warning said "Set project_id to keep it stable" without a value: a user who set any
    other value than the directory's name made the endpoint deployed so far another project's
    (a new endpoint planned, the old one still billing and unmentioned). It names the value."""
    proj = unnamed(tmp_path / "p")
    deployed = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert deployed.code == 0, deployed.err
    plan = account.gpu("serverless", "deploy", "--plan", cwd=proj)
    said = " ".join((plan.out + plan.err).split())
    assert plan.code == 0, plan.err
    assert 'add "project_id": "p" to gpu.jsonc to keep managing the endpoints deployed so far' in said, said


def test_a_clone_under_another_directory_name_is_told_which_project_runs_its_image(account, tmp_path):
    """The Quick Start config (no `project_id`, no `name`) copied to a directory of another name
    (a teammate's clone, a CI checkout named after the repo) planned `+ endpoint "p-clone"` with
    nothing said about endpoint "p" of project "p" running the same image: `deploy -y` made a
    second billing endpoint. The create's warning names that endpoint and the project_id that
    manages it."""
    first = unnamed(tmp_path / "p")
    assert account.gpu("serverless", "deploy", "-y", cwd=first).code == 0
    (theirs,) = account.endpoints()
    clone = unnamed(tmp_path / "p-clone")
    plan = account.gpu("serverless", "deploy", "--plan", "--json", cwd=clone)
    assert plan.code == 0, plan.err
    doc = plan.json()
    (create,) = [r for r in doc["resource_changes"] if r["action"] == "create"]
    assert create["address"] == "endpoint.p-clone"
    (warning,) = [w for w in doc["warnings"] if w["address"] == "endpoint.p-clone" and theirs["id"] in w["message"]]
    assert 'project "p"' in warning["message"] and 'set "project_id": "p"' in warning["message"], warning
    text = " ".join(account.gpu("serverless", "deploy", "--plan", cwd=clone).out.split())
    assert 'set "project_id": "p"' in text, text
    # With project_id set, whatever its value, the user chose: nothing is guessed.
    chosen = echo_config(project_id="team-b")
    del chosen["serverless"]["name"]
    doc = account.gpu("serverless", "deploy", "--plan", "--json", cwd=project(tmp_path / "b", chosen)).json()
    assert not [w for w in doc["warnings"] if theirs["id"] in w["message"]], doc["warnings"]
