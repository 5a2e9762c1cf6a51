"""The local engine's record of each render (studio.providers.local.engine), shared by every host.

Imported by studio.models, so this is the studio app's model like any other. Every change of
state is a compare-and-set update: a cancel, a render and the poller that re-queues a dead render
may run at once on different hosts, and each must see whether it won.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

PENDING_STALE_SECONDS = 90  # queued, never started: its task was lost


class LocalJob(models.Model):
    class State(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELED = "canceled"

    task_id = models.CharField(max_length=40, unique=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    progress = models.FloatField(default=0.0)
    # Renewed by the render's heartbeat thread every quarter lease: a render whose beat is older
    # than a lease has died with its worker.
    beat = models.DateTimeField(default=timezone.now)
    runner = models.CharField(max_length=32, blank=True)  # the render that holds the job
    payload = models.JSONField(default=dict)  # parameters, and the inputs' storage names
    result = models.CharField(max_length=255, blank=True)  # the rendered file's storage name
    looks = models.JSONField(default=list)
    removed = models.JSONField(default=list)
    extended_prompt = models.TextField(blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.task_id} ({self.state})"

    @classmethod
    def _change(cls, task_id: str, *, only: models.Q, **fields: Any) -> bool:
        """Update the job if it still matches `only`; whether it did."""
        fields.setdefault("updated_at", timezone.now())
        return bool(cls.objects.filter(only, task_id=task_id).update(**fields))

    def stale(self, now: datetime) -> bool:
        """Whether a pending job lost its task, or a running one its worker."""
        if self.state == self.State.RUNNING:
            return now - self.beat > settings.TAKE_LEASE
        return self.state == self.State.PENDING and now - self.beat > timedelta(
            seconds=PENDING_STALE_SECONDS
        )

    def requeue(self, now: datetime) -> bool:
        """Back to pending, if nothing changed the job since it was read (so one poller wins)."""
        same = models.Q(state=self.state, runner=self.runner, beat=self.beat)
        return self._change(self.task_id, only=same, state=self.State.PENDING, beat=now)

    @classmethod
    def claim(cls, task_id: str, runner: str) -> LocalJob | None:
        """Take the job for the render `runner`: a pending one, or a running one whose render
        died. None when there is nothing to render (finished, canceled, or alive elsewhere)."""
        job = cls.objects.filter(task_id=task_id).first()
        if job is None or job.state not in (cls.State.PENDING, cls.State.RUNNING):
            return None
        now = timezone.now()
        if job.state == cls.State.RUNNING and not job.stale(now):
            return None  # a live render has it; this is a second delivery of its task
        same = models.Q(state=job.state, runner=job.runner)
        if not cls._change(
            task_id, only=same, state=cls.State.RUNNING, runner=runner, beat=now, progress=0.0
        ):
            return None
        job.refresh_from_db()
        return job

    @classmethod
    def report(cls, task_id: str, runner: str, **fields: Any) -> bool:
        """Record what the render `runner` did, while it still holds the job. False when the job
        was canceled or taken over: the render must stop and take back what it stored."""
        held = models.Q(state=cls.State.RUNNING, runner=runner)
        return cls._change(task_id, only=held, **fields)

    @classmethod
    def cancel(cls, task_id: str) -> bool:
        """Mark an unfinished job canceled; False when it had already finished (or is gone)."""
        unfinished = models.Q(state__in=[cls.State.PENDING, cls.State.RUNNING])
        return cls._change(task_id, only=unfinished, state=cls.State.CANCELED)
