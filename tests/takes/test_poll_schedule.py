"""Polling learns how long takes run: densely around the likely finish, sparsely before, and the
old schedule (5 s, then a quarter of the time so far, at most 15 s) without history."""

from __future__ import annotations

import random
import statistics
from datetime import timedelta

import pytest
from django.utils import timezone

from studio.models import Take, TakeEvent, TakeState
from studio.takes import polling
from tests.pipeline import drive, new_take

pytestmark = pytest.mark.usefixtures("queue")


def checks_until(duration: float, window: polling.Window | None) -> tuple[int, float]:
    """Status checks a take of `duration` provider seconds gets, and how late the last one
    comes after the finish."""
    at, checks = polling.next_wait(0.0, window), 1
    while at < duration:
        at += polling.next_wait(at, window)
        checks += 1
    return checks, at - duration


def test_without_history_the_old_schedule_stays():
    random.seed(1)
    assert polling.window_from([300.0] * (polling.MIN_SAMPLES - 1)) is None
    assert polling.next_wait(0.0, None) == 5.0
    gaps = [polling.next_wait(elapsed, None) for elapsed in (5, 20, 40, 60, 200, 1000)]
    assert gaps[0] == pytest.approx(5.0, rel=0.1) and gaps[2] == pytest.approx(10.0, rel=0.1)
    assert all(4.5 <= gap <= 15.0 for gap in gaps) and gaps[-1] == pytest.approx(15.0, rel=0.1)
    checks, late = checks_until(300.0, None)
    assert 22 <= checks <= 26 and late < 15


def test_a_predictable_configuration_is_polled_less_and_noticed_sooner():
    """Takes of one configuration run 300 s give or take 5 %: after 20 of them, a 5-minute take
    gets fewer checks than the old schedule gives it, and it is noticed within seconds."""
    rng = random.Random(3)
    history = [rng.gauss(300, 15) for _ in range(20)]
    window = polling.window_from(history)
    assert window is not None and min(history) - 5 < window.start < min(history)
    for duration in (min(history), 300.0, max(history)):
        learned, late = checks_until(duration, window)
        old, _ = checks_until(duration, None)
        assert learned < old and late <= window.gap
    assert checks_until(300.0, window)[0] <= 20
    runs = [checks_until(rng.gauss(300, 15), window) for _ in range(500)]
    assert statistics.mean(checks for checks, _ in runs) <= 20
    assert statistics.quantiles([late for _, late in runs], n=20)[18] <= 4.0


def test_a_spread_configuration_keeps_within_twenty_five_checks():
    rng = random.Random(4)
    window = polling.window_from([rng.uniform(30, 300) for _ in range(40)])
    assert 10 < window.gap <= polling.MAX_GAP
    checks, late = checks_until(300.0, window)
    assert checks <= 25 and late <= polling.MAX_GAP


def test_a_take_slower_than_any_before_goes_back_to_the_old_schedule():
    """Two more checks a gap apart just past the window, then every 15 s as before."""
    window = polling.window_from([100.0, 101.0, 102.0, 103.0, 104.0])
    assert window.gap == polling.MIN_GAP and window.end < 105
    gaps = [polling.next_wait(elapsed, window) for elapsed in (105, 108, 110, 600)]
    assert gaps == [window.gap, window.gap, polling.MAX_GAP, polling.MAX_GAP]


# -- learning from the takes in the database ------------------------------------------------
def finished(clip, bob, *, seconds: float, reported: bool = True, **params) -> Take:
    take = new_take(clip, bob, **params)
    submitted = timezone.now() - timedelta(hours=1)
    Take.objects.filter(pk=take.pk).update(
        state=TakeState.SUCCEEDED,
        submitted_at=submitted,
        provider_duration_ms=round(seconds * 1000) if reported else None,
    )
    TakeEvent.objects.create(
        take=take, state=TakeState.DOWNLOADING, at=submitted + timedelta(seconds=seconds)
    )
    return take


@pytest.mark.django_db
def test_run_times_come_from_takes_of_the_same_configuration(fake, clip, bob, settings):
    settings.TIME_SCALE = 1
    for seconds in (100, 110, 120, 130, 140):
        finished(clip, bob, seconds=seconds, resolution="720P", duration=5)
    finished(clip, bob, seconds=999, resolution="1080P", duration=5)  # another resolution
    finished(clip, bob, seconds=999, resolution="720P", duration=3)  # another length
    finished(clip, bob, seconds=150, resolution="720P", length=5.2)  # 5 s kept from the clip
    finished(clip, bob, seconds=160, resolution="720P", duration=5, reported=False)
    asked = new_take(clip, bob, resolution="720P", duration=5)
    times = polling.run_times("modellix", "720P", 5)
    assert sorted(times) == [100, 110, 120, 130, 140, 150, 160]
    window = polling.window_for(asked)
    assert window.samples == 7 and window.start == pytest.approx(100 - 60 / 8)
    assert polling.window_for(new_take(clip, bob, resolution="1080P", duration=5)) is None


@pytest.mark.django_db
def test_history_from_the_quick_ones_of_a_running_batch_is_not_trusted(fake, clip, bob, settings):
    """Ten takes sent together a minute ago: the five quick ones finished, five still run. The
    history says "about 30 s", but half of the batch is past it: the old schedule stays."""
    settings.TIME_SCALE = 1
    batch = [finished(clip, bob, seconds=30 + n, duration=5) for n in range(10)]
    minute_ago = timezone.now() - timedelta(seconds=60)
    Take.objects.filter(pk__in=[t.pk for t in batch]).update(submitted_at=minute_ago)
    Take.objects.filter(pk__in=[t.pk for t in batch[5:]]).update(state=TakeState.RUNNING)
    TakeEvent.objects.filter(take__in=batch[5:]).delete()
    asked = new_take(clip, bob, duration=5)
    assert polling.window_from(polling.run_times("modellix", "1080P", 5)) is not None
    assert polling.window_for(asked) is None
    Take.objects.filter(pk__in=[t.pk for t in batch[5:]]).update(state=TakeState.SUCCEEDED)
    polling._cache.clear()
    assert polling.window_for(asked) is not None  # now they all finished within it


def run_on(clock, *items: Take, step: float = 0.02) -> None:
    """Drive the takes until they are final, moving the clock `step` seconds before each turn:
    checks fall due by the clock, not by how fast this machine is."""
    for _ in range(100_000):
        clock.advance(step)
        drive()
        for item in items:
            item.refresh_from_db()
        if all(item.is_final for item in items):
            return
    raise AssertionError(f"not final: {[(t.code, t.state, t.reason) for t in items]}")


# How often the schedule checks: the history it learns from is read by the query the two tests
# above check on both databases.
@pytest.mark.once
@pytest.mark.django_db
def test_the_learned_schedule_polls_a_real_take_less(fake, clip, bob, settings, monkeypatch, clock):
    """Against the fake, every edit of this configuration runs 120 provider seconds: the first
    ones are polled on the old schedule, the later ones far less often, and still noticed.

    The fake and the studio share one clock that the test moves, so how often a take is
    checked is the schedule's doing only, however busy the machine is."""
    settings.TIME_SCALE = 0.04
    fake.task_seconds = 120 * 0.04
    start = clock.now
    fake.clock = lambda: (clock.now - start).total_seconds()
    monkeypatch.setattr(polling, "CACHE_SECONDS", 0.0)
    first = [new_take(clip, bob, prompt=f"first {n}", duration=3) for n in range(5)]
    run_on(clock, *first)
    later = [new_take(clip, bob, prompt=f"later {n}", duration=3) for n in range(3)]
    run_on(clock, *later)
    assert {t.state for t in (*first, *later)} == {TakeState.SUCCEEDED}
    old = statistics.mean(t.status_checks for t in first)
    learned = statistics.mean(t.status_checks for t in later)
    assert learned < old - 3, (old, learned)
