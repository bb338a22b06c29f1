"""What can stop a warm-up. All are GpuctlErrors with a hint; the CLI prints them (exit 1)."""

from __future__ import annotations

from gpuctl.errors import GpuctlError


class NoVolume(GpuctlError):
    """--cpu on an endpoint without a network volume: there is nowhere to download to."""


class NoModels(GpuctlError):
    pass


class WarmTimeout(GpuctlError):
    pass


class DownloadFailed(GpuctlError):
    pass


class PodLeft(GpuctlError):
    """The warm-up pod could not be deleted: it may still be running and billed."""


class JobNotRun(GpuctlError):
    """The warm-up job ended without a worker running it (TIMED_OUT, CANCELLED)."""
