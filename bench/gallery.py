"""Server time of the team gallery with 10,000 takes.

    .venv/bin/python bench/gallery.py [--takes 10000] [--pages 40]

Fills a throw-away SQLite database with one team and N takes, then renders gallery pages through
Django's test client: the first page, pages deep in the history (via the cursor), and filtered
and searched pages. Prints server time per page (p50, p95) and the SQL queries per page,
beside the anchor: p50 at most 60 ms, and the same number of queries on every page.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--takes", type=int, default=10_000)
    parser.add_argument("--pages", type=int, default=40)
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="cutroom-gallery-")
    atexit.register(shutil.rmtree, data, True)
    os.environ.update(
        STUDIO_DATA_DIR=data,
        DJANGO_SETTINGS_MODULE="studio.settings",
        STUDIO_LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.utils import timezone

    settings.STORAGES["staticfiles"] = {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    }
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    setup_test_environment()  # so responses carry their template context
    from accounts.services import account_create
    from studio.models import Clip, MediaState, Take, TakeState
    from studio.projects.services import project_create
    from studio.takes.gallery import gallery_cursor

    user = account_create(email="bench@example.com", password="bench-password-123", name="Bench")
    team = user.current_team
    projects = [project_create(team=team, author=user, name=f"Project {n}") for n in range(10)]
    clips = [
        Clip.objects.create(project=p, original_name="c.mp4", state=MediaState.READY)
        for p in projects
    ]
    now = timezone.now()
    words = ["clay", "neon city", "水彩 watercolor", "noir alley", "sunset beach", "pixel hero"]
    states = [TakeState.SUCCEEDED] * 8 + [TakeState.FAILED, TakeState.RUNNING]
    started = time.perf_counter()
    batch = []
    for n in range(args.takes):
        batch.append(
            Take(
                project=projects[n % 10],
                clip=clips[n % 10],
                created_by=user,
                prompt=f"{words[n % len(words)]} take {n}",
                seed=n,
                length_ms=5000,
                provider="local",
                state=states[n % len(states)],
                resolution="1080P" if n % 3 else "720P",
                created_at=now - timedelta(seconds=n * 37),
            )
        )
        if len(batch) == 2000:
            Take.objects.bulk_create(batch)
            batch = []
    Take.objects.bulk_create(batch)
    print(f"{args.takes} takes created in {time.perf_counter() - started:.1f} s")
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    url = f"/t/{team.code}/gallery/"

    def measure(label: str, params_list: list[dict]) -> None:
        times, queries = [], set()
        for params in params_list:
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                response = client.get(url, params)
                times.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200
            queries.add(len(captured))
        q = statistics.quantiles(times, n=20) if len(times) > 1 else times * 19
        print(
            f"{label:<28} p50 {statistics.median(times):6.1f} ms  p95 {q[18]:6.1f} ms  "
            f"queries/page {sorted(queries)}"
        )

    # Walk deep: follow the cursor page after page.
    cursors = [{}]
    for _ in range(args.pages - 1):
        response = client.get(url, cursors[-1])
        nxt = response.context["next_cursor"]
        if not nxt:
            break
        cursors.append({"before": nxt})
    measure("first page", [{}] * args.pages)
    measure(f"pages 1-{len(cursors)} (cursor)", cursors)
    deep = Take.objects.order_by("-created_at", "-id")[args.takes - 30]
    measure("last page (deep cursor)", [{"before": gallery_cursor(deep)}] * 10)
    measure("search 'neon'", [{"q": "neon"}] * args.pages)
    measure("search '水彩'", [{"q": "水彩"}] * args.pages)
    measure("state + resolution filter", [{"state": "failed", "resolution": "720P"}] * args.pages)
    measure("project filter", [{"project": projects[3].code}] * args.pages)
    for sort in ("oldest", "clip", "version", "review", "starred"):
        measure(f"sorted: {sort}", [{"sort": sort}] * args.pages)
    print(
        "anchor: p50 <= 60 ms a page (bench/scale.py's target, on PostgreSQL over 100,000 takes), "
        "and one query count for every page"
    )


if __name__ == "__main__":
    main()
