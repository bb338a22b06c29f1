"""The golden helper of tests/conftest.py cannot pass by writing its own expectation: a
missing golden file fails unless regeneration is asked for, by either variable's name."""

from __future__ import annotations

import pytest

from tests.conftest import UPDATE_GOLDEN_VARIABLES, golden


@pytest.fixture
def no_regeneration(monkeypatch):
    for name in UPDATE_GOLDEN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("setting", [None, "", "0"], ids=["unset", "empty", "zero"])
def test_a_missing_golden_file_fails_and_is_not_written(no_regeneration, tmp_path, setting):
    if setting is not None:
        no_regeneration.setenv("UPDATE_GOLDEN", setting)
    missing = tmp_path / "expected.txt"
    with pytest.raises(AssertionError, match="expected.txt is missing .*GPUCTL_UPDATE_GOLDEN=1"):
        golden(missing, "first output\n")
    assert not missing.exists()


def test_a_golden_file_that_differs_fails_and_is_kept(no_regeneration, tmp_path):
    path = tmp_path / "expected.txt"
    path.write_text("reviewed\n")
    with pytest.raises(AssertionError, match="expected.txt differs"):
        golden(path, "changed\n")
    assert path.read_text() == "reviewed\n"
    golden(path, "reviewed\n")


@pytest.mark.parametrize("name", UPDATE_GOLDEN_VARIABLES)
def test_regeneration_is_asked_for_by_either_name(no_regeneration, tmp_path, name):
    no_regeneration.setenv(name, "1")
    path = tmp_path / "expected.txt"
    golden(path, "new output\n")
    assert path.read_text() == "new output\n"
