"""Run the scheduler: admission, polling and repair of takes (and repair of cut renders), outside
the worker pool.

Start one on every worker host (the Procfile does, for `make run`); exactly one is active at a
time and another takes over within seconds when it dies (see studio/takes/scheduler.py).
"""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand

from studio.cuts.renders import renders_sweep
from studio.takes.scheduler import Scheduler


class Command(BaseCommand):
    help = "Run the take scheduler (one is active across all hosts; the others stand by)."

    def handle(self, *args: Any, **options: Any) -> None:
        # Renders whose worker died go back to the queue within seconds, not at the minute sweep.
        scheduler = Scheduler(repairs=[renders_sweep])
        # A clean stop gives the lease up at once, so a stand-by takes over without waiting.
        signal.signal(signal.SIGTERM, scheduler.stop)
        signal.signal(signal.SIGINT, scheduler.stop)
        scheduler.run()
