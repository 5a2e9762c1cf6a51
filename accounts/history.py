"""What accounts needs from the studio app: the team's history and the team's share links.

Imported lazily: accounts does not depend on the studio app at import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from accounts.models import Team, User

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from studio.models import ShareLink


def team_history(team: Team, actor: User, verb: str, summary: str) -> None:
    from studio.projects.history import activity_log

    activity_log(team=team, actor=actor, verb=verb, summary=summary)


def member_share_links(team: Team, user: User) -> QuerySet[ShareLink]:
    """The live share links `user` made of the team's takes."""
    from studio.review.shares import share_links_of_member

    return share_links_of_member(team=team, user=user)


def former_member_share_links(team: Team) -> QuerySet[ShareLink]:
    """Live share links of the team's takes made by people who are no longer in it."""
    from studio.review.shares import share_links_of_former_members

    return share_links_of_former_members(team=team)


def revoke_share_links(links: QuerySet[ShareLink]) -> int:
    from studio.review.shares import share_links_revoke

    return share_links_revoke(links=links)


def links_phrase(count: int) -> str:
    """ "the share link" / "the 3 share links", for sentences about someone's links."""
    return "the share link" if count == 1 else f"the {count} share links"
