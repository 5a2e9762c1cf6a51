"""Projects, a team's folders of work, and the team history (Activity)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Self

from django.db import models
from django.utils import timezone

from accounts.models import Team, User
from studio.core.codes import new_code


class Project(models.Model):
    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=2000)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # Last activity: details changed, a clip or a reference image added.
    updated_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)
    # The project's monthly limit on provider spend (USD), set by a team owner; None: no limit.
    budget_usd = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["team", "-updated_at"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def touch(self) -> None:
        Project.objects.filter(pk=self.pk).update(updated_at=timezone.now())


class Activity(models.Model):
    """One line of a team's history: who did what to which thing, and when."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="activity")
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    verb = models.CharField(max_length=32)
    summary = models.CharField(max_length=300)
    project = models.ForeignKey(Project, on_delete=models.SET_NULL, null=True, blank=True)
    take = models.ForeignKey("studio.Take", on_delete=models.SET_NULL, null=True, blank=True)
    render = models.ForeignKey("studio.CutRender", on_delete=models.SET_NULL, null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["team", "-at"]),
            models.Index(fields=["team", "actor", "-at"]),
        ]

    def __str__(self) -> str:
        return self.summary


# How long a deleted clip or take waits in its team's trash before the sweep removes it for good.
TRASH_KEEP = timedelta(days=30)


class TrashQuerySet(models.QuerySet):
    def kept(self) -> Self:
        """What the team sees: everything not in the trash."""
        return self.filter(trashed_at__isnull=True)

    def in_trash(self) -> Self:
        """What the trash page lists: trashed, and not yet due to be removed for good."""
        return self.filter(trashed_at__isnull=False, purge_after__gt=timezone.now())

    def due(self, now: datetime | None = None) -> Self:
        """What the sweep removes for good: expired, or emptied from the trash."""
        return self.filter(trashed_at__isnull=False, purge_after__lte=now or timezone.now())


class Trashable(models.Model):
    """A clip or take that goes to its team's trash for TRASH_KEEP before it is removed.

    `purge_after` is when the sweep removes it (studio.projects.trash); "Delete for good" and
    "Empty trash" only bring that moment to now, so no file is removed in a web request.
    """

    trashed_at = models.DateTimeField(null=True, blank=True)
    trashed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    purge_after = models.DateTimeField(null=True, blank=True)

    objects = TrashQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def is_trashed(self) -> bool:
        return self.trashed_at is not None

    def _trash_rows(self) -> Any:
        return type(self)._default_manager.filter(pk=self.pk)

    def trash(self, by: User | None, **fields: Any) -> bool:
        """Move to the trash (compare-and-set: False when it already is)."""
        now = timezone.now()
        values = {"trashed_at": now, "trashed_by": by, "purge_after": now + TRASH_KEEP, **fields}
        if not self._trash_rows().filter(trashed_at__isnull=True).update(**values):
            return False
        for name, value in values.items():
            setattr(self, name, value)
        return True

    def restore(self, **fields: Any) -> bool:
        """Back out of the trash, unless the sweep is already due to remove it."""
        values = {"trashed_at": None, "trashed_by": None, "purge_after": None, **fields}
        rows = self._trash_rows().filter(trashed_at__isnull=False, purge_after__gt=timezone.now())
        if not rows.update(**values):
            return False
        for name, value in values.items():
            setattr(self, name, value)
        return True

    def purge_now(self) -> bool:
        """Ask the sweep to remove it for good at its next pass (delete for good, empty)."""
        return bool(
            self._trash_rows()
            .filter(trashed_at__isnull=False, purge_after__gt=timezone.now())
            .update(purge_after=timezone.now())
        )
