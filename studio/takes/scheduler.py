"""The scheduler: admits queued takes, polls running ones and repairs lost steps, outside the
worker pool.

It runs as a process of its own (`manage.py scheduler`, a Procfile entry), on every worker host.
The workers of the django-q2 cluster then only run steps (prepare and submit, download, render,
proxies): none is held by a loop that waits for the provider, so with STUDIO_WORKERS=1 an upload
is prepared and a take sent while other takes are being polled.

Exactly one scheduler is active across all hosts: it holds the database lease "scheduler"
(studio.ops.models.Lease) and renews it every 2 s (or every fifth of a shorter
STUDIO_SCHEDULER_LEASE_SECONDS; 10 s by default). The others stand by and try to take the lease
as often. When the active
one dies, its renewals stop and another takes over once the lease has run out: within about
12 s with the defaults. A scheduler asks the provider only while the lease it last wrote has
more than one renewal period left, so two never poll at once.

Each turn admits queued takes, repairs steps whose worker died or whose task was lost, hands the
due status checks to the Poller's threads (paid for from the request budget,
studio.providers.request_budget) and handles the answers that have come in. A check that waits on a
slow provider holds up neither the other takes nor admission. SIGTERM or SIGINT ends the loop within
a second and gives the lease up at once, so a stand-by takes over without waiting for it to run out.

Other domains' steps are repaired here too, by the callables given as `repairs` (the command
passes the cuts' renders_sweep; studio.takes imports nothing of theirs): the active scheduler
calls each at most every REPAIR_EVERY seconds, whether or not any take is active, so a render
whose worker died is sent to the queue again within seconds of its lease running out.
"""

from __future__ import annotations

import logging
import math
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from studio.models import ACTIVE_TAKE_STATES, Take
from studio.ops import health
from studio.ops.models import Lease
from studio.providers import request_budget
from studio.takes.driver import takes_admit as admit
from studio.takes.driver import takes_repair as repair
from studio.takes.poll import Poller

log = logging.getLogger(__name__)
LEASE_NAME = health.SCHEDULER
RENEW_EVERY = 2.0  # seconds, at most: renewals, and a stand-by's tries to take over
LONGEST_TURN = 1.0  # seconds: how long a turn may wait for answers, or for work when idle
REPAIR_EVERY = 2.0  # seconds, at least, between two calls of each of the other repairs


def owner_name() -> str:
    """host:pid:random, so a restarted process with a reused pid is another owner."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Scheduler:
    def __init__(
        self,
        *,
        owner: str = "",
        lease: timedelta | None = None,
        repairs: Sequence[Callable[[], object]] = (),
    ) -> None:
        self.owner = owner or owner_name()
        self.repairs = tuple(repairs)
        self.repaired_at = -math.inf  # monotonic; the first active turn repairs at once
        self.lease = (lease or settings.SCHEDULER_LEASE).total_seconds()
        self.renew_every = min(RENEW_EVERY, self.lease / 5)
        self.stopping = threading.Event()
        self.active = False
        self.valid_until = 0.0  # monotonic time until which the lease we last wrote holds
        self.renewed_at = 0.0
        self.said_standby = False
        self.checks = 0  # status checks asked while active, for the logs and the tests
        self.failed_at = -math.inf  # monotonic time of the last turn that failed

    def stop(self, *args: object) -> None:
        """Ask the loop to end (also a signal handler); it gives the lease up on its way out."""
        self.stopping.set()

    def run(self) -> None:
        log.info("scheduler %s: started; lease %g s", self.owner, self.lease)
        poller: Poller | None = None
        try:
            while not self.stopping.is_set():
                try:
                    if not self.hold_role():
                        _drop(poller)
                        poller = None
                        self.stopping.wait(self.renew_every)
                        continue
                    poller = poller or Poller()
                    self.turn(poller)
                except Exception:  # a database hiccup or a bug: log it, keep the loop alive
                    self.failed_at = time.monotonic()
                    log.exception("scheduler %s: turn failed", self.owner)
                    close_old_connections()
                    self.stopping.wait(LONGEST_TURN)
        finally:
            _drop(poller)
            if self.active:
                self.active = False
                Lease.release(LEASE_NAME, self.owner)
            log.info("scheduler %s: stopped after %d status checks", self.owner, self.checks)

    def hold_role(self) -> bool:
        """Take or renew the lease when a renewal is due; whether this scheduler is active."""
        started = time.monotonic()
        if self.active and started - self.renewed_at < self.renew_every:
            return True
        held = Lease.acquire(LEASE_NAME, self.owner, self.lease)
        if held:
            self.renewed_at, self.valid_until = started, started + self.lease
            if not self.active:
                log.info("scheduler %s: active", self.owner)
        elif self.active:
            log.warning("scheduler %s: another scheduler took over; standing by", self.owner)
        elif not self.said_standby:
            holder = Lease.holder(LEASE_NAME)
            log.info(
                "scheduler %s: standing by while %s is active",
                self.owner,
                holder.owner if holder else "another scheduler",
            )
        self.said_standby = not held
        self.active = held
        return held

    def leases_tell(self) -> bool:
        """Whether a take's lease that ran out says its worker stopped. Not within one take
        lease after a turn of ours failed (the database was unreachable, as a rule): the
        workers could not renew their leases either, and a living one renews within that time
        once the database is back. Repairing at once would call a living send silent and park
        its take as uncertain."""
        return time.monotonic() - self.failed_at >= settings.TAKE_LEASE.total_seconds()

    def may_ask(self) -> bool:
        """Whether the lease we wrote surely outlasts a check started now."""
        return time.monotonic() < self.valid_until - self.renew_every

    def repair_others(self) -> None:
        """Call the other domains' repairs when REPAIR_EVERY has passed; one that fails is
        logged and the others still run."""
        started = time.monotonic()
        if not self.repairs or started - self.repaired_at < REPAIR_EVERY:
            return
        self.repaired_at = started
        for repair_other in self.repairs:
            try:
                repair_other()
            except Exception:
                log.exception("scheduler %s: repair %r failed", self.owner, repair_other)
                close_old_connections()

    def turn(self, poller: Poller) -> None:
        self.repair_others()
        active = Take.objects.filter(state__in=ACTIVE_TAKE_STATES)
        if not poller.asking and not active.exists():
            self.stopping.wait(min(LONGEST_TURN, self.renew_every))  # nothing to do
            return
        now = timezone.now()
        admit()
        if self.leases_tell():
            repair(now)
        asked = poller.ask_due(now) if self.may_ask() else 0
        self.checks += asked
        nxt = (
            active.exclude(next_check_at=None)
            .order_by("next_check_at")
            .values_list("next_check_at", flat=True)
            .first()
        )
        wait = LONGEST_TURN if nxt is None else (nxt - timezone.now()).total_seconds()
        if wait <= 0 and not asked:
            # Due takes that could not be asked (no free thread, the budget, a paused provider):
            # not again before the budget has a token, and never in a tight loop.
            wait = request_budget.status_wait() or 0.25
        wait = min(LONGEST_TURN, self.renew_every, max(0.02, wait))
        if poller.asking:
            poller.collect(wait=wait)
        else:
            self.stopping.wait(wait)


def _drop(poller: Poller | None) -> None:
    """Stop asking: checks still waiting end unheard, and their takes are due again at once."""
    if poller is not None:
        poller.__exit__(None, None, None)
