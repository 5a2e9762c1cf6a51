"""Scale-out figures on real servers: the gallery over 100,000 takes on PostgreSQL, and local-engine
takes per minute with one worker host, then two, on PostgreSQL and an S3-compatible server.

    .venv/bin/python bench/scale.py [--quick] [--part gallery|throughput|both]
    scripts/with-postgres .venv/bin/python bench/scale.py        # the same

Servers. Without a PostgreSQL `DATABASE_URL` the bench runs itself again under
scripts/with-postgres, which starts a throwaway PostgreSQL cluster and removes it afterwards. With
one (that script's, or a server of your own) it makes a database of its own there,
`cutroom_scale_<random>`, and drops it at the end; nothing else on the server is touched. It
starts moto's S3 server on loopback (tests/s3.py) with one bucket. Every process it starts is
stopped at the end, and its temporary folders are removed, whatever happens.

A. The gallery. One team of six members, twenty projects, 100,000 takes (bulk-inserted; prompts
   made from a vocabulary of subjects, looks and modifiers, so trigram search has real text to
   search: "neon" is in about 1 take of 20, "lighthouse" in 1 of 40, "cliffs into watercolor" in
   1 of 800). Pages are rendered by the real view through Django's test client on PostgreSQL: the
   first page, pages followed by their cursor, a deep page, filters and searches. Prints server
   time per page (p50, p95; target p50 <= 60 ms) and the SQL queries per page, at 1,000 takes
   and at 100,000 (the count must not change). `--explain` prints each page query's plan.

B. Throughput. A 4 s 1080p clip (tests/media.py) uploaded through the upload view to the bucket,
   then 40 local-engine takes of 3 s of it at 1080P, made the way the take form makes them. A
   worker host (tests/hosts.py) runs the Procfile's `worker` with STUDIO_WORKERS=1, so exactly one
   process runs tasks on it, and the Procfile's `scheduler` (one host's is active, the other
   stands by, as docs/scaling.md says to run them); it has a data folder of its
   own and, as root, a host name of its own, and shares only PostgreSQL and the bucket. The 40
   takes are timed from their creation until the last has ended, with one worker host, then with
   two; this process plays the web host. Every take may be at the engine at once
   (STUDIO_MAX_ACTIVE_EDITS), so admission never holds the workers back, and each run starts with
   no finished takes, so both poll on the same schedule. Prints takes per minute for each and
   their ratio (target >= 1.7 with two, on a 2-core machine). `--shared-data-dir` gives the worker
   hosts one data folder (for a local engine that keeps its renders on the local disk);
   `--storage local` uses no bucket, and every process shares one data folder.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GALLERY_TARGET_MS = 60.0
RATIO_TARGET = 1.7

SUBJECTS = [
    "the harbour at dusk",
    "a lighthouse on the cliffs",
    "the city street",
    "a forest path",
    "the kitchen scene",
    "a mountain lake",
    "the ferry crossing",
    "a rooftop garden",
    "the desert road",
    "a rainy alley",
    "the skate park",
    "an old library",
    "the market stalls",
    "a snowy village",
    "the beach volleyball match",
    "a subway platform",
    "the bakery counter",
    "a wheat field",
    "the concert crowd",
    "a fishing boat",
    "the cathedral square",
    "a bicycle race",
    "the night bus",
    "a tea garden",
    "the airport runway",
    "a carousel",
    "the river bridge",
    "a vineyard",
    "the hospital corridor",
    "a jazz club",
    "the dog park",
    "a glass greenhouse",
    "the ski slope",
    "a rice terrace",
    "the bowling alley",
    "a cactus garden",
    "the whale watching tour",
    "a lantern festival",
    "the tram depot",
    "a windmill",
]
LOOKS = [
    "clay stop-motion",
    "watercolor painting",
    "neon cyberpunk",
    "film noir",
    "pixel art",
    "oil painting",
    "anime cel shading",
    "vintage 8mm film",
    "pencil sketch",
    "low-poly 3D",
    "paper cut-out",
    "Ukiyo-e woodblock print",
    "thermal camera",
    "tilt-shift miniature",
    "VHS tape",
    "stained glass",
    "comic book",
    "claymation",
    "水彩 ink wash",
    "infrared photo",
]
MODIFIERS = [
    "golden hour light",
    "soft focus",
    "high contrast",
    "muted colours",
    "heavy grain",
    "slow camera push-in",
    "handheld shake",
    "warm tones",
    "cool blue shadows",
    "dramatic clouds",
    "gentle snowfall",
    "light rain",
    "lens flare",
    "shallow depth of field",
    "vivid saturation",
    "pastel palette",
    "long shadows",
    "fog rolling in",
    "sparkles",
    "bold outlines",
]
NEGATIVES = ["blurry, low quality", "text, watermark", "extra limbs", "flicker", "distorted faces"]
TITLES = ["Hero shot", "Client pick", "Alt ending", "Festival cut", "Moodboard", "Teaser"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 takes, 8 renders, fewer pages")
    parser.add_argument("--part", choices=["gallery", "throughput", "both"], default="both")
    parser.add_argument("--takes", type=int, help="gallery takes (default 100,000)")
    parser.add_argument("--renders", type=int, help="local-engine takes per run (default 40)")
    parser.add_argument("--repeat", type=int, help="gallery requests per scenario (default 30)")
    parser.add_argument(
        "--explain", action="store_true", help="print the plan of each gallery query (A)"
    )
    parser.add_argument(
        "--storage",
        choices=["s3", "local"],
        default="s3",
        help="local: no bucket; every process shares one data folder (implies --shared-data-dir)",
    )
    parser.add_argument(
        "--shared-data-dir",
        action="store_true",
        help="give both worker hosts one data folder (a local engine that keeps renders on disk)",
    )
    parser.add_argument(
        "--unpinned",
        action="store_true",
        help="let every worker host use every core (by default each has one of its own)",
    )
    args = parser.parse_args()
    args.takes = args.takes or (10_000 if args.quick else 100_000)
    args.renders = args.renders or (8 if args.quick else 40)
    args.repeat = args.repeat or (10 if args.quick else 30)
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        # Start a throwaway server and run again inside it (it is removed when this ends).
        script = ROOT / "scripts" / "with-postgres"
        os.execv(script, [str(script), sys.executable, *sys.argv])  # noqa: S606
    with ExitStack() as stack:
        scratch = Path(tempfile.mkdtemp(prefix="cutroom-scale-"))
        stack.callback(shutil.rmtree, scratch, ignore_errors=True)
        stack.enter_context(own_database())
        if args.storage == "s3":
            bucket = stack.enter_context(s3_bucket(scratch))
            files = f"moto S3 at {bucket.endpoint}"
            os.environ.update(bucket.env())
        else:
            args.shared_data_dir = True
            files = "files on the local disk (--storage local)"
            os.environ.update(STUDIO_STORAGE="local")
        os.environ.update(
            DJANGO_SETTINGS_MODULE="studio.settings",
            STUDIO_DATA_DIR=str(scratch / ("shared" if args.storage == "local" else "web")),
            STUDIO_LOG_LEVEL="WARNING",
            STUDIO_PROVIDER="local",
            SECRET_KEY=secrets.token_urlsafe(50),  # every host signs with the same key
            STUDIO_MAX_ACTIVE_EDITS=str(max(args.renders, 2)),
        )
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection
        from django.test.utils import setup_test_environment

        call_command("migrate", verbosity=0)
        # The test client's host is allowed, and responses carry their context (the cursor).
        setup_test_environment()
        # Pages name static files without a collectstatic manifest, as in development.
        settings.STORAGES["staticfiles"] = {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        }
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        print(f"PostgreSQL {version}, {files}, {os.cpu_count()} cores")
        if args.part in ("gallery", "both"):
            gallery_bench(takes=args.takes, repeat=args.repeat, explain=args.explain)
        if args.part in ("throughput", "both"):
            throughput_bench(
                renders=args.renders,
                scratch=scratch,
                shared=args.shared_data_dir,
                pinned=not args.unpinned,
            )
        connection.close()


# -- servers ----------------------------------------------------------------------------------
@contextmanager
def own_database() -> Iterator[str]:
    """A new database on the server of DATABASE_URL, pointed at by DATABASE_URL while it lasts."""
    import psycopg

    server = os.environ["DATABASE_URL"]
    parts = urlsplit(server)
    name = f"cutroom_scale_{secrets.token_hex(4)}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    try:
        yield name
    finally:
        from django.db import connections

        connections.close_all()
        os.environ["DATABASE_URL"] = server
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def s3_bucket(scratch: Path) -> Iterator[Any]:
    from tests.s3 import moto_server, new_bucket

    with moto_server(scratch / "moto.log") as endpoint:
        yield new_bucket(endpoint)


# -- A. the gallery ---------------------------------------------------------------------------
def gallery_bench(*, takes: int, repeat: int, explain: bool) -> None:
    from django.test import Client

    team = make_team()
    owner = team.memberships.get(role="owner").user
    client = Client()
    client.force_login(owner, backend="django.contrib.auth.backends.ModelBackend")
    small = min(1_000, takes)
    fill_takes(team, small)
    print(f"\nA. Gallery on PostgreSQL (24 takes a page; target p50 <= {GALLERY_TARGET_MS:.0f} ms)")
    counts_small = gallery_scenarios(client, team, repeat=3, show=False)
    started = time.perf_counter()
    fill_takes(team, takes - small)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # planner statistics, as autovacuum keeps them
    print(f"{takes:,} takes inserted in {time.perf_counter() - started:.0f} s")
    counts_big = gallery_scenarios(client, team, repeat=repeat, show=True, explain=explain)
    same = counts_small == counts_big and len(set(counts_big.values())) == 1
    print(
        f"queries per page: {sorted(set(counts_small.values()))} at {small:,} takes, "
        f"{sorted(set(counts_big.values()))} at {takes:,} takes; "
        + ("constant" if same else "NOT constant: " + repr(counts_big))
    )


def make_team() -> Any:
    from accounts.models import Membership
    from accounts.services import account_create
    from studio.models import Clip, MediaState
    from studio.projects.services import project_create

    owner = account_create(email="owner@example.com", password="bench-password-123", name="Ana")
    team = owner.current_team
    assert team is not None
    for n, name in enumerate(["Ben", "Chloé", "Dev", "Eun-ji", "Femi"]):
        user = account_create(email=f"m{n}@example.com", password=None, name=name)
        Membership.objects.create(team=team, user=user, role="editor")
    for n in range(20):
        project = project_create(team=team, author=owner, name=f"Campaign {n + 1:02d}")
        for k in range(3):
            Clip.objects.create(
                project=project,
                original_name=f"shot-{k}.mp4",
                state=MediaState.READY,
                duration=12.0,
                width=1920,
                height=1080,
            )
    return team


def fill_takes(team: Any, count: int) -> None:
    """`count` more takes, older than every take so far, in batches of 5,000."""
    from django.utils import timezone

    from studio.models import Clip, Take, TakeStar, TakeState

    rng = random.Random(count)
    clips = list(Clip.objects.filter(project__team=team).select_related("project"))
    users = [m.user for m in team.memberships.select_related("user")]
    oldest = Take.objects.filter(project__team=team).order_by("created_at").first()
    start = oldest.created_at if oldest else timezone.now()
    states = [TakeState.SUCCEEDED] * 16 + [TakeState.FAILED, TakeState.CANCELED]
    batch: list[Take] = []
    for n in range(count):
        clip = rng.choice(clips)
        state = rng.choice(states)
        code = secrets.token_hex(6)
        prompt = f"Turn {rng.choice(SUBJECTS)} into {rng.choice(LOOKS)}, {rng.choice(MODIFIERS)}"
        if rng.random() < 0.3:
            prompt += f" and {rng.choice(MODIFIERS)}"
        done = state == TakeState.SUCCEEDED
        folder = f"takes/{clip.project.code}/{code}"
        batch.append(
            Take(
                code=code,
                project=clip.project,
                clip=clip,
                created_by=rng.choice(users),
                prompt=prompt,
                negative_prompt=rng.choice(NEGATIVES) if rng.random() < 0.3 else "",
                title=rng.choice(TITLES) if rng.random() < 0.05 else "",
                seed=rng.randrange(2**32),
                start_ms=1000,
                length_ms=5000,
                provider=rng.choice(["local", "modellix"]),
                state=state,
                resolution=rng.choice(["720P", "1080P"]),
                review_status=rng.choice(["none"] * 8 + ["approved", "changes"]),
                result=f"{folder}/result.mp4" if done else "",
                result_thumb=f"{folder}/poster-thumb.jpg" if done else "",
                result_thumb_width=480 if done else None,
                result_thumb_height=270 if done else None,
                created_at=start - timedelta(seconds=(n + 1) * 300),
            )
        )
        if len(batch) == 5_000 or n == count - 1:
            made = Take.objects.bulk_create(batch)
            TakeStar.objects.bulk_create(
                TakeStar(take=take, user=users[0]) for take in made if rng.random() < 0.01
            )
            batch = []


def gallery_scenarios(
    client: Any, team: Any, *, repeat: int, show: bool, explain: bool = False
) -> dict[str, int]:
    """Time each kind of page `repeat` times; the queries each made (one count per kind)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from studio.models import Take
    from studio.takes.gallery import gallery_cursor

    url = f"/t/{team.code}/gallery/"
    project = team.projects.order_by("name")[7].code
    member = "m2@example.com"
    oldest = Take.objects.filter(project__team=team).order_by("created_at", "id")[40]
    deep = gallery_cursor(oldest)
    walked: list[dict[str, str]] = [{}]
    for _ in range(repeat - 1):  # follow "Older takes" page after page
        nxt = client.get(url, walked[-1]).context["next_cursor"]
        if not nxt:
            break
        walked.append({"before": nxt})
    scenarios: list[tuple[str, list[dict[str, str]]]] = [
        ("first page", [{}] * repeat),
        ("next pages by cursor", walked),
        ("deep page (the oldest)", [{"before": deep}] * repeat),
        ("state: failed", [{"state": "failed"}] * repeat),
        ("project", [{"project": project}] * repeat),
        (
            "project + state + 720P",
            [{"project": project, "state": "failed", "resolution": "720P"}] * repeat,
        ),
        ("member", [{"member": member}] * repeat),
        ("starred", [{"starred": "1"}] * repeat),
        ("search 'neon'", [{"q": "neon"}] * repeat),
        ("search 'lighthouse'", [{"q": "lighthouse"}] * repeat),
        ("search 'cliffs into watercolor'", [{"q": "cliffs into watercolor"}] * repeat),
        ("search '水彩'", [{"q": "水彩"}] * repeat),
        ("search 'watermark' (negative)", [{"q": "watermark"}] * repeat),
        ("search 'no such words'", [{"q": "no such words"}] * repeat),
        ("search 'neon' + deep page", [{"q": "neon", "before": deep}] * repeat),
        ("sorted by clip name", [{"sort": "clip"}] * repeat),
        ("sorted by review status", [{"sort": "review"}] * repeat),
        ("favourites first", [{"sort": "starred"}] * repeat),
    ]
    counts: dict[str, int] = {}
    for label, requests in scenarios:
        times, seen = [], set()
        for params in requests:
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                response = client.get(url, params)
                times.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, response.status_code
            seen.add(len(captured))
        counts[label] = max(seen)
        if explain:
            explain_page(captured.captured_queries)
        if show:
            p50 = statistics.median(times)
            p95 = statistics.quantiles(times, n=20)[18] if len(times) > 1 else times[0]
            mark = "ok" if p50 <= GALLERY_TARGET_MS else "MISSED"
            pad = 33 - sum(2 if unicodedata.east_asian_width(c) == "W" else 1 for c in label)
            print(
                f"  {label}{' ' * pad} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  "
                f"queries {sorted(seen)}  {mark}"
            )
    return counts


def explain_page(queries: list[dict[str, str]]) -> None:
    """EXPLAIN ANALYZE the page's query of takes (the one with LIMIT 25)."""
    from django.db import connection

    sql = next(
        q["sql"] for q in queries if 'FROM "studio_take"' in q["sql"] and "LIMIT 25" in q["sql"]
    )
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        print("\n".join("      " + row[0] for row in cursor.fetchall()))


# -- B. throughput ----------------------------------------------------------------------------
def throughput_bench(*, renders: int, scratch: Path, shared: bool, pinned: bool = True) -> None:
    from django.conf import settings

    from studio.models import Take

    print(
        f"\nB. Local-engine takes of a 1080p clip on PostgreSQL + {settings.STORAGE} storage "
        f"({renders} takes a run; a worker host = `manage.py worker` with STUDIO_WORKERS=1)"
    )
    if shared:
        print(
            "  CAVEAT (--shared-data-dir): the worker hosts and the scheduler share one data"
            " folder (the local engine's renders on disk are seen by every host)"
        )
    if pinned:
        print(
            "  each worker host runs on a core of its own (taskset), as separate machines each"
            " have theirs; PostgreSQL, moto and this process share the machine"
        )
    else:
        print("  UNPINNED: both worker hosts share every core of this one machine")
    team, clip = upload_clip(scratch)
    rates = {}
    complete = True
    for hosts in (1, 2):
        Take.objects.all().delete()  # no history: both runs poll on the same schedule
        elapsed, states = timed_run(
            team=team,
            clip=clip,
            renders=renders,
            hosts=hosts,
            scratch=scratch,
            shared=shared,
            pinned=pinned,
        )
        rates[hosts] = renders / elapsed * 60
        complete = complete and states.get("succeeded", 0) == renders
        said = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
        print(
            f"  {hosts} worker host{'s' if hosts > 1 else ' '}: {renders} takes in {elapsed:6.1f} s"
            f" = {rates[hosts]:5.1f} takes/min   ({said}; load {os.getloadavg()[0]:.1f})"
        )
    ratio = rates[2] / rates[1]
    mark = "ok" if ratio >= RATIO_TARGET else "MISSED"
    if not complete:
        mark = "NOT VALID: not every take succeeded"
    print(f"  ratio two/one: {ratio:.2f} (target >= {RATIO_TARGET})  {mark}")


def upload_clip(scratch: Path) -> tuple[Any, Any]:
    """A 4 s 1080p clip uploaded through the real view to the bucket, checked and prepared."""
    from django.test import Client
    from django.urls import reverse

    from accounts.services import account_create
    from studio.library import clips
    from studio.models import Clip
    from studio.projects.services import project_create
    from tests.samples import make_video

    user = account_create(email="renders@example.com", password="bench-password-123")
    team = user.current_team
    assert team is not None
    project = project_create(team=team, author=user, name="Renders")
    source = make_video(scratch / "clip.mp4", seconds=4, width=1920, height=1080, fps=30)
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    with source.open("rb") as handle:
        response = client.post(
            reverse("clip_upload", args=[project.code]),
            {"file": handle, "upload_key": str(uuid.uuid4())},
            HTTP_ACCEPT="application/json",
        )
    assert response.status_code < 300, response.content[:500]
    clip = Clip.objects.get(code=response.json()["code"])
    clips.clip_process(clip_id=clip.pk)
    clip.refresh_from_db()
    assert clip.state == "ready", clip.state
    print(f"  clip: {clip.width}x{clip.height}, {clip.duration:.1f} s, stored as {clip.source}")
    return team, clip


def host_cpus(name: str, pinned: bool) -> str:
    """The core a simulated worker host runs on: a, then b, each its own (as two machines each
    have theirs); "" when not pinned."""
    if not pinned:
        return ""
    return str("ab".index(name) % (os.cpu_count() or 1))


def timed_run(
    *,
    team: Any,
    clip: Any,
    renders: int,
    hosts: int,
    scratch: Path,
    shared: bool,
    pinned: bool = True,
) -> tuple[float, Counter[str]]:
    """Start `hosts` worker hosts, make the takes, and time them until every one has ended."""

    from studio.models import FINAL_TAKE_STATES, Take
    from studio.ops.health import scheduler_running, worker_status
    from studio.takes.create import take_create
    from studio.takes.parameters import EditParameters
    from tests.hosts import Host

    author = team.memberships.get(role="owner").user
    machines = []
    for name in "ab"[:hosts]:
        # tests/hosts.py: a data folder of its own and, as root, a host name of its own.
        machine = Host(
            f"worker-{name}",
            scratch / f"run{hosts}" / f"worker-{name}",
            cpus=host_cpus(name, pinned),
            STUDIO_WORKERS="1",
        )
        if shared:
            data = scratch / "shared"
            machine.env.update(STUDIO_DATA_DIR=str(data), STUDIO_MEDIA_DIR=str(data / "media"))
        machines.append(machine)
    logs = scratch / f"run{hosts}"
    with ExitStack() as stack:
        for machine in machines:
            stack.callback(machine.stop)
            machine.start("worker")  # the Procfile's lines
            machine.start("scheduler")  # one is active, the other stands by
        wait(
            lambda: worker_status()["alive"] >= hosts and scheduler_running(),
            120,
            "the worker hosts and the scheduler to start",
            logs,
        )
        started = time.perf_counter()
        codes = []
        for n in range(renders):
            take = take_create(
                project=clip.project,
                author=author,
                clip=clip,
                parameters=EditParameters(
                    prompt=f"Turn the scene into {LOOKS[n % len(LOOKS)]}",
                    resolution="1080P",
                    seed=n + 1,
                ),
                start=0.5,
                length=3.0,
            )
            codes.append(take.code)

        def finished() -> bool:
            return (
                not Take.objects.filter(code__in=codes)
                .exclude(state__in=FINAL_TAKE_STATES)
                .exists()
            )

        wait(finished, 60 + renders * 30, "every take to finish", logs)
        elapsed = time.perf_counter() - started
        for machine in machines:
            if not machine.alive():
                raise RuntimeError(f"a worker host stopped:\n{machine.output()}")
    states = Counter(Take.objects.filter(code__in=codes).values_list("state", flat=True))
    failed = Take.objects.filter(code__in=codes).exclude(state="succeeded").first()
    if failed:
        print(f"  a take did not succeed: {failed.state}: {failed.reason} {failed.last_error}")
    print("    " + step_times(codes))
    return elapsed, states


def step_times(codes: list[str]) -> str:
    """The median time the takes spent in each state, from their events, and the engine's own
    render time: where a take's minutes go."""
    from studio.models import Take, TakeEvent

    spent: dict[str, list[float]] = {}
    events = TakeEvent.objects.filter(take__code__in=codes).order_by("take_id", "at", "pk")
    last: dict[int, tuple[str, Any]] = {}
    for event in events:
        if event.take_id in last:
            state, at = last[event.take_id]
            spent.setdefault(state, []).append((event.at - at).total_seconds())
        last[event.take_id] = (event.state, event.at)
    renders = [
        ms / 1000
        for ms in Take.objects.filter(code__in=codes).values_list("provider_duration_ms", flat=True)
        if ms
    ]
    said = ", ".join(f"{state} {statistics.median(times):.1f}" for state, times in spent.items())
    if renders:
        said += f"; the engine's render {statistics.median(renders):.1f}"
    return f"median s per step: {said}"


def wait(condition: Callable[[], object], timeout: float, what: str, logs: Path) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            tails = "\n".join(
                f"== {log.relative_to(logs)}\n{log.read_text(errors='replace')[-2000:]}"
                for log in sorted(logs.rglob("*.log"))
            )
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}\n{tails}")
        time.sleep(0.25)


if __name__ == "__main__":
    main()
