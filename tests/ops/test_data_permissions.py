"""The data folder and what is in it are the studio user's alone: 0700 folders, 0600 files.

The database holds live session keys and the secret key signs them; any other local user who
can read either can sign in as anyone.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.cluster import ROOT, database_env
from tests.conftest import ON_POSTGRESQL, upload_clip

# The first two tests install without DATABASE_URL whatever the suite runs on: the SQLite pass
# runs them, and the PostgreSQL pass checks its own kind of install instead.
sqlite_install = pytest.mark.skipif(
    ON_POSTGRESQL, reason="checks the SQLite files of an install without DATABASE_URL"
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def manage(data_dir: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """Run manage.py as a fresh install would: nothing configured but the data folder, and
    the usual umask 022 (so only the code, not the shell, can make files private)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STUDIO_", "DATABASE_URL", "SECRET_KEY", "DJANGO_"))
    }
    env["STUDIO_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        umask=0o022,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


@sqlite_install
@pytest.mark.slow
def test_a_new_data_folder_and_its_database_are_private(tmp_path):
    data = tmp_path / "data"
    manage(data, "migrate", "--noinput")
    database = data / "cutroom.sqlite3"
    assert mode(data) == 0o700
    assert mode(database) == 0o600
    assert mode(data / "secret_key") == 0o600
    # Start-up's checks made the instance's content-credentials key, as private as the secret key.
    assert mode(data / "c2pa_identity.pem") == 0o600
    # SQLite gives the write-ahead log and shared-memory files the database file's mode.
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE probe (x)")
        assert mode(data / "cutroom.sqlite3-wal") == 0o600
        assert mode(data / "cutroom.sqlite3-shm") == 0o600
    for folder in ("uploads-tmp", "static"):
        assert mode(data / folder) == 0o700, folder


@sqlite_install
@pytest.mark.slow
def test_an_existing_world_readable_install_is_made_private(tmp_path):
    data = tmp_path / "data"
    manage(data, "migrate", "--noinput")
    database = data / "cutroom.sqlite3"
    for path, loose in ((data, 0o755), (database, 0o644), (data / "secret_key", 0o644)):
        path.chmod(loose)
    manage(data, "check")
    assert mode(data) == 0o700
    assert mode(database) == 0o600
    assert mode(data / "secret_key") == 0o600


@pytest.mark.skipif(not ON_POSTGRESQL, reason="an install with DATABASE_URL: the PostgreSQL pass")
@pytest.mark.slow
def test_a_new_data_folder_on_postgresql_is_private_and_has_no_sqlite_file(
    tmp_path, django_db_setup
):
    data = tmp_path / "data"
    manage(data, "migrate", "--noinput", **database_env())
    assert mode(data) == 0o700
    assert mode(data / "secret_key") == 0o600
    for folder in ("uploads-tmp", "static"):
        assert mode(data / folder) == 0o700, folder
    assert not list(data.glob("*.sqlite3*"))


@pytest.mark.django_db
def test_uploaded_and_derived_media_are_private(as_alice, project, samples, settings):
    clip = upload_clip(as_alice, project, samples["tiny.mp4"])
    assert clip.poster  # the worker's files too, not only the upload
    media = Path(settings.MEDIA_ROOT)
    files = [path for path in media.rglob("*") if path.is_file()]
    folders = [media, *(path for path in media.rglob("*") if path.is_dir())]
    assert files and all(mode(path) == 0o600 for path in files), {
        str(path): oct(mode(path)) for path in files
    }
    assert all(mode(path) == 0o700 for path in folders), {
        str(path): oct(mode(path)) for path in folders
    }
    assert as_alice.get(reverse("clip_detail", args=[clip.code])).status_code == 200
