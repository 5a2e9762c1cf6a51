"""Projects: create, rename, archive."""

from __future__ import annotations

from django.utils import timezone

from accounts.models import Team, User
from studio.models import Project

# Said wherever a new take is refused because its project is archived (a take costs money, and an
# archived project is one the team has put away).
ARCHIVED_NO_TAKES = "This project is archived: restore it on the project page to make new takes."


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


def project_is_archived(project: Project) -> bool:
    """Asked of the database, not of `project`: a page loaded before archiving must not slip by."""
    return Project.objects.filter(pk=project.pk, archived_at__isnull=False).exists()
