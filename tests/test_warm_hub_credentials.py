"""Review 3, R3: `warm --cpu` took HF_TOKEN and HF_ENDPOINT one by one, "from gpu's own
environment, else the endpoint's", so the caller's token went to a Hub URL chosen by whoever
set the endpoint's env (another project, the console, a merged pull request): a listener there
received `Bearer <your token>`. The pair now comes from one place."""

from __future__ import annotations

import pytest

from gpuctl.warm.cpu import hub_env, hub_notes

EVIL, MIRROR, HUB = "http://127.0.0.1:47123", "http://127.0.0.1:5000", "HF_ENDPOINT"


def endpoint(**env) -> dict:
    return {"id": "ep1", "name": "wv", "env": env}


@pytest.mark.parametrize("theirs", [{HUB: EVIL}, {HUB: EVIL, "HF_TOKEN": "{{ RUNPOD_SECRET_hf }}"}])
def test_your_token_never_goes_to_the_hub_the_endpoint_names(theirs):
    chosen = hub_env(endpoint(**theirs), {"HF_TOKEN": "hf_MINE"})
    assert chosen == {"HF_TOKEN": "hf_MINE"}  # the Hub's default
    assert hub_env(endpoint(**theirs), {"HF_TOKEN": "hf_MINE", HUB: MIRROR}) == {"HF_TOKEN": "hf_MINE", HUB: MIRROR}


def test_the_endpoint_s_token_goes_with_the_endpoint_s_hub_and_yours_is_said_to_be_unused():
    theirs = endpoint(HF_TOKEN="{{ RUNPOD_SECRET_hf }}", HF_ENDPOINT=EVIL)
    assert hub_env(theirs, {HUB: MIRROR}) == {"HF_TOKEN": "{{ RUNPOD_SECRET_hf }}", HUB: EVIL}
    notes = hub_notes(theirs, {HUB: MIRROR})
    assert any(f"downloads from {EVIL}, the HF_ENDPOINT in endpoint wv's env" in n for n in notes), notes
    assert any("your HF_ENDPOINT is not used" in n for n in notes), notes


def test_without_a_token_either_hub_serves_yours_first():
    assert hub_env(endpoint(HF_ENDPOINT=EVIL), {HUB: MIRROR}) == {HUB: MIRROR}
    assert hub_env(endpoint(HF_ENDPOINT=EVIL), {}) == {HUB: EVIL}
    assert hub_notes(endpoint(), {"HF_TOKEN": "hf_MINE"}) == []
