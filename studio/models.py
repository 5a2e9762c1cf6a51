"""Projects and the studio's own bookkeeping."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone

from accounts.models import Team, User


def _code() -> str:
    return secrets.token_urlsafe(8)


class Project(models.Model):
    code = models.CharField(max_length=16, unique=True, default=_code, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=2000)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["team", "-updated_at"])]

    def __str__(self) -> str:
        return self.name


class WorkerHeartbeat(models.Model):
    """Written every few seconds by each live django-q2 worker process (see studio.health)."""

    worker = models.CharField(max_length=120, unique=True)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.worker
