"""Projects, a team's folders of work, and the team history (Activity)."""

from __future__ import annotations

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
