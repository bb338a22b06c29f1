"""What looks like a credential: keys by name, literal values by shape."""

from __future__ import annotations

import pytest

from gpuctl.policy.secrets import looks_generated
from gpuctl.redact import credential_key, url_passwords


@pytest.mark.parametrize("name,expected", [
    ("HF_TOKEN", True), ("GITHUB_TOKEN", True), ("OPENAI_API_KEY", True), ("AWS_SECRET_ACCESS_KEY", True), ("SECRET", True),
    ("client_secret", True), ("TOKENIZER", False), ("KEYBOARD_LAYOUT", False), ("MODEL_NAME", False), ("MAX_TOKENS", False),
])
def test_credential_keys(name, expected):
    assert credential_key(name) is expected


@pytest.mark.parametrize("name", [
    "DB_PASSWORD", "POSTGRES_PASSWD", "DB_PWD", "SMTP_PASS", "SSH_PASSPHRASE", "OPENAI_APIKEY", "APIKEY", "ANTHROPIC_API_KEYS", "API_KEYS",
    "GH_PAT", "GOOGLE_CREDENTIALS", "AZURE_CREDENTIAL", "PRIVATE_KEY_PEM", "JWT_PRIVATEKEY", "AWS_ACCESS_KEY_ID", "BASIC_AUTH", "AUTHORIZATION",
    "SESSION_COOKIE", "TOKEN", "db_password",
])
def test_the_usual_credential_names_are_credentials(name):
    """Review 3, R1: only `*_TOKEN`, `*_KEY` and `*SECRET*` were, so these passed
    `require_secret_env` and were printed in pull-request comments."""
    assert credential_key(name) is True


@pytest.mark.parametrize("name", [
    "MAX_TOKENS", "TOKENIZER", "TOKENIZER_MODE", "KEY_PREFIX", "KEYBOARD_LAYOUT", "MAX_MODEL_LEN", "MODEL_NAME", "PWD", "OLDPWD", "PATH",
    "OAUTH_CLIENT_ID", "AUTH_ENABLED", "AUTHOR", "COMPAT", "PATTERN", "BYPASS_CACHE", "PASSTHROUGH", "SORT_KEYS", "HF_HUB_ENABLE_HF_TRANSFER",
    "GPU_MEMORY_UTILIZATION", "MAX_NUM_SEQS", "HF_ENDPOINT", "LOG_LEVEL", "RUNPOD_VOLUME_PATH",
])
def test_common_settings_that_are_no_credentials_are_not(name):
    """What workers and the contract recipes read (vLLM's MAX_MODEL_LEN, TOKENIZER, MAX_TOKENS),
    and the shell's PWD, whose value (the working directory) would be masked in every output."""
    assert credential_key(name) is False


@pytest.mark.parametrize("value,expected", [
    ("postgres://app:hunter2@db.internal:5432/app", True), ("redis://:s3cretpw@cache:6379/0", True), ("https://user:tok@example.com/x", True),
    ("mongodb+srv://u:p%40ss@cluster0.example.net/db", True), ("see https://user:pw@host and more", True),
    ("postgres://app@db/app", False), ("https://example.com/a:b@c", False), ("https://example.com/?q=a:b@c", False), ("user:pw@host", False),
    ("http://localhost:8000", False), ("meta-llama/Llama-3.1-8B-Instruct", False),
])
def test_a_password_in_a_url_is_a_credential_whatever_the_key(value, expected):
    assert (url_passwords(value) != []) is expected


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
