"""Run the real django-q2 cluster (manage.py qcluster) and scheduler against the test database."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from studio.provenance.identity import signing_identity

ROOT = Path(__file__).resolve().parents[1]


class Cluster:
    def __init__(self, process: subprocess.Popen[bytes], log: Path) -> None:
        self.process = process
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """Kill the whole cluster at once, as a crash or an OOM kill would: no clean-up runs."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop as the worker command does: SIGTERM to the cluster's main process only."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=15)
        self.kill()  # whatever is left of the group


def shared_signing() -> dict[str, str]:
    """The test process's content-credentials identity, for processes on hosts of their own (a
    data folder each), as a deployment of several hosts gives them one (STUDIO_C2PA_CERT and
    _KEY): every host signs alike and none makes an identity in its data folder."""
    identity = signing_identity()
    return {
        "STUDIO_C2PA_CERT": identity.chain_pem.decode(),
        "STUDIO_C2PA_KEY": identity.key_pem.decode(),
    }


def cluster_env(**extra: str) -> dict[str, str]:
    """The environment of a child process that shares the test database and media folder."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "studio.settings",
            "STUDIO_MEDIA_DIR": str(settings.MEDIA_ROOT),
            "STUDIO_DATA_DIR": str(settings.DATA_DIR),
            "SECRET_KEY": settings.SECRET_KEY,  # django-q2 signs what it queues with it
            "STUDIO_WORKER_STALE_SECONDS": str(int(settings.WORKER_STALE_AFTER.total_seconds())),
            # 0 unless a test gives one (tests/conftest.py): 200 means the worker has reported.
            "STUDIO_START_GRACE_SECONDS": str(int(settings.START_GRACE.total_seconds())),
            "STUDIO_PROVIDER": settings.STUDIO_PROVIDER,
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(database_env())
    env.update(extra)
    return env


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A deployment's environment: nothing inherited from this machine's STUDIO_ variables."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STUDIO_", "MODELLIX_", "DJANGO_"))
        and key not in ("SECRET_KEY", "DATABASE_URL")
    }
    env.update(
        {
            "STUDIO_DATA_DIR": str(tmp_path / "data"),
            "STUDIO_DEBUG": "false",
            "STUDIO_HTTPS": "true",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "STUDIO_ALLOWED_HOSTS": "studio.example.com",
            "STUDIO_CSRF_TRUSTED_ORIGINS": "https://studio.example.com",
        }
    )
    env.update(extra)
    return env


def database_env() -> dict[str, str]:
    """The variables that point a child process at the test database, not the one it is named
    after: pytest-django made it (a file of its own on SQLite, `test_<name>` on PostgreSQL)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return {"STUDIO_DATABASE_FILE": str(db["NAME"])}
    user = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        user += ":" + quote(db["PASSWORD"], safe="")
    host = f"[{db['HOST']}]" if ":" in db["HOST"] else db["HOST"]
    port = f":{db['PORT']}" if db["PORT"] else ""
    query = "&".join(f"{quote(k)}={quote(str(v))}" for k, v in db["OPTIONS"].items())
    url = f"postgres://{user}{'@' if user else ''}{host}{port}/{quote(db['NAME'], safe='')}"
    return {"DATABASE_URL": url + (f"?{query}" if query else "")}


@contextmanager
def run_cluster(log_dir: Path, command: str = "qcluster", **extra_env: str) -> Iterator[Cluster]:
    log = log_dir / f"{command}-{time.monotonic_ns()}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", command],
            cwd=ROOT,
            env=cluster_env(**extra_env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so kill() reaches every worker
        )
    cluster = Cluster(process, log)
    try:
        yield cluster
    finally:
        cluster.stop()


@contextmanager
def run_scheduler(log_dir: Path, **extra_env: str) -> Iterator[Cluster]:
    """A real `manage.py scheduler` process on the test database (stopped with SIGTERM)."""
    with run_cluster(log_dir, command="scheduler", **extra_env) as scheduler:
        yield scheduler


class HasOutput(Protocol):
    def output(self) -> str: ...


def wait_for(
    condition: Callable[[], object],
    timeout: float,
    what: str,
    cluster: HasOutput | None = None,
    *,
    every: float = 0.2,
) -> None:
    """Return as soon as `condition()` holds; fail after `timeout` seconds, or at once when the
    process `cluster` watches has exited, showing its log.

    Tests wait for what they need, never for a fixed time: give a timeout far beyond what an
    idle machine needs, since it costs nothing when the condition comes true in time and a busy
    machine (a full run on two cores) can be many times slower.
    """
    deadline = time.monotonic() + timeout
    process = getattr(cluster, "process", None)
    while True:
        if condition():  # once more after the deadline: a slow check may have crossed it
            return
        if process is not None and process.poll() is not None:
            command = " ".join(str(arg) for arg in process.args[1:])
            raise AssertionError(f"{command} exited while waiting for {what}:\n{cluster.output()}")
        if time.monotonic() > deadline:
            break
        time.sleep(every)
    log = cluster.output() if cluster is not None else ""
    raise AssertionError(f"timed out after {timeout} s waiting for {what}:\n{log}")
