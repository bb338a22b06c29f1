"""The local provider's secret store (gpuctl.local.datadir.secrets, ADR 32): private files,
RunPod's name rules, and resolution of `{{ RUNPOD_SECRET_<name> }}` in a worker's env."""

from __future__ import annotations

import os
import stat

import pytest

from gpuctl.local.datadir.secrets import MissingSecret, Secrets, name_problem, resolve, value_problem


def test_a_secret_is_a_private_file_whatever_the_umask(tmp_path):
    store = Secrets(tmp_path / "secrets")
    old = os.umask(0o022)
    try:
        assert store.put("hf_token", "v1") is False and store.put("hf_token", "v2") is True
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "secrets").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "secrets" / "hf_token").stat().st_mode) == 0o600
    assert store.names() == ["hf_token"] and store.value("hf_token") == "v2"
    assert store.delete("hf_token") and not store.delete("hf_token") and store.names() == []


def test_a_link_planted_in_the_store_is_no_secret(tmp_path):
    store = Secrets(tmp_path / "secrets")
    store.put("real", "x")
    (tmp_path / "elsewhere").write_text("your ssh key")
    (tmp_path / "secrets" / "planted").symlink_to(tmp_path / "elsewhere")
    assert store.names() == ["real"] and store.value("planted") is None


@pytest.mark.parametrize("name", ["", "1abc", "a/b", "../x", "RUNPOD_x", "runpod", "a b", "x" * 192])
def test_names_runpod_refuses_are_refused(name):
    assert name_problem(name) is not None


@pytest.mark.parametrize("name", ["hf_token", "_x", "acme.token", "hf-token", "A" * 191])
def test_names_runpod_takes_are_taken(name):
    assert name_problem(name) is None


def test_values_no_environment_can_carry_are_refused_without_quoting_them():
    for value in ("", "a\0b", "x" * (128 * 1024)):
        problem = value_problem(value)
        assert problem is not None and (not value or value not in problem)
    assert value_problem("fine") is None


def test_references_resolve_anywhere_in_a_value_and_a_missing_one_is_named(tmp_path):
    store = Secrets(tmp_path / "secrets")
    store.put("user", "alice")
    store.put("pw", "s3cret")
    env = {"PLAIN": "hello", "URL": "postgres://{{ RUNPOD_SECRET_user }}:{{RUNPOD_SECRET_pw}}@db/x", "PW": "{{ RUNPOD_SECRET_pw }}"}
    assert resolve(env, store) == {"PLAIN": "hello", "URL": "postgres://alice:s3cret@db/x", "PW": "s3cret"}
    with pytest.raises(MissingSecret) as caught:
        resolve({"A": "ok", "HF": "{{ RUNPOD_SECRET_hf }}"}, store)
    assert (caught.value.key, caught.value.name) == ("HF", "hf") and "s3cret" not in str(caught.value)
