"""The processes' own bookkeeping: worker heartbeats and the scheduler's lease."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone


class WorkerHeartbeat(models.Model):
    """Written every few seconds by each live django-q2 worker process (see studio.ops.health)."""

    worker = models.CharField(max_length=120, unique=True)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.worker


class Lease(models.Model):
    """A role that one process holds at a time, across every host, until `until` (e.g. the
    scheduler). The holder renews it well before it runs out; when the holder dies, the renewals
    stop and another process may take the role once `until` has passed.

    Times come from each host's clock, so the hosts must keep their clocks in step (NTP).
    """

    name = models.CharField(max_length=64, unique=True)
    owner = models.CharField(max_length=120, blank=True)
    until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.owner or 'free'})"

    @classmethod
    def acquire(cls, name: str, owner: str, seconds: float) -> bool:
        """Take the role, or renew it when `owner` holds it; False while another holds it."""
        now = timezone.now()
        if not cls.objects.filter(name=name).exists():
            with contextlib.suppress(IntegrityError), transaction.atomic():
                cls.objects.create(name=name)  # another process may have made it meanwhile
        free = Q(until__isnull=True) | Q(until__lte=now) | Q(owner=owner)
        taken = (
            cls.objects.filter(name=name)
            .filter(free)
            .update(owner=owner, until=now + timedelta(seconds=seconds))
        )
        return bool(taken)

    @classmethod
    def release(cls, name: str, owner: str) -> None:
        """Give the role up at once (a clean stop), if `owner` still holds it."""
        cls.objects.filter(name=name, owner=owner).update(until=None)

    @classmethod
    def holder(cls, name: str) -> Lease | None:
        """The row of the process that holds the role now, or None when nobody does."""
        return cls.objects.filter(name=name, until__gt=timezone.now()).first()
