"""The team history (Activity): one line per thing a person did, for the team to read."""

from __future__ import annotations

from accounts.models import Team, User
from studio.models import Activity, CutRender, Project, Take


def activity_log(
    *,
    team: Team,
    actor: User | None,
    verb: str,
    summary: str,
    project: Project | None = None,
    take: Take | None = None,
    render: CutRender | None = None,
) -> Activity:
    return Activity.objects.create(
        team=team,
        actor=actor,
        verb=verb,
        summary=summary[:300],
        project=project,
        take=take,
        render=render,
    )
