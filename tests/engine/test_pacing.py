"""One pace for all threads of a client (gpuctl.provider.pacing), on a fake clock: a Retry-After
holds every request, the RateLimit window's remaining count is a budget that requests share and
that a later answer can only lower, and a pause beyond what gpuctl waits is refused unslept."""

from __future__ import annotations

import random

from gpuctl.provider.pacing import Pacer


class FakeTime:
    def __init__(self):
        self.now, self.slept = 100.0, []

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


def pacer() -> tuple[Pacer, FakeTime]:
    t = FakeTime()
    return Pacer(clock=lambda: t.now, sleep=t.sleep, rng=random.Random(1)), t


def test_the_remaining_count_is_a_budget_spent_by_every_request_until_the_window_resets():
    p, t = pacer()
    p.observe(None, '"minute";r=2;t=10, "hour";r=500;t=3000')
    assert p.take(60) == 0 and p.take(60) == 0 and t.slept == []
    assert p.take(60) == 10 and t.slept == [10]  # the third waits for the minute window to reset
    assert p.take(60) == 0  # a new window: unknown budget until the next answer says


def test_a_later_answer_in_the_same_window_can_only_lower_the_budget():
    """Requests in flight when the server answered were not counted in its `r` yet."""
    p, t = pacer()
    p.observe(None, '"minute";r=1;t=30')
    p.observe(None, '"minute";r=40;t=29')
    assert p.take(60) == 0
    assert p.take(60) == 30 and t.slept == [30]


def test_a_retry_after_holds_every_request_with_a_little_jitter():
    p, t = pacer()
    p.observe(2.0, None)
    waited = p.take(60)
    assert 2.0 <= waited <= 2.2 and t.slept == [round(waited, 3)]
    assert p.take(60) == 0


def test_a_pause_longer_than_gpuctl_waits_is_returned_unslept():
    p, t = pacer()
    p.observe(None, '"hour";r=0;t=1800')
    assert p.take(120) == 1800 and t.slept == []


def test_a_spent_window_holds_even_without_a_retry_after():
    p, t = pacer()
    p.observe(None, '"minute";r=0;t=12')
    assert p.held() == 12


def test_one_windows_count_is_never_combined_with_another_windows_reset():
    """The hour window nearly spent and then the minute window spent: wait for the minute
    window (20 s), not for the hour window's reset, which still has 2 requests left."""
    p, t = pacer()
    p.observe(None, '"minute";r=50;t=20, "hour";r=3;t=3000')
    p.observe(None, '"minute";r=0;t=20, "hour";r=2;t=2999')
    assert p.take(120) == 20 and t.slept == [20]  # the first of the hour window's last two
    assert p.take(120) == 0  # the second
    assert p.take(4000) > 2900  # and now the hour window is spent


def test_a_spent_window_ends_when_the_latest_answer_says():
    """An answer that says the window is spent and resets in 3 s is believed, even when an
    earlier answer placed the end of the window later: waiting for the earlier end stalls
    every worker for most of a minute after a 3-second pause."""
    p, t = pacer()
    p.observe(None, '"minute";r=40;t=57')
    p.observe(None, '"minute";r=0;t=3')
    assert p.take(120) == 3 and t.slept == [3]
    p.observe(None, '"minute";r=39;t=54')  # the server's new window
    assert p.take(120) == 0


def test_each_pause_is_announced_once_with_its_reason_and_short_ones_not_at_all():
    p, t = pacer()
    told = []
    p.on_pause = lambda seconds, why: told.append((round(seconds), why))
    p.observe(None, '"minute";r=0;t=12')
    assert p.take(60) == 12
    p.observe(0.5, None)  # too short to mention
    p.take(60)
    p.observe(5, None)
    p.take(60)
    assert told == [(12, "the minute rate-limit window is spent"), (5, "RunPod asked for a pause (Retry-After)")]
