"""The names of the account lease and of the name claims (review 5, R5-4; ADR 44): a project's
lease never has the name of a claim, whatever its id (any printable text up to 191
characters), and every project whose id could not collide keeps the name every gpuctl takes."""

from __future__ import annotations

import hashlib

from gpuctl.engine.lease import is_claim, lease_name

LONG = "p" * 191
IDS = ["app", "endpoint-e5", "endpoint-api2", "volume-EU-RO-1-data", "endpoint", "volume", "project-x", "sha256-1",
       LONG, LONG[:-1] + "q", "endpoint-" + "e" * 180, "lease-x", "x" * 178, "x" * 179, "ünïcode id", "a b/c:d"]
NAMES = ["e5", "api2", "api", "x", LONG, "e" * 180, "EU-RO-1-data"]


def test_no_project_lease_is_named_like_a_claim():
    projects = {pid: lease_name("project", pid) for pid in IDS}
    claims = {lease_name("endpoint", n) for n in NAMES + IDS} | {lease_name("volume", f"EU-RO-1-{n}") for n in NAMES + IDS}
    assert len(set(projects.values())) == len(IDS), projects  # one name per project
    assert not set(projects.values()) & claims, set(projects.values()) & claims
    assert all(is_claim(c) for c in claims) and not any(is_claim(p) for p in projects.values())
    assert all(len(name) <= 191 for name in [*projects.values(), *claims])


def test_only_ids_that_would_collide_are_renamed():
    assert lease_name("project", "my-app") == "gpuctl-lock-my-app"  # as every gpuctl names it: versions still exclude each other
    assert lease_name("project", LONG) == f"gpuctl-lock-project-sha256-{hashlib.sha256(LONG.encode()).hexdigest()}"
    assert lease_name("project", "endpoint-e5") == "gpuctl-lease-endpoint-e5"
    assert lease_name("project", "volume-x") == "gpuctl-lease-volume-x"
    assert lease_name("endpoint", "e5") == "gpuctl-lock-endpoint-e5"
