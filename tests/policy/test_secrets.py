"""What looks like a credential: keys by name, literal values by shape."""

from __future__ import annotations

import pytest

from gpuctl.policy.secrets import looks_generated
from gpuctl.redact import credential_key


@pytest.mark.parametrize("name,expected", [
    ("HF_TOKEN", True), ("GITHUB_TOKEN", True), ("OPENAI_API_KEY", True), ("AWS_SECRET_ACCESS_KEY", True), ("SECRET", True),
    ("client_secret", True), ("TOKENIZER", False), ("KEYBOARD_LAYOUT", False), ("MODEL_NAME", False), ("MAX_TOKENS", False),
])
def test_credential_keys(name, expected):
    assert credential_key(name) is expected


@pytest.mark.parametrize("value", [
    "hf_kQzPwLmXyRtBvNcDfGhJsAeUiOp1234567", "sk-proj-4f9aB2c8D1e7F3g6H5i0J", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "d41d8cd98f00b204e9800998ecf8427e", "postgres://app:pAs5w0rdXyZ9kQ2mN7bV4cL1@db:5432/app",
])
def test_generated_values_are_found(value):
    assert looks_generated(value)


@pytest.mark.parametrize("value", [
    "meta-llama/Llama-3.1-8B-Instruct", "runwayml/stable-diffusion-v1-5", "TheBloke/Llama-2-7B-Chat-GPTQ", "ghcr.io/example/echo-worker:0.1.0",
    "MY_SETTING_VALUE_FOR_PROD_2024", "550e8400-e29b-41d4-a716-446655440000", "https://api.example.com/v1/chat", "hello", "",
])
def test_ordinary_values_are_not(value):
    assert not looks_generated(value)
