"""Several hosts that share nothing but PostgreSQL and the bucket (moto's S3 server).

A web host (gunicorn, as the Procfile runs it) and two worker hosts (the Procfile's worker and
scheduler each), every host with a data folder of its own and, as root, a host name of its own
(tests/hosts.py). A clip is uploaded through the web host; 20 takes run on the fake Modellix,
then 20 on the local engine; in each round one worker host is killed with SIGKILL while takes
are on their way, and the other finishes the work. Business invariants: at most one paid POST
per take (exactly one for every take that succeeded), every take final with a readable reason,
every result in the bucket and served from it, and no file left on any host's disk.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
import requests
from django.utils import timezone

from studio.models import (
    FINAL_TAKE_STATES,
    Clip,
    MediaState,
    Project,
    Take,
    TakeEvent,
    TakeState,
)
from studio.takes import create
from studio.takes.parameters import EditParameters
from tests.cluster import wait_for
from tests.conftest import ON_POSTGRESQL, PASSWORD
from tests.fake_modellix import FakeModellix
from tests.hosts import Host, signed_in, wait_http
from tests.s3 import Bucket, free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not ON_POSTGRESQL,
        reason="hosts share only PostgreSQL and the bucket; SQLite is one machine's file",
    ),
]
TAKES = 20


def common_env(s3: Bucket, **extra: str) -> dict[str, str]:
    return {
        **s3.env(),
        "STUDIO_WORKERS": "2",
        "STUDIO_MAX_ACTIVE_EDITS": "6",
        "STUDIO_TAKE_LEASE_SECONDS": "6",  # a dead host's work is taken over within seconds
        "STUDIO_SCHEDULER_LEASE_SECONDS": "3",
        "STUDIO_WORKER_STALE_SECONDS": "8",
        "STUDIO_TIME_SCALE": "0.05",
        **extra,
    }


class Cluster:
    """A web host and two worker hosts, started and stopped together."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.web = Host("web-1", folder / "web", HOST="127.0.0.1", PORT=str(self.port), **env)
        self.workers = [Host(f"worker-{n}", folder / f"worker-{n}", **env) for n in "ab"]
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.web.manage("collectstatic", "--noinput", "-v0")
        self.web.start("web")
        for host in self.workers:
            host.start("worker")
            host.start("scheduler")
        wait_http(f"{self.base}/healthz")

    def stop(self) -> None:
        for host in (self.web, *self.workers):
            host.stop()

    def output(self) -> str:
        return "\n".join(host.output() for host in (self.web, *self.workers))

    def hosts(self) -> list[Host]:
        return [self.web, *self.workers]


@contextmanager
def run_hosts(tmp_path: Path, env: dict[str, str]) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path, env)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def upload(cluster: Cluster, session: requests.Session, project: Project, path: Path) -> Clip:
    """Upload through the web host, as the browser does; the worker hosts prepare it."""
    with path.open("rb") as handle:
        answer = session.post(
            f"{cluster.base}/p/{project.code}/clips/",
            files={"file": ("harbour.mp4", handle, "video/mp4")},
            data={"upload_key": str(uuid.uuid4())},
            headers={"X-CSRFToken": session.cookies["csrftoken"], "Accept": "application/json"},
            timeout=60,
        )
    assert answer.status_code in (200, 201), answer.text[:2000]
    clip = Clip.objects.get(code=answer.json()["code"])
    wait_for(
        lambda: Clip.objects.get(pk=clip.pk).state in (MediaState.READY, MediaState.REJECTED),
        120,
        "the clip to be prepared",
        cluster,
    )
    clip.refresh_from_db()
    assert clip.state == MediaState.READY, clip.reason
    return clip


def make_takes(clip: Clip, author, count: int) -> list[Take]:
    return [
        create.take_create(
            project=clip.project,
            author=author,
            clip=clip,
            parameters=EditParameters(prompt=f"take {n} in clay", resolution="720P", seed=n + 1),
            start=0.0,
            length=2.0,
        )
        for n in range(count)
    ]


def on_their_way(items: list[Take]) -> int:
    return Take.objects.filter(
        pk__in=[t.pk for t in items],
        state__in=(TakeState.RUNNING, TakeState.DOWNLOADING),
    ).count()


def all_final(items: list[Take]) -> bool:
    return not (
        Take.objects.filter(pk__in=[t.pk for t in items])
        .exclude(state__in=FINAL_TAKE_STATES)
        .exists()
    )


def kill_one_mid_flight(cluster: Cluster, items: list[Take]) -> tuple[list[datetime], set[str]]:
    """SIGKILL worker host a while takes are on their way and it is in the middle of a step
    of one; the moments of the kills, and the steps cut short.

    On a busy machine the step seen may end in the moment before the kill; the host is then
    started again and killed in a later step (every kill's takes being sent count)."""
    victim = cluster.workers[0]
    kills: list[datetime] = []
    for _attempt in range(3):
        wait_for(
            lambda: on_their_way(items) >= 2 and take_steps(victim.unfinished_tasks()),
            120,
            "takes on their way and a step at worker host a",
            cluster,
        )
        victim.kill()
        kills.append(timezone.now())
        cut = take_steps(victim.unfinished_tasks())
        if cut:
            return kills, cut
        victim.start("worker")
    raise AssertionError(f"no kill of worker host a cut a step short: {cluster.output()}")


def sending_at(items: list[Take], kills: list[datetime]) -> set[int]:
    """The takes that were being sent (their last move before a kill was into "submitting").

    Read from the takes' histories once the round is over, not right after the kill: a move
    the killed host committed in its last instant may reach the database a moment later."""
    sending: set[int] = set()
    for take in items:
        events = list(TakeEvent.objects.filter(take_id=take.pk).order_by("at", "pk"))
        for killed in kills:
            before = [event for event in events if event.at <= killed]
            if before and before[-1].state == TakeState.SUBMITTING:
                sending.add(take.pk)
    return sending


def take_steps(names: set[str]) -> set[str]:
    """The tasks among `names` that are a step of a take (not a sweep or a clip's)."""
    return {name for name in names if name.startswith(TAKE_STEPS)}


TAKE_STEPS = ("prepare_take:", "download_take:", "render_local:")


def cut_short_takes(steps: set[str]) -> set[int]:
    """The takes whose steps (prepare_take:<id>, download_take:<id>, render_local:<task>) the
    killed host did not finish."""
    ids = {int(name.split(":", 1)[1]) for name in steps if name.split(":")[0].endswith("_take")}
    tasks = {name.split(":", 1)[1] for name in steps if name.startswith("render_local:")}
    ids |= set(Take.objects.filter(provider_task_id__in=tasks).values_list("pk", flat=True))
    assert ids, f"no take's step was cut short: {steps}"
    return ids


def check_round(cluster: Cluster, s3: Bucket, items: list[Take], kills: list[datetime]) -> set[int]:
    """Every take final, each succeeded once or (being sent when its host died) uncertain;
    the takes that were being sent."""
    wait_for(lambda: all_final(items), 300, "every take to be final", cluster)
    sending = sending_at(items, kills)
    keys = set(s3.keys())
    for take in Take.objects.filter(pk__in=[t.pk for t in items]):
        assert take.reason or take.state == TakeState.SUCCEEDED, take.code
        # A take being sent when its host died may be uncertain (never sent twice); any other
        # take succeeded, once.
        if take.state != TakeState.SUCCEEDED:
            assert take.pk in sending and take.state == TakeState.UNCERTAIN, (
                take.code,
                take.state,
                take.reason,
                cluster.output(),
            )
            assert take.submit_posts <= 1
            continue
        assert take.submit_posts == 1 or take.provider == "local", (take.code, take.submit_posts)
        for field in (take.result, take.result_poster):
            assert f"studio/{field.name}" in keys, field.name
    # No host keeps a media file, a scratch copy or an engine file. The killed host may have
    # left scratch copies of the steps it was in, and the journal entry of a task id the
    # provider answered just before the kill: when it comes back, its worker removes the
    # copies and hands the id to the database.
    killed = cluster.workers[0]
    assert all(
        name.startswith(("uploads-tmp/cutroom-", "journal/take-", "journal/.take-"))
        for name in killed.media_files()
    ), killed.media_files()
    killed.start("worker")
    wait_for(lambda: killed.media_files() == [], 120, "the killed host's scratch to go", cluster)
    for host in cluster.hosts():
        assert host.media_files() == [], (host.name, host.media_files())
    return sending


def fetch_through_web(cluster: Cluster, session: requests.Session, take: Take, s3: Bucket):
    """The web host redirects to the bucket, and the bucket serves the result."""
    answer = session.get(
        f"{cluster.base}/media/take/{take.code}/result", allow_redirects=False, timeout=60
    )
    assert answer.status_code == 302, answer.text[:500]
    assert answer.headers["Location"].startswith(f"{s3.endpoint}/{s3.name}/studio/")
    body = requests.get(answer.headers["Location"], timeout=30)
    assert body.status_code == 200 and body.content[4:8] == b"ftyp"


def test_two_worker_hosts_share_only_postgresql_and_the_bucket(
    s3, tmp_path, project, bob, samples, settings
):
    # The hosts hash passwords as production does (the suite's fast hasher is not theirs).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    bob.set_password(PASSWORD)
    bob.save()
    fake = FakeModellix(task_seconds=3, pending_seconds=0.5).start()
    try:
        env = common_env(
            s3,
            STUDIO_PROVIDER="modellix",
            MODELLIX_API_KEY="test-key",
            MODELLIX_BASE_URL=fake.url,
            MODELLIX_MEDIA_MODE="url",  # the provider fetches inputs from the bucket
            STUDIO_DOWNLOAD_ALLOW_LOOPBACK="true",
        )
        # Takes are made in this process (as the web host's form would): the provider too.
        settings.STUDIO_PROVIDER, settings.MODELLIX_API_KEY = "modellix", "test-key"
        settings.MODELLIX_BASE_URL = fake.url
        with run_hosts(tmp_path / "fake", env) as cluster:
            session = signed_in(cluster.base, bob.email, PASSWORD)
            clip = upload(cluster, session, project, samples["long.mp4"])
            items = make_takes(clip, bob, TAKES)
            kills, cut = kill_one_mid_flight(cluster, items)
            sending = check_round(cluster, s3, items, kills)
            # The steps the killed host was in the middle of were finished by the other.
            for take in Take.objects.filter(pk__in=cut_short_takes(cut)):
                assert take.state == TakeState.SUCCEEDED or take.pk in sending, take.reason
            succeeded = Take.objects.filter(pk__in=[t.pk for t in items], state=TakeState.SUCCEEDED)
            # A POST is counted on the take before it leaves: a host killed between the two
            # leaves a counted POST that never arrived, on a take being sent (uncertain, never
            # sent again). No POST arrives that no take counted.
            counted = sum(t.submit_posts for t in items_now(items))
            unsent = sum(t.submit_posts for t in items_now(items) if t.pk in sending)
            assert counted - unsent <= fake.counts["submit"] <= counted
            assert succeeded.count() >= TAKES - len(sending)
            assert {t.provider for t in items_now(items)} == {"modellix"}
            for url in {body["video_url"] for _, _, body in fake.requests if "video_url" in body}:
                assert url.startswith(f"{s3.endpoint}/{s3.name}/studio/")
            fetch_through_web(cluster, session, succeeded.first(), s3)
    finally:
        fake.stop()
    env = common_env(s3, STUDIO_PROVIDER="local")
    settings.STUDIO_PROVIDER = "local"
    with run_hosts(tmp_path / "local", env) as cluster:
        session = signed_in(cluster.base, bob.email, PASSWORD)
        items = make_takes(clip, bob, TAKES)
        kills, cut = kill_one_mid_flight(cluster, items)
        check_round(cluster, s3, items, kills)
        for take in Take.objects.filter(pk__in=cut_short_takes(cut)):
            assert take.state == TakeState.SUCCEEDED, take.reason
        assert all(t.state == TakeState.SUCCEEDED for t in items_now(items))
        assert {t.provider for t in items_now(items)} == {"local"}
        fetch_through_web(cluster, session, items[0], s3)


def items_now(items: list[Take]) -> list[Take]:
    return list(Take.objects.filter(pk__in=[t.pk for t in items]))
