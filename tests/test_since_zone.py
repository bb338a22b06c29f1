"""Review 9, R9-7: `logs --since` took a time without a zone (`2026-12-07T15:00:00`) and read it
in the machine's time zone, so on a machine outside UTC it asked for lines hours away and
printed nothing, exit 0. RFC 3339, which --since documents, requires a zone: such a time is
refused, with the same time written with `Z` and with this machine's offset to choose from.
The local provider's `?since=` refuses it too (400), as a strict RFC 3339 reader would."""

from __future__ import annotations

import pytest

from tests.conftest import run_cli


@pytest.mark.parametrize("typed", ["2026-12-07T15:00:00", "2026-12-07 15:00:00.5", "2026-12-07"])
def test_since_without_a_zone_is_refused_not_read_as_local_time(far_from_utc, typed):
    from gpuctl.errors import UsageError
    from gpuctl.cli.logs_cmd import since_timestamp

    with pytest.raises(UsageError) as refused:
        since_timestamp(typed)
    assert "names no time zone" in refused.value.summary and "--since" in refused.value.summary
    day = typed[:10]
    assert f"{day}T" in refused.value.hint and "Z" in refused.value.hint and "-05:00" in refused.value.hint, refused.value.hint


def test_the_cli_says_which_zone_to_add(far_from_utc, tmp_path):
    result = run_cli(["serverless", "logs", "echo", "--since", "2026-12-07T15:00:00", "--provider", "local"], tmp_path,
                     {"GPUCTL_LOCAL_DIR": str(tmp_path / "none")})
    assert result.code == 1 and "--since 2026-12-07T15:00:00 names no time zone" in result.err, result.err
    assert "2026-12-07T15:00:00Z" in result.err and "2026-12-07T15:00:00-05:00" in result.err and "Traceback" not in result.err, result.err


@pytest.mark.parametrize("typed", ["2026-12-07T15:00:00Z", "2026-12-07T10:00:00-05:00", "2026-12-07T15:00:00+00:00"])
def test_since_with_a_zone_is_read_in_that_zone_wherever_gpu_runs(far_from_utc, typed):
    from gpuctl.cli.logs_cmd import since_timestamp

    assert since_timestamp(typed) == "2026-12-07T15:00:00.000000Z"
