"""Shared fixtures: alice owns a team, bob edits in it, carol views it, dave is an outsider;
`project` is a project of that team, `clip` a ready clip in it, and `make_take(...)` makes a take
in any state. `fake` is the fake Modellix (tests/fake_modellix.py) as the provider; with `queue`
the tasks the services dispatch are played in this process by tests/pipeline.py."""

from __future__ import annotations

import os

# Playwright's sync API runs an event loop in the test thread; Django would refuse DB calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import hashlib  # noqa: E402
import io  # noqa: E402
import logging  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from datetime import datetime, timedelta  # noqa: E402
from decimal import Decimal  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import django_ratelimit.core  # noqa: E402
import pytest  # noqa: E402
from django.conf import settings as django_settings  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402
from pytest_django.plugin import validate_django_db  # noqa: E402

from accounts.models import Membership, Role, Team, User  # noqa: E402
from accounts.services import account_create  # noqa: E402
from studio.models import (  # noqa: E402
    FINAL_TAKE_STATES,
    Clip,
    MediaState,
    Project,
    Take,
    TakeEvent,
    TakeState,
)
from studio.providers.catalogue import about  # noqa: E402
from tests import pipeline  # noqa: E402
from tests.cluster import Cluster, run_cluster, run_scheduler  # noqa: E402
from tests.fake_modellix import FakeModellix  # noqa: E402
from tests.full_disk import FullDisks  # noqa: E402
from tests.s3 import Bucket, moto_server, new_bucket  # noqa: E402
from tests.samples import Samples  # noqa: E402

PASSWORD = "correct horse battery staple"
# The suite runs on SQLite, and again on PostgreSQL (scripts/test-postgres sets DATABASE_URL).
# A test of one backend's own behaviour is skipped on the other, saying why.
ON_POSTGRESQL = connection.vendor == "postgresql"


# Fixtures through which a test reaches the database (every other one that does asks for one).
DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "live_server"}


# Test modules that run for a minute or more (the slowest of `make test`'s durations): they start
# first among the tests of their kind, so that no worker is still in one when the other has run
# out of work. pytest-xdist hands the second half of the run to the second worker, and
# pytest-django puts the transactional tests, these among them, at the end of it.
LONGEST_FIRST = ("tests/storage/test_multihost.py", "tests/cuts/test_long_clip.py")


def _django_order(item: pytest.Item) -> int:
    """pytest-django's order: database tests, then transactional ones, then the rest (it sorts
    by this before this file's hook runs; a database test must not follow a transactional one,
    which empties the tables)."""
    marker = item.get_closest_marker("django_db")
    fixtures = set(getattr(item, "fixturenames", ()))
    transaction, reset_sequences, *_ = validate_django_db(marker) if marker else (False, False)
    if transaction or reset_sequences or fixtures & {"transactional_db", "live_server"}:
        return 1
    return 0 if marker or "db" in fixtures else 2


def _longest_first(item: pytest.Item) -> tuple[int, int]:
    path = item.nodeid.split("::", 1)[0]
    rank = LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)
    return _django_order(item), rank


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Start the longest tests first in their group (LONGEST_FIRST; the sort is stable, so every
    other test keeps its place). On PostgreSQL, leave out the tests that never touch the
    database: they ran in the SQLite pass already (the same code, the same machine), and they
    are the suite's heaviest media work. pytest-django refuses database access to a test
    without django_db or one of those fixtures, so none of them can depend on which database
    is behind."""
    items.sort(key=_longest_first)
    if not ON_POSTGRESQL:
        return
    kept, left = [], []
    for item in items:
        uses = item.get_closest_marker("django_db") or DATABASE_FIXTURES & set(
            getattr(item, "fixturenames", ())
        )
        (kept if uses else left).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept


class _HeldClock:
    """django-ratelimit's view of the time during a test: still, unless the test moves time.time.

    Its windows are fixed (staggered per key), so a burst of requests a test counts could
    straddle a window's end and start again from zero. Held still, a burst always falls in
    one window; a test that patches time.time to move on (tests/review/test_rate_limits.py) is
    followed.
    """

    def __init__(self) -> None:
        self.real = time.time
        self.start = time.time()

    def time(self) -> float:
        return self.start if time.time is self.real else time.time()


@pytest.fixture(autouse=True)
def _rate_limit_windows_hold_still(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(django_ratelimit.core, "time", _HeldClock())


@pytest.fixture(autouse=True)
def _isolated_settings(settings: Any, tmp_path: Path) -> None:
    # Tests never touch the real data dir, and static files are served without collectstatic.
    settings.MEDIA_ROOT = tmp_path / "media"
    # The data folder of this test's "host" (its journal of task ids, studio/takes/journal.py);
    # child processes get it too (tests/cluster.py cluster_env).
    settings.DATA_DIR = tmp_path.with_name(f"{tmp_path.name}-data")
    settings.DATA_DIR.mkdir()
    # Uploads and scratch copies too: tests on parallel workers count what is left there.
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path.with_name(f"{tmp_path.name}-uploads")
    settings.FILE_UPLOAD_TEMP_DIR.mkdir()
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The test process started long before most tests: no start-up grace for its /healthz
    # (tests/ops/test_healthz.py sets one where it is the subject).
    settings.START_GRACE = timedelta(0)
    # Each test gets empty caches (rate limits count per address). tests/review/test_rate_limits.py
    # checks the database cache the rate limits use outside tests.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": str(tmp_path),
        },
        "ratelimit": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"{tmp_path}-ratelimit",
        },
    }


def make_user(email: str, name: str = "") -> User:
    """An account with its personal studio, made outside sign-up (whose policy is tested in
    tests/accounts/test_signup_policy.py). The first one made administers the instance, as on a
    real one."""
    return account_create(email=email, password=PASSWORD, name=name)


def join(user: User, team: Team, role: str) -> Membership:
    return Membership.objects.create(team=team, user=user, role=Role(role))


@pytest.fixture
def alice(db: Any) -> User:
    return make_user("alice@example.com", "Alice")


@pytest.fixture
def team(alice: User) -> Team:
    return Team.objects.create(name="Northwind Films")


@pytest.fixture
def owner_membership(alice: User, team: Team) -> Membership:
    return join(alice, team, Role.OWNER)


@pytest.fixture
def bob(team: Team, owner_membership: Membership) -> User:
    user = make_user("bob@example.com", "Bob")
    join(user, team, Role.EDITOR)
    return user


@pytest.fixture
def carol(team: Team, owner_membership: Membership) -> User:
    user = make_user("carol@example.com", "Carol")
    join(user, team, Role.VIEWER)
    return user


@pytest.fixture
def dave(db: Any) -> User:
    return make_user("dave@example.com", "Dave")


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def as_alice(alice: User, owner_membership: Membership) -> Client:
    return client_for(alice)


@pytest.fixture
def as_bob(bob: User) -> Client:
    return client_for(bob)


@pytest.fixture
def as_carol(carol: User) -> Client:
    return client_for(carol)


@pytest.fixture
def as_dave(dave: User) -> Client:
    return client_for(dave)


@pytest.fixture
def qcluster(transactional_db: Any, tmp_path: Path) -> Iterator[Cluster]:
    """A real django-q2 cluster on the test database, with the scheduler beside it as `make run`
    starts them (takes move on only with both); stopped (or killed) at the end."""
    with run_cluster(tmp_path) as cluster, run_scheduler(tmp_path):
        yield cluster


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Samples:
    return Samples(tmp_path_factory.mktemp("samples"))


def upload_clip(
    client: Client, project: Project, path: Path, name: str | None = None, *, prepare: bool = True
) -> Clip:
    """Upload a video through the real view; prepared as the worker would (a ready Clip), or,
    with prepare=False, as the upload leaves it (waiting for the worker)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from studio.library import clips

    data = {
        "file": SimpleUploadedFile(name or path.name, path.read_bytes()),
        "upload_key": str(uuid.uuid4()),
    }
    response = client.post(
        reverse("clip_upload", args=[project.code]), data, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 201, response.content
    clip = Clip.objects.get(code=response.json()["code"])
    if prepare:
        clips.clip_process(clip_id=clip.pk)
        clip.refresh_from_db()
    return clip


def scheduler_lease(seconds: float = 600) -> None:
    """Stand in for a running scheduler: /healthz and the pages read its lease."""
    from studio.models import Lease

    Lease.acquire("scheduler", "tests", seconds)


def last_link(kind: str) -> str:
    """The path of the last mail's link to `kind` (such as "/signup/finish/")."""
    from django.core import mail

    line = next(line for line in mail.outbox[-1].body.splitlines() if kind in line)
    return "/" + line.split("://", 1)[1].split("/", 1)[1].strip()


def sign_up(client: Client, email: str, name: str = "", next_url: str = "") -> Any:
    """Both steps, as a person does them: the form, then the link in the mail."""
    query = f"?next={next_url}" if next_url else ""
    client.post(reverse("signup") + query, {"email": email, "name": name})
    return client.post(last_link("/signup/finish/"), {"password1": PASSWORD, "password2": PASSWORD})


def post_take(client: Client, clip: Clip, **fields: Any) -> Any:
    """The edit form of `clip` posted with every field filled as a person leaves it, but
    `fields`."""
    data = {
        "start": "1",
        "length": "4",
        "prompt": "Turn the scene into clay style",
        "resolution": "1080P",
        "ratio": "",
        "duration": "0",
        "audio_setting": "auto",
        "prompt_extend": "on",
        "seed": "",
    } | fields
    return client.post(reverse("take_new", args=[clip.code]), data)


def clip_row(project: Project, **fields: Any) -> Clip:
    """A ready clip row with a placeholder source file, for tests that never decode it."""
    defaults = {"original_name": "ferry.mp4", "duration": 12.0, "width": 640, "height": 360}
    clip = Clip(project=project, state=MediaState.READY, **defaults | fields)
    clip.source.save("rows/source.mp4", ContentFile(b"not really a video"), save=False)
    clip.save()
    return clip


@pytest.fixture
def project(team: Team, alice: User) -> Project:
    """A project of alice's team."""
    return Project.objects.create(team=team, name="Ferry", created_by=alice)


@pytest.fixture
def clip(as_bob: Client, project: Project, samples: Samples) -> Clip:
    """A real 12 s clip (samples' long.mp4) uploaded by bob and prepared as the worker does."""
    return upload_clip(as_bob, project, samples["long.mp4"])


# What a take in each state has besides its state, as the services leave it (studio.takes):
# the provider's task from the paid POST on, the reason a person reads at each ending.
# A failed take is one the provider failed (a take can fail before sending too: override).
_SENT = (
    TakeState.RUNNING,
    TakeState.DOWNLOADING,
    TakeState.SUCCEEDED,
    TakeState.FAILED,
    TakeState.TIMED_OUT,
    TakeState.EXPIRED,
)
_REASONS = {
    TakeState.FAILED: "Content moderation flagged the input.",
    TakeState.TIMED_OUT: "The provider did not finish within 30 minutes, so Cutroom stopped "
    "waiting. It may still finish and bill it; run the take again if you need it.",
    TakeState.EXPIRED: "The provider's link to the result expired before Cutroom could save "
    "it. Run the take again.",
    TakeState.UNCERTAIN: "The provider answered with an error (HTTP 504) after the edit was "
    "sent, so it may or may not have started it. Cutroom never re-sends a paid request by "
    "itself: check your provider dashboard, then run it again if needed.",
}
# Endings that give the reservation back: the provider bills nothing for them (canceled while
# queued, failed by the provider).
_RELEASED = (TakeState.CANCELED, TakeState.FAILED)


def _state_fields(state: str, provider: str, at: datetime, code: str) -> dict[str, Any]:
    fields: dict[str, Any] = {"state": state, "state_changed_at": at}
    if state not in (TakeState.QUEUED, TakeState.CANCELED):
        fields["admitted_at"] = at
    if state == TakeState.SUBMITTING:
        fields["lease_until"] = at + django_settings.TAKE_LEASE  # the worker sending it
    if state in (TakeState.SUBMITTING, TakeState.UNCERTAIN, *_SENT):
        fields |= {"submit_posts": 1, "provider_calls": 1}
    if state in _SENT:
        fields |= {"provider_task_id": f"{provider}-{code}", "submitted_at": at}
        fields["deadline_at"] = at + django_settings.EDIT_DEADLINE
    if state == TakeState.RUNNING:
        fields["next_check_at"] = at + timedelta(seconds=5 * django_settings.TIME_SCALE)
    if state in (TakeState.DOWNLOADING, TakeState.SUCCEEDED, TakeState.EXPIRED):
        fields |= {"provider_calls": 2, "status_checks": 1}
        fields["result_url"] = f"https://results.example.com/{code}/result.mp4"
    if state in (TakeState.SUCCEEDED, TakeState.EXPIRED):
        fields["download_attempts"] = 1
    if state in FINAL_TAKE_STATES:
        fields["finished_at"] = at
    if state in _REASONS:
        fields["reason"] = _REASONS[state]
    if state == TakeState.UNCERTAIN:
        fields["last_error"] = "HTTP 504"
    return fields


def take_row(
    project: Project,
    *,
    state: str = TakeState.SUCCEEDED,
    provider: str = "local",
    result: bytes | None = None,
    event: str = "",
    **overrides: Any,
) -> Take:
    """A take row in `state`, with the fields a take in that state has (its provider task,
    timestamps, counters, reason, estimate and reservation; a succeeded one has a stored
    result, `result`'s bytes if given, none if b""); `overrides` set any field. Its clip is the
    project's first one (a placeholder row if it has none); `event` records a TakeEvent note.
    """
    at = overrides.get("created_at") or timezone.now()
    take = Take(project=project, provider=provider, prompt="clay", seed=1, length_ms=3000)
    code = overrides.get("code", take.code)
    if "clip" not in overrides:
        take.clip = project.clips.order_by("pk").first() or clip_row(project)
    for name, value in ({"created_at": at} | _state_fields(state, provider, at, code)).items():
        setattr(take, name, value)
    for name, value in overrides.items():
        setattr(take, name, value)
    if "estimate_usd" not in overrides:  # as studio.takes.create.estimate does
        price = Decimal(django_settings.PRICE_PER_SECOND[take.resolution])
        seconds = Decimal(str(round(take.output_seconds, 3)))
        take.estimate_usd = (price * seconds).quantize(Decimal("0.0001"))
    bills = about(provider).bills
    if "reserved_usd" not in overrides:
        take.reserved_usd = take.estimate_usd if bills and state not in _RELEASED else Decimal(0)
    if "charged_usd" not in overrides and state in (TakeState.DOWNLOADING, TakeState.SUCCEEDED):
        take.charged_usd = take.estimate_usd if bills else None
    if result is None and state == TakeState.SUCCEEDED:
        result = f"the result of take {code}".encode()
    if result:
        name = f"takes/{project.code}/{code}/result.mp4"
        take.result.save(name, ContentFile(result), save=False)
        take.result_sha256 = hashlib.sha256(result).hexdigest()
        take.result_size = len(result)
        take.result_duration = take.output_seconds
    take.save()
    if event:
        TakeEvent.objects.create(take=take, state=state, note=event)
    return take


@pytest.fixture
def make_take(request: pytest.FixtureRequest) -> Callable[..., Take]:
    """make_take(state=SUCCEEDED, provider="local", **overrides): a take in any state, with
    the fields a take in that state has (see take_row), of the `project` fixture and made by
    bob unless `overrides` say otherwise."""

    def make(state: str = TakeState.SUCCEEDED, provider: str = "local", **overrides: Any) -> Take:
        project = overrides.pop("project", None) or request.getfixturevalue("project")
        if "created_by" not in overrides:
            overrides["created_by"] = request.getfixturevalue("bob")
        return take_row(project, state=state, provider=provider, **overrides)

    return make


@pytest.fixture
def fake(settings: Any) -> Iterator[FakeModellix]:
    """The fake Modellix as the studio's provider, on a clock fifty times faster (a check every
    0.1 s instead of every 5 s); its tasks take 0.6 s."""
    server = FakeModellix(task_seconds=0.6, pending_seconds=0.2).start()
    settings.STUDIO_PROVIDER = "modellix"
    settings.MODELLIX_API_KEY = "test-key"
    settings.MODELLIX_BASE_URL = server.url
    settings.DOWNLOAD_ALLOW_LOOPBACK = True
    settings.TIME_SCALE = 0.02
    yield server
    server.stop()


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """The tasks the services dispatch, collected in tests/pipeline.py's QUEUE instead of sent
    to django-q2; pipeline.run() plays them as the cluster would."""
    from studio.providers.local import engine as local
    from studio.takes import common

    pipeline.QUEUE.clear()
    monkeypatch.setattr(
        common, "dispatch", lambda task, take_id: pipeline.QUEUE.append((task, take_id))
    )
    monkeypatch.setattr(
        local, "queue_render", lambda task_id: pipeline.QUEUE.append(("render", task_id))
    )
    return pipeline.QUEUE


class Clock:
    """timezone.now() under the test's control: the real time when made, then moved only by
    advance(). (Code that imported `now` itself, such as Django's database cache, is not
    moved.)"""

    def __init__(self) -> None:
        self.now = timezone.now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock)
    return clock


class Logs:
    """What the studio's log handler wrote, as an operator reads it: formatted and redacted."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()


@pytest.fixture
def logs() -> Iterator[Logs]:
    """The lines of the console handler settings.LOGGING gives the root logger, during the
    test (pytest's caplog sees the records before that handler's filters and format)."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    captured = Logs()
    previous = handler.setStream(captured.stream)  # type: ignore[attr-defined]
    try:
        yield captured
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's S3 server on loopback, started once for the session (tests/s3.py)."""
    with moto_server(tmp_path_factory.mktemp("moto") / "moto.log") as endpoint:
        yield endpoint


@pytest.fixture
def s3(s3_endpoint: str, settings: Any) -> Bucket:
    """The default storage switched to a fresh bucket, as STUDIO_STORAGE=s3 does."""
    bucket = new_bucket(s3_endpoint)
    settings.STORAGE = "s3"
    settings.STORAGES = bucket.storages()
    settings.S3_MEDIA_ORIGIN = s3_endpoint
    for directive in ("img-src", "media-src"):  # as studio/settings.py adds it
        settings.SECURE_CSP = settings.SECURE_CSP | {
            directive: [*settings.SECURE_CSP[directive], s3_endpoint]
        }
    settings.S3_BUCKET = bucket.name
    return bucket


@pytest.fixture
def full_disks() -> Iterator[FullDisks]:
    """Small tmpfs disks mounted on folders and filled (tests/full_disk.py), unmounted after."""
    disks = FullDisks()
    try:
        yield disks
    finally:
        disks.unmount()
