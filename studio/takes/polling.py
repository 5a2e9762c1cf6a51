"""When to ask the provider about a running take: densely around its likely finish.

How long an edit runs depends mostly on its configuration: the provider, the resolution and the
seconds of video it makes. So Cutroom looks at the finished takes of the same configuration
that were submitted last (HISTORY of them, at least MIN_SAMPLES; by submission, not by finish,
which would pick the slowest of a batch) and polls in three phases:

- before the earliest finish seen, sparsely: a few checks, the last one exactly when the window
  opens (a task that fails early is still noticed);
- in the window where takes of this configuration have finished (widened by one average gap
  between the samples on each side), every `gap` seconds: the window split into DENSE_POLLS
  steps, never closer than MIN_GAP (the official CLI's 2 s) nor further than MAX_GAP;
- after it, a take that runs longer than any before: two more checks a gap apart, then the old
  schedule.

Without enough history the old schedule stays: 5 s, then a quarter of the time spent so far, at
most 15 s. It also stays until the window has been borne out: among the latest takes of the
configuration submitted longer ago than the window's end, at least MIN_SAMPLES have had the
time to finish, and at most a tenth of them are still running. Otherwise the history came from
the quick ones of a batch still running (they finish first), or the provider has slowed down.

All times here are provider seconds (STUDIO_TIME_SCALE compresses them for the benchmark).
A take's run time is the provider's own `duration` when it reports one, else the
time from submission until Cutroom saw it finished.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from studio.models import Take, TakeEvent, TakeState

HISTORY = 50  # the finished takes of a configuration that count, the last submitted
MIN_SAMPLES = 5  # fewer than this: the old schedule
DENSE_POLLS = 20  # checks spread over the window where takes of this configuration finish
MIN_GAP = 2.0
MAX_GAP = 15.0
SPARSE_GAP = 30.0  # the shortest gap before the window (longer for long windows: a third of it)
CACHE_SECONDS = 30.0  # provider seconds
_cache: dict[tuple[str, str, int], tuple[float, Window | None]] = {}


@dataclass(frozen=True)
class Window:
    """Where takes of one configuration finish (seconds after submission), and the gap between
    checks inside it."""

    start: float
    end: float
    gap: float
    samples: int


def window_from(durations: list[float]) -> Window | None:
    if len(durations) < MIN_SAMPLES:
        return None
    ordered = sorted(durations)
    # One average gap between neighbouring samples on each side: about where the next take's
    # run time falls outside what was seen.
    pad = (ordered[-1] - ordered[0]) / (len(ordered) + 1)
    start, end = max(0.0, ordered[0] - pad), ordered[-1] + pad
    gap = min(MAX_GAP, max(MIN_GAP, (end - start) / DENSE_POLLS))
    return Window(start=start, end=end, gap=gap, samples=len(ordered))


def next_wait(elapsed: float, window: Window | None) -> float:
    """Provider seconds from now until the next check of a take submitted `elapsed` ago."""
    if window is None or elapsed >= window.end + 2 * window.gap:
        if not elapsed:
            return 5.0
        return min(MAX_GAP, max(5.0, elapsed / 4) * random.uniform(0.9, 1.1))  # noqa: S311
    if elapsed < window.start - 0.5:
        sparse = max(SPARSE_GAP, window.start / 3) * random.uniform(0.9, 1.0)  # noqa: S311
        return min(sparse, window.start - elapsed)
    return window.gap


def output_seconds(take: Take) -> int:
    return round(take.output_seconds)


def window_for(take: Take) -> Window | None:
    """The learned window of `take`'s configuration (cached for CACHE_SECONDS per process)."""
    key = (take.provider, take.resolution, output_seconds(take))
    now = time.monotonic()
    cached = _cache.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    window = window_from(run_times(*key))
    if window is not None and not borne_out(*key, window.end):
        window = None
    _cache[key] = (now + CACHE_SECONDS * settings.TIME_SCALE, window)
    return window


def same_configuration(provider: str, resolution: str, seconds: int) -> QuerySet[Take]:
    """Takes that make `seconds` of video at `resolution` with `provider`."""
    return (
        Take.objects.filter(provider=provider, resolution=resolution, submitted_at__isnull=False)
        .filter(duration__in=[0, seconds])
        .exclude(duration=0, length_ms__lt=seconds * 1000 - 500)
        .exclude(duration=0, length_ms__gte=seconds * 1000 + 500)
    )


def borne_out(provider: str, resolution: str, seconds: int, end: float) -> bool:
    """Whether the latest takes that had `end` seconds to finish mostly did."""
    states = list(
        same_configuration(provider, resolution, seconds)
        .filter(submitted_at__lt=timezone.now() - _scaled(end))
        .filter(state__in=[TakeState.RUNNING, TakeState.DOWNLOADING, TakeState.SUCCEEDED])
        .order_by("-submitted_at")
        .values_list("state", flat=True)[:HISTORY]
    )
    late = states.count(TakeState.RUNNING)
    return len(states) >= MIN_SAMPLES and late <= len(states) // 10


def run_times(provider: str, resolution: str, seconds: int) -> list[float]:
    """Provider seconds that the last submitted finished takes of this configuration ran."""
    noticed = TakeEvent.objects.filter(take=OuterRef("pk"), state=TakeState.DOWNLOADING)
    rows = (
        same_configuration(provider, resolution, seconds)
        .annotate(noticed=Subquery(noticed.order_by("at").values("at")[:1]))
        .exclude(noticed=None)
        .order_by("-submitted_at")
        .values_list("provider_duration_ms", "submitted_at", "noticed")[:HISTORY]
    )
    scale = settings.TIME_SCALE
    times = []
    for duration_ms, submitted, seen in rows:
        if duration_ms:
            times.append(duration_ms / 1000 / scale)
        else:
            times.append(max(0.0, (seen - submitted).total_seconds()) / scale)
    return times


def first_wait(take: Take) -> timedelta:
    """From submission until the first check."""
    return _scaled(next_wait(0.0, window_for(take)))


def wait_after_check(take: Take, elapsed: float) -> timedelta:
    """From a check that found the take still running, `elapsed` provider seconds after its
    submission, until the next check."""
    return _scaled(next_wait(elapsed, window_for(take)))


def _scaled(seconds: float) -> timedelta:
    return timedelta(seconds=seconds * settings.TIME_SCALE)
