"""Projects: create, rename, archive."""

from __future__ import annotations

from django.utils import timezone

from accounts.models import Team, User
from studio.models import Project


def project_create(*, team: Team, author: User, name: str, description: str = "") -> Project:
    return Project.objects.create(
        team=team, name=name.strip(), description=description.strip(), created_by=author
    )


def project_update(*, project: Project, name: str, description: str) -> Project:
    project.name = name.strip()
    project.description = description.strip()
    project.updated_at = timezone.now()
    project.save(update_fields=["name", "description", "updated_at"])
    return project


def project_archive(*, project: Project, archived: bool) -> Project:
    """Archived projects leave the team's main list; nothing in them is deleted."""
    project.archived_at = timezone.now() if archived else None
    project.updated_at = timezone.now()
    project.save(update_fields=["archived_at", "updated_at"])
    return project
