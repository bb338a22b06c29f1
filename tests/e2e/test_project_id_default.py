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
