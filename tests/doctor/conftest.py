"""The end-to-end fixtures of tests/e2e: a local provider in a temporary data dir and the real
`gpu` CLI run against it."""

from tests.e2e.conftest import account  # noqa: F401 - a fixture, used by name
