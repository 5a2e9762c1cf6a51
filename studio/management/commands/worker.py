"""Run the django-q2 cluster so that it stops cleanly however the stop signal arrives.

Process managers (supervisord, honcho, a terminal's Ctrl-C, systemd with KillMode=control-group)
signal either the whole process group or this process alone. django-q2's sentinel process dies on
a SIGTERM of its own and the cluster then hangs until it is killed. This command keeps the cluster
in a process group of its own, passes one SIGTERM to the cluster's main process only, and kills
the group if it has not stopped within the grace time.

The cluster dies with this command however it ends, so a restarted worker never finds an old
cluster still running beside it. On Linux the kernel sees to it: the cluster's main process asks
for SIGKILL when this command dies (prctl PR_SET_PDEATHSIG), and every process forked below it
(django-q2's sentinel, then its workers, pusher and monitor) asks the same of its own parent. So a
kill -9 of this command, of its process group, or an OOM kill of this command and the cluster's
main process together, ends every process of the cluster at once. A thread that watches the
parent and kills the cluster's group remains as the fallback where prctl is not available.
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import suppress
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connections

from studio.ops import health
from studio.takes import journal
from studio.takes.common import scaled

log = logging.getLogger(__name__)

# Below supervisord's stopwaitsecs (see studio/ops/supervision.py) and honcho's 5 s, so nothing is
# left running when the process manager gives up.
STOP_GRACE_SECONDS = 4.0
PARENT_CHECK_SECONDS = 0.5
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
JOURNAL_EVERY_SECONDS = 30


class Command(BaseCommand):
    help = "Run the background worker cluster (django-q2 qcluster) with clean shutdown."

    def add_arguments(self, parser: CommandParser) -> None:
        # Internal: the cluster process that this command starts, told whose child it is.
        parser.add_argument("--cluster-of", type=int, default=0, help=argparse.SUPPRESS)

    def handle(self, *args: Any, cluster_of: int = 0, **options: Any) -> None:
        if cluster_of:
            run_cluster(parent=cluster_of)
            return
        # A host coming back after a crash first removes the scratch its dead workers left (the
        # one-minute sweep does it too, but runs on whichever host's worker takes it).
        from studio.library.processing import clean_temp

        clean_temp()
        # Task ids this host got while the database could not be reached (studio/takes/journal.py)
        # are recorded now, and every half minute while the database keeps refusing.
        adopt_every = scaled(JOURNAL_EVERY_SECONDS).total_seconds()
        next_adopt = time.monotonic()
        cluster = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
            [
                sys.executable,
                str(settings.BASE_DIR / "manage.py"),
                "worker",
                f"--cluster-of={os.getpid()}",
            ],
            start_new_session=True,
        )
        deadline: float | None = None

        def request_stop(signum: int, frame: object) -> None:
            nonlocal deadline
            if deadline is None:
                deadline = time.monotonic() + STOP_GRACE_SECONDS
                with suppress(ProcessLookupError):
                    cluster.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        while cluster.poll() is None:
            if deadline is None and time.monotonic() >= next_adopt:
                adopt_held_ids()
                next_adopt = time.monotonic() + adopt_every
            if deadline is not None and time.monotonic() > deadline:
                self.stderr.write("worker: cluster did not stop in time; killing it")
                with suppress(ProcessLookupError):
                    os.killpg(cluster.pid, signal.SIGKILL)
            time.sleep(0.2)
        # No worker process may outlive the cluster it belonged to.
        with suppress(ProcessLookupError):
            os.killpg(cluster.pid, signal.SIGKILL)
        # Pages stop saying "waiting for a free slot" at once instead of after missed beats.
        health.forget_cluster(cluster.pid)
        if deadline is None and cluster.returncode:
            sys.exit(cluster.returncode)


def adopt_held_ids() -> None:
    """Record the task ids in this host's journal; never let a database outage end the worker."""
    try:
        journal.journal_adopt()
    except Exception:
        log.exception("worker: the journal of task ids could not be read back; will retry")
    finally:
        connections.close_all()


def die_with_parent(parent: int) -> bool:
    """Ask Linux to SIGKILL this process when `parent` dies; False where that is not available.

    The parent may have died before the request was made (it is then never signalled), so the
    request is followed by a look at who the parent is now.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)
    return True


_forking_parent = 0


def _before_fork() -> None:
    global _forking_parent
    _forking_parent = os.getpid()


def _after_fork_in_child() -> None:
    die_with_parent(_forking_parent)


def run_cluster(*, parent: int) -> None:
    """Run qcluster in this process group, and end the group if `parent` goes away."""
    if die_with_parent(parent):
        # Inherited by every process forked below this one, at every level.
        os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os.killpg(os.getpgrp(), signal.SIGKILL)

    # A daemon thread keeps watching while qcluster's main thread waits for its sentinel.
    threading.Thread(target=watch, name="cutroom-parent-watch", daemon=True).start()
    call_command("qcluster")
