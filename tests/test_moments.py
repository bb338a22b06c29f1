"""Timestamps read from the account are UTC when they name no zone: read as local time (as
`datetime.fromisoformat(...).timestamp()` does), a release's createdAt or a record's applied_at
had another moment on a machine in another zone, and `history` attributed releases by it."""

from __future__ import annotations

import pytest

from gpuctl.moments import epoch_of, iso_utc

NEW_YEAR_UTC = 1767225600.0  # 2026-01-01T00:00:00Z


@pytest.mark.parametrize("text", ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00", "2026-01-01T05:00:00+05:00",
                                  "2026-01-01T00:00:00.000000Z"])
def test_a_timestamp_names_the_same_moment_on_any_machine(far_from_utc, text):
    assert epoch_of(text) == NEW_YEAR_UTC


@pytest.mark.parametrize("text", [None, "", "yesterday", 1767225600, "2026-13-01T00:00:00Z"])
def test_what_is_no_timestamp_is_none(text):
    assert epoch_of(text) is None


def test_what_gpuctl_writes_reads_back(far_from_utc):
    assert iso_utc(NEW_YEAR_UTC) == "2026-01-01T00:00:00Z" and epoch_of(iso_utc(NEW_YEAR_UTC)) == NEW_YEAR_UTC
