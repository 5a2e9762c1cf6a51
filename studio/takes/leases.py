"""The lease a step holds on its take while it works (claimed with Take.claim).

Leases are short (STUDIO_TAKE_LEASE_SECONDS, 60 s) and renewed by a heartbeat thread while a
step runs: a worker that died is noticed within one lease, and a long step that is alive (a
slow download, a POST waiting for its answer) is never taken over.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

from studio.core.heartbeat import beating
from studio.models import Take


class StepLease:
    """The lease of a claimed take, as this worker last wrote it."""

    def __init__(self, take: Take) -> None:
        self.take = take
        self.until = take.lease_until
        self.lost = False  # renewing failed: another worker holds it, or the step gave it back

    def renew(self) -> bool:
        until = self.take.renew_lease(self.until)
        if until is None:
            self.lost = True
            return False
        self.until = until
        return True


@contextmanager
def holding_lease(take: Take) -> Iterator[StepLease]:
    """Keep a claimed take's lease while the block runs: renewed every quarter lease by a thread,
    also while the step waits on a slow call. When the worker dies the renewals stop, and the
    sweep takes over (or parks a send as uncertain) within one lease."""
    lease = StepLease(take)
    every = settings.TAKE_LEASE.total_seconds() / 4
    with beating(lease.renew, every=every, name=f"cutroom-lease-{take.pk}"):
        yield lease
