"""Poll 200 takes against the fake Modellix and print how well the app notices completion.

    .venv/bin/python bench/polling.py [--takes 200] [--scale 0.02]

Task durations are spread uniformly over 30-300 s of provider time. --scale compresses the
clock in both the fake and the app (0.2: a 300 s task takes 60 s); the figures are printed
in provider seconds. The real driver code runs (admit, poll_due, repair), with prepare and
download steps on two worker threads, as on a two-worker cluster.

Prints POSTs per take (must be exactly 1), status calls per take, and the delay between the
provider finishing and the app noticing (p50, p95). Target: notice within 15 s, and at most 25
status calls for a 5-minute task.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--takes", type=int, default=200)
    parser.add_argument("--scale", type=float, default=0.2)
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="cutroom-polling-")
    os.environ.update(
        STUDIO_DATA_DIR=data,
        STUDIO_PROVIDER="modellix",
        MODELLIX_API_KEY="test-key",
        STUDIO_DOWNLOAD_ALLOW_LOOPBACK="true",
        STUDIO_TIME_SCALE=str(args.scale),
        STUDIO_MAX_ACTIVE_EDITS=str(args.takes),
        STUDIO_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="studio.settings",
    )
    from tests.fake_modellix import FakeModellix

    rng = random.Random(7)
    durations: dict[str, float] = {}

    def duration_for(body: dict) -> float:
        seconds = rng.uniform(30, 300)
        durations[body["prompt"]] = seconds
        return seconds * args.scale

    fake = FakeModellix(task_seconds=duration_for, pending_seconds=5 * args.scale).start()
    os.environ["MODELLIX_BASE_URL"] = fake.url
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    try:
        run(fake, durations, args)
    finally:
        fake.stop()


def make_clip():
    from django.core.files import File

    from accounts.services import user_signup
    from studio import services
    from studio.models import Clip, MediaState
    from tests.media import make_video

    user = user_signup(email="bench@example.com", password="bench-password-123")
    project = services.project_create(team=user.current_team, author=user, name="Polling")
    path = make_video(Path(tempfile.mkdtemp()) / "clip.mp4", seconds=3.0)
    clip = Clip(project=project, original_name="clip.mp4", state=MediaState.RECEIVED)
    with path.open("rb") as handle:
        clip.source.save(f"clips/{project.code}/{clip.code}/source.mp4", File(handle), save=False)
    clip.save()
    services.clip_process(clip_id=clip.pk)
    clip.refresh_from_db()
    return user, clip


def run(fake, durations, args) -> None:
    from django.db import connection
    from django.utils import timezone

    from studio.models import ACTIVE_TAKE_STATES, Take
    from studio.parameters import EditParameters
    from studio.services import takes

    user, clip = make_clip()
    pool = ThreadPoolExecutor(2)
    steps = {"prepare_take": takes.take_submit, "download_take": takes.take_download}

    def step(task: str, take_id: int) -> None:
        try:
            steps[task](take_id)
        finally:
            connection.close()

    takes.common.dispatch = lambda task, take_id: pool.submit(step, task, take_id)
    takes.common.kick = lambda: None
    items = [
        takes.take_create(
            project=clip.project,
            author=user,
            clip=clip,
            parameters=EditParameters(prompt=f"take {n}"),
            length=2.0,
        )
        for n in range(args.takes)
    ]
    print(f"{len(items)} takes, provider durations 30-300 s, clock scale {args.scale}")
    started = time.monotonic()
    lock = threading.Lock()
    while True:
        now = timezone.now()
        with lock:
            takes.takes_admit()
            takes.takes_repair(now)
            takes.takes_poll(now)
        if not Take.objects.filter(state__in=ACTIVE_TAKE_STATES).exists():
            break
        if time.monotonic() - started > 400 * args.scale + 120:
            raise SystemExit("takes did not finish in time")
        time.sleep(0.02)
    pool.shutdown()
    report(fake, durations, args.scale)


def report(fake, durations, scale) -> None:
    from studio.models import Take, TakeEvent

    delays, calls, long_calls = [], [], []
    for take in Take.objects.all():
        task = fake.tasks[take.provider_task_id]
        finished_at = task.created + task.seconds  # fake's monotonic clock
        noticed = TakeEvent.objects.get(take=take, state="downloading").at
        submitted = TakeEvent.objects.get(take=take, state="running").at
        provider_seconds = durations[take.prompt]
        # Both events and the fake's clock start at submission; compare durations.
        took = (noticed - submitted).total_seconds() / scale
        delays.append(max(0.0, took - provider_seconds))
        calls.append(take.status_checks)
        if provider_seconds >= 270:
            long_calls.append(take.status_checks)
        assert finished_at > 0
    states = sorted({t.state for t in Take.objects.all()})
    posts = [t.submit_posts for t in Take.objects.all()]
    q = statistics.quantiles(delays, n=20)
    print(f"final states: {states}")
    print(f"POSTs per take: min {min(posts)} max {max(posts)} (fake saw {fake.counts['submit']})")
    print(f"status calls per take: mean {statistics.mean(calls):.1f}, max {max(calls)}")
    if long_calls:
        mean, most = statistics.mean(long_calls), max(long_calls)
        print(f"status calls for 4.5-5 min tasks: mean {mean:.1f}, max {most}")
    p50, p95 = statistics.median(delays), q[18]
    worst = max(delays)
    print(f"notice delay (provider seconds): p50 {p50:.1f} s, p95 {p95:.1f} s, max {worst:.1f} s")


if __name__ == "__main__":
    main()
