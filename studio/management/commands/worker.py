"""Run the django-q2 cluster so that it stops cleanly however the stop signal arrives.

Process managers (honcho, a terminal's Ctrl-C, systemd with KillMode=control-group) signal the whole
process group. django-q2's sentinel process dies on a SIGTERM of its own and the cluster then hangs
until it is killed. This command keeps the cluster in a process group of its own, passes one SIGTERM
to the cluster's main process only, and kills the group if it has not stopped within the grace time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import suppress
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

STOP_GRACE_SECONDS = 4.0  # below honcho's 5 s, so nothing is left running when honcho gives up


class Command(BaseCommand):
    help = "Run the background worker cluster (django-q2 qcluster) with clean shutdown."

    def handle(self, *args: Any, **options: Any) -> None:
        cluster = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
            [sys.executable, str(settings.BASE_DIR / "manage.py"), "qcluster"],
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
            if deadline is not None and time.monotonic() > deadline:
                self.stderr.write("worker: cluster did not stop in time; killing it")
                with suppress(ProcessLookupError):
                    os.killpg(cluster.pid, signal.SIGKILL)
            time.sleep(0.2)
        # No worker process may outlive the cluster it belonged to.
        with suppress(ProcessLookupError):
            os.killpg(cluster.pid, signal.SIGKILL)
        if deadline is None and cluster.returncode:
            sys.exit(cluster.returncode)
