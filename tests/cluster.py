"""Run the real django-q2 cluster (manage.py qcluster) and scheduler against the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

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


def cluster_env(**extra: str) -> dict[str, str]:
    """The environment of a child process that shares the test database and media folder."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "studio.settings",
            "STUDIO_MEDIA_DIR": str(settings.MEDIA_ROOT),
            "STUDIO_WORKER_STALE_SECONDS": str(int(settings.WORKER_STALE_AFTER.total_seconds())),
            "STUDIO_PROVIDER": settings.STUDIO_PROVIDER,
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(database_env())
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


def wait_for(
    condition: Callable[[], object], timeout: float, what: str, cluster: Cluster | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if cluster is not None and cluster.process.poll() is not None:
            command = " ".join(str(arg) for arg in cluster.process.args[1:])
            raise AssertionError(f"{command} exited while waiting for {what}:\n{cluster.output()}")
        time.sleep(0.2)
    log = cluster.output() if cluster is not None else ""
    raise AssertionError(f"timed out after {timeout} s waiting for {what}:\n{log}")
