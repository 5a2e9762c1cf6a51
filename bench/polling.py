"""Cutroom's polling side by side with a fixed 2-second poller (the official Modellix CLI).

    .venv/bin/python bench/polling.py [--scale 0.2] [--takes 100] [--only abc]

Prints one table: scenario | poller | status calls per 5-min task (mean, and the most one got) |
notice delay p50 / p95 | 429s | takes whose finish was seen.
The delay is from the moment the provider finished a task until a status read first said so;
all figures are provider seconds (the clock is compressed by --scale in the fake and the app).

Cutroom's rows are real: takes go through the fake Modellix over HTTP with the real client, the
scheduler (studio.takes.scheduler.Scheduler, the `manage.py scheduler` loop, in a thread) admits and
polls them with its request budget and learned windows, and two worker threads run the prepare
and download steps, as a two-worker cluster does. The fixed poller is simulated on the very same
task durations: a read every 2 s from submission, against the same per-minute limit as the fake.

(a) durations uniform over 30-300 s (target: at most 25 calls for a 5-minute task, p95 <= 15 s):
    a first batch with no history (the old schedule), then a second one that learns from it.
(b) four configurations (720P 2 s, 720P 5 s, 1080P 5 s, 1080P 10 s) whose run times vary around
    their own means (60, 120, 200, 300 s): normally, 5 % standard deviation, never beyond
    +-15 %. 20 finished takes of each are learned from, then a second batch is measured
    (target: p95 <= 4 s, at most 20 calls for a 5-minute task).
(c) --takes takes at once, durations as in (a), against a fake that answers at most 100
    requests a minute (uploads, submits and status reads; a 429 beyond) and MODELLIX_RPM=100
    (target: no 429, every take noticed).

In (a) and (b) the fake has no limit and MODELLIX_RPM is high: they measure the schedule alone.
"""

from __future__ import annotations

import argparse
import atexit
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CONFIGS = [("720P", 2, 60.0), ("720P", 5, 120.0), ("1080P", 5, 200.0), ("1080P", 10, 300.0)]
FIXED_GAP = 2.0


@dataclass
class Row:
    scenario: str
    poller: str
    calls: float  # status calls per 5-minute task
    most: int  # and the most any of them got
    p50: float
    p95: float
    rate_limited: int
    noticed: str


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--takes", type=int, default=100)
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--only", default="abc")
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="cutroom-polling-")
    atexit.register(shutil.rmtree, data, True)
    os.environ.update(
        STUDIO_DATA_DIR=data,
        STUDIO_PROVIDER="modellix",
        MODELLIX_API_KEY="test-key",
        STUDIO_DOWNLOAD_ALLOW_LOOPBACK="true",
        STUDIO_TIME_SCALE=str(args.scale),
        STUDIO_MAX_ACTIVE_EDITS="1000",
        STUDIO_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="studio.settings",
    )
    from tests.fake_modellix import FakeModellix

    fake = FakeModellix(pending_seconds=5 * args.scale).start()
    os.environ["MODELLIX_BASE_URL"] = fake.url
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    bench = Bench(fake, args.scale)
    rows: list[Row] = []
    started = time.monotonic()
    try:
        if "a" in args.only:
            rows += bench.scenario_a(args.takes)
        if "b" in args.only:
            rows += bench.scenario_b()
        if "c" in args.only:
            rows += bench.scenario_c(args.takes)
    finally:
        fake.stop()
    print(f"\nclock scale {args.scale}; took {time.monotonic() - started:.0f} s\n")
    print_table(rows)


class Bench:
    def __init__(self, fake: Any, scale: float) -> None:
        from django.conf import settings

        self.fake = fake
        self.scale = scale
        self.settings = settings
        self.user, self.clip = make_clip()
        self.durations: dict[str, float] = {}
        fake.task_seconds = lambda body: self.durations[body["prompt"]] * scale

    # -- scenarios ----------------------------------------------------------------------------
    def scenario_a(self, count: int) -> list[Row]:
        """One batch with no history (the old schedule), then one learned from it."""
        rng = random.Random(7)
        self.reset(rpm=0)
        rows = []
        for name in ("a 30-300 s, no history", "a 30-300 s, learned"):
            jobs = [(f"{name} {n}", rng.uniform(30, 300), "1080P", 5) for n in range(count)]
            self.fake.tasks.clear()
            self.run(jobs)
            rows += self.rows(name, jobs, long=(270, 300))
        return rows

    def scenario_b(self) -> list[Row]:
        rng = random.Random(8)

        def run_time(mean: float) -> float:
            return mean * min(1.15, max(0.85, rng.gauss(1.0, 0.05)))

        self.reset(rpm=0)
        learn = [
            (f"learn {res} {sec} {n}", run_time(mean), res, sec)
            for res, sec, mean in CONFIGS
            for n in range(20)
        ]
        self.run(learn)
        self.fake.tasks.clear()
        jobs = [
            (f"b {res} {sec} {n}", run_time(mean), res, sec)
            for res, sec, mean in CONFIGS
            for n in range(25)
        ]
        self.run(jobs)
        return self.rows("b learned, +-15 %", jobs, long=(255, 345))

    def scenario_c(self, count: int) -> list[Row]:
        rng = random.Random(9)
        self.reset(rpm=100)
        jobs = [(f"c {n}", rng.uniform(30, 300), "1080P", 5) for n in range(count)]
        self.run(jobs)
        return self.rows(f"c {count} at once, 100/min", jobs, long=(270, 300), limit=100)

    # -- plumbing -----------------------------------------------------------------------------
    def reset(self, *, rpm: int) -> None:
        from studio.models import RequestBudget, Take
        from studio.ops.models import Lease
        from studio.providers import request_budget as budget
        from studio.takes import polling

        if rpm:
            self.settings.MODELLIX_RPM = rpm
            self.fake.rpm, self.fake.minute = rpm, 60 * self.scale
        else:
            self.settings.MODELLIX_RPM = 100_000
            self.fake.rpm = 0
        Take.objects.all().delete()
        RequestBudget.objects.all().delete()
        Lease.objects.all().delete()
        polling._cache.clear()
        budget._not_before.clear()
        self.fake.tasks.clear()
        self.fake.counts.clear()
        self.fake.rate_limited.clear()
        self.fake.answered.clear()

    def run(self, jobs: list[tuple[str, float, str, int]]) -> None:
        """Create every take at once and let the scheduler and two workers finish them."""
        from django.db import connection

        from studio.models import ACTIVE_TAKE_STATES, Take
        from studio.takes import common, create, download, submit
        from studio.takes.parameters import EditParameters
        from studio.takes.scheduler import Scheduler

        pool = ThreadPoolExecutor(2)
        steps: dict[str, Callable[[int], None]] = {
            "prepare_take": submit.take_submit,
            "download_take": download.take_download,
        }

        def step(task: str, take_id: int) -> None:
            try:
                steps[task](take_id)
            finally:
                connection.close()

        common.dispatch = lambda task, take_id: pool.submit(step, task, take_id)
        for prompt, seconds, resolution, length in jobs:
            self.durations[prompt] = seconds
            create.take_create(
                project=self.clip.project,
                author=self.user,
                clip=self.clip,
                parameters=EditParameters(prompt=prompt, resolution=resolution, duration=length),
                length=float(length),
            )
        scheduler = Scheduler()
        thread = threading.Thread(target=scheduler.run, daemon=True)
        thread.start()
        longest = max(seconds for _, seconds, _, _ in jobs)
        give_up = time.monotonic() + (longest * 4 + 600) * self.scale + 120
        try:
            while Take.objects.filter(state__in=ACTIVE_TAKE_STATES).exists():
                if time.monotonic() > give_up:
                    raise SystemExit("takes did not finish in time")
                time.sleep(0.2)
        finally:
            scheduler.stop()
            thread.join(timeout=30)
            pool.shutdown()

    def rows(
        self,
        scenario: str,
        jobs: list[tuple[str, float, str, int]],
        *,
        long: tuple[float, float],
        limit: int = 0,
    ) -> list[Row]:
        from studio.models import Take

        by_prompt = {t.prompt: t for t in Take.objects.all()}
        delays, long_calls, missed = [], [], 0
        for prompt, seconds, _, _ in jobs:
            take = by_prompt[prompt]
            task = self.fake.tasks[take.provider_task_id]
            if task.noticed is None:
                missed += 1
                continue
            delays.append(max(0.0, task.noticed - task.created - task.seconds) / self.scale)
            if long[0] <= seconds <= long[1]:
                long_calls.append(len(task.checks))
        posts = {t.submit_posts for t in by_prompt.values()}
        states = {t.state for t in by_prompt.values()}
        assert posts == {1} and states == {"succeeded"}, (posts, states)
        ours = Row(
            scenario,
            "Cutroom",
            statistics.mean(long_calls) if long_calls else math.nan,
            max(long_calls, default=0),
            statistics.median(delays),
            quantile(delays, 0.95),
            sum(self.fake.rate_limited.values()),
            f"{len(jobs) - missed}/{len(jobs)}",
        )
        return [ours, fixed_poller(scenario, [s for _, s, _, _ in jobs], long=long, limit=limit)]


def fixed_poller(scenario: str, durations: list[float], *, long: tuple[float, float], limit: int):
    """Simulate a read every 2 s per task from submission (all submitted at 0), through a
    limiter that answers at most `limit` reads in any minute (0: none); a refused read is a 429
    and notices nothing. Reads of one tick go out in a random order."""
    rng = random.Random(11)
    answered: deque[float] = deque()
    noticed: dict[int, float] = {}
    calls = [0] * len(durations)
    refused = 0
    tick = FIXED_GAP
    while len(noticed) < len(durations) and tick < 3600:
        order = [i for i in range(len(durations)) if i not in noticed]
        rng.shuffle(order)
        for i in order:
            calls[i] += 1
            if limit:
                while answered and answered[0] <= tick - 60:
                    answered.popleft()
                if len(answered) >= limit:
                    refused += 1
                    continue
                answered.append(tick)
            if tick >= durations[i]:
                noticed[i] = tick - durations[i]
        tick += FIXED_GAP
    delays = list(noticed.values())
    long_calls = [calls[i] for i, s in enumerate(durations) if long[0] <= s <= long[1]]
    return Row(
        scenario,
        "fixed 2 s (CLI)",
        statistics.mean(long_calls) if long_calls else math.nan,
        max(long_calls, default=0),
        statistics.median(delays),
        quantile(delays, 0.95),
        refused,
        f"{len(noticed)}/{len(durations)}",
    )


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def print_table(rows: list[Row]) -> None:
    head = ("scenario", "poller", "status calls / 5-min task", "notice p50 / p95", "429s", "seen")
    lines = [
        (
            r.scenario,
            r.poller,
            # A small --takes may leave no task of about 5 minutes to count.
            f"{r.calls:.1f} (max {r.most})" if r.most else "no 5-min task",
            f"{r.p50:.1f} s / {r.p95:.1f} s",
            str(r.rate_limited),
            r.noticed,
        )
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *lines, strict=True)]
    for line in (head, tuple("-" * w for w in widths), *lines):
        print(" | ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True)))
    print(
        "\ntargets (Cutroom's rows): a) at most 25 calls for a 5-minute task, p95 <= 15 s; "
        "b) at most 20 calls, p95 <= 4 s; c) no 429, every take seen"
    )


def make_clip() -> tuple[Any, Any]:
    from django.core.files import File

    from accounts.services import account_create
    from studio.library import clips
    from studio.models import Clip, MediaState
    from studio.projects import services
    from tests.samples import make_video

    user = account_create(email="bench@example.com", password="bench-password-123")
    project = services.project_create(team=user.current_team, author=user, name="Polling")
    folder = tempfile.mkdtemp(prefix="cutroom-polling-clip-")
    atexit.register(shutil.rmtree, folder, True)
    path = make_video(Path(folder) / "clip.mp4", seconds=11.0)
    clip = Clip(project=project, original_name="clip.mp4", state=MediaState.RECEIVED)
    with path.open("rb") as handle:
        clip.source.save(f"clips/{project.code}/{clip.code}/source.mp4", File(handle), save=False)
    clip.save()
    clips.clip_process(clip_id=clip.pk)
    clip.refresh_from_db()
    return user, clip


if __name__ == "__main__":
    main()
