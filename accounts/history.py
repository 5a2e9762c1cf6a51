"""Membership events go into the team's history, which the studio app keeps."""

from __future__ import annotations

from accounts.models import Team, User


def team_history(team: Team, actor: User, verb: str, summary: str) -> None:
    # Imported here: accounts does not depend on the studio app at import time.
    from studio.services.history import activity_log

    activity_log(team=team, actor=actor, verb=verb, summary=summary)
