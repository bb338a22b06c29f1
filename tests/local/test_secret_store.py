"""The local provider's secret store (gpuctl.local.datadir.secrets, ADR 32): private files,
RunPod's name rules, and resolution of `{{ RUNPOD_SECRET_<name> }}` in a worker's env."""

from __future__ import annotations

import os
import stat

import pytest

from gpuctl.local.datadir.secrets import DamagedSecret, MissingSecret, Secrets, name_problem, resolve, value_problem
from tests.local.secret_damage import DAMAGE, damage


def test_a_secret_is_a_private_file_whatever_the_umask(tmp_path):
    store = Secrets(tmp_path / "secrets")
    old = os.umask(0o022)
    try:
        assert store.put("hf_token", "v1") is False and store.put("hf_token", "v2") is True
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "secrets").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "secrets" / "hf_token").stat().st_mode) == 0o600
    assert store.names() == ["hf_token"] and store.read("hf_token") == "v2"
    assert store.delete("hf_token") and not store.delete("hf_token") and store.names() == []


def test_a_link_planted_in_the_store_is_damaged_and_never_followed(tmp_path):
    store = Secrets(tmp_path / "secrets")
    store.put("real", "x")
    (tmp_path / "elsewhere").write_text("your ssh key")
    (tmp_path / "secrets" / "planted").symlink_to(tmp_path / "elsewhere")
    assert store.names() == ["planted", "real"]
    with pytest.raises(DamagedSecret) as caught:
        store.read("planted")
    assert "your ssh key" not in str(caught.value) and "symbolic link" in str(caught.value)
    assert store.put("planted", "mine") is True  # set replaces the link, never writes through it
    assert (tmp_path / "elsewhere").read_text() == "your ssh key" and store.read("planted") == "mine"


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_a_damaged_secret_has_one_verdict_for_the_worker_and_the_listing(tmp_path, kind):
    """Review 4, R4-9: a secret file replaced by bytes that are not UTF-8, a 2 MB file, a FIFO or
    a link made workers say the provider "does not have" it while `list` listed it, and an empty
    file reached the worker as "". One reader now says what is wrong, for both."""
    store = Secrets(tmp_path / "secrets")
    store.put("api_tok", "tok-before")
    damage(tmp_path / "secrets", "api_tok", kind)
    assert store.names() == ["api_tok"]
    with pytest.raises(DamagedSecret) as read:
        store.read("api_tok")
    with pytest.raises(DamagedSecret) as resolving:
        resolve({"API_TOKEN": "{{ RUNPOD_SECRET_api_tok }}"}, store)
    verdict = str(read.value)
    assert verdict.startswith(f"secret api_tok is damaged ({DAMAGE[kind]}") and "`gpu local secret set api_tok`" in verdict, verdict
    assert str(resolving.value) == verdict and resolving.value.key == "API_TOKEN"
    assert str(store.problem("api_tok")) == verdict and store.problem("nothing_here") is None
    assert "tok" not in verdict.replace("api_tok", "")  # no byte of what is there is quoted
    if kind == "directory":  # the fix the verdict gives: set does not replace a directory
        assert f"remove the directory {tmp_path / 'secrets' / 'api_tok'}, then set it again" in verdict
        with pytest.raises(DamagedSecret):
            store.put("api_tok", "tok-after")
    else:  # the fix the verdict gives: set it again
        assert store.put("api_tok", "tok-after") is True and store.read("api_tok") == "tok-after" and store.problem("api_tok") is None


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


def test_a_secrets_directory_that_is_no_directory_is_a_verdict_for_the_worker_and_the_plan(tmp_path):
    """Stop 17, D2: with `secrets` a file, a worker's start (and the plan) said the provider "does
    not have" a secret, pointing at `secret set`, which then failed too."""
    from gpuctl.local.client.secrets import verdicts

    (tmp_path / "secrets").write_text("not a directory")
    store = Secrets(tmp_path / "secrets")
    with pytest.raises(DamagedSecret) as resolving:
        resolve({"API_TOKEN": "{{ RUNPOD_SECRET_api_tok }}"}, store)
    verdict = str(resolving.value)
    assert verdict.startswith(f"secret api_tok is damaged ({tmp_path / 'secrets'} is not a directory") and "move" in verdict, verdict
    known = verdicts(tmp_path)
    assert "api_tok" in known and known["api_tok"] == verdict and not list(known)  # any name's verdict; no name listed
