"""Shared fixtures: alice owns a team, bob edits in it, carol views it, dave is an outsider."""

from __future__ import annotations

import os

# Playwright's sync API runs an event loop in the test thread; Django would refuse DB calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import django_ratelimit.core  # noqa: E402
import pytest  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import Membership, Role, Team, User  # noqa: E402
from accounts.services import account_create  # noqa: E402
from tests.cluster import Cluster, run_cluster, run_scheduler  # noqa: E402
from tests.s3 import Bucket, moto_server, new_bucket  # noqa: E402
from tests.samples import Samples  # noqa: E402

PASSWORD = "correct horse battery staple"
# The suite runs on SQLite, and again on PostgreSQL (scripts/test-postgres sets DATABASE_URL).
# A test of one backend's own behaviour is skipped on the other, saying why.
ON_POSTGRESQL = connection.vendor == "postgresql"


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
    # Uploads and scratch copies too: tests on parallel workers count what is left there.
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path.with_name(f"{tmp_path.name}-uploads")
    settings.FILE_UPLOAD_TEMP_DIR.mkdir()
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
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


def upload_clip(client: Client, project: Any, path: Path, name: str | None = None) -> Any:
    """Upload a video through the real view and prepare it as the worker would; a ready Clip."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from studio.library import clips
    from studio.models import Clip

    data = {
        "file": SimpleUploadedFile(name or path.name, path.read_bytes()),
        "upload_key": str(uuid.uuid4()),
    }
    response = client.post(
        reverse("clip_upload", args=[project.code]), data, HTTP_ACCEPT="application/json"
    )
    clip = Clip.objects.get(code=response.json()["code"])
    clips.clip_process(clip_id=clip.pk)
    clip.refresh_from_db()
    return clip


def scheduler_lease(seconds: float = 600) -> None:
    """Stand in for a running scheduler: /healthz and the pages read its lease."""
    from studio.ops.models import Lease

    Lease.acquire("scheduler", "tests", seconds)


def last_link(kind: str) -> str:
    """The path of the last mail's link to `kind` (such as "/signup/finish/")."""
    from django.core import mail

    line = next(line for line in mail.outbox[-1].body.splitlines() if kind in line)
    return "/" + line.split("://", 1)[1].split("/", 1)[1].strip()


def sign_up(client: Client, email: str, name: str = "", next_url: str = "") -> Any:
    """Both steps, as a person does them: the form, then the link in the mail."""
    from django.urls import reverse

    query = f"?next={next_url}" if next_url else ""
    client.post(reverse("signup") + query, {"email": email, "name": name})
    return client.post(last_link("/signup/finish/"), {"password1": PASSWORD, "password2": PASSWORD})


def clip_row(project: Any, **fields: Any) -> Any:
    """A ready clip row with a placeholder source file, for tests that never decode it."""
    from django.core.files.base import ContentFile

    from studio.models import Clip, MediaState

    defaults = {"original_name": "ferry.mp4", "duration": 12.0, "width": 640, "height": 360}
    clip = Clip(project=project, state=MediaState.READY, **defaults | fields)
    clip.source.save("rows/source.mp4", ContentFile(b"not really a video"), save=False)
    clip.save()
    return clip


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
