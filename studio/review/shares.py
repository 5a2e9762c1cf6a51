"""Share links: made, found, checked, viewed and revoked (docs/review.md "Share links")."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth.hashers import check_password, make_password
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Team, User
from studio.models import CutRender, ShareLink, Take
from studio.projects.history import activity_log


# -- share links ----------------------------------------------------------------------------
def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def share_create(
    *,
    take: Take | None = None,
    render: CutRender | None = None,
    author: User,
    days: int | None,
    allow_download: bool,
    show_prompt: bool,
    password: str = "",
    allow_comments: bool = False,
) -> tuple[ShareLink, str]:
    """A link to a take or a cut's render. Returns the link and its token; the token is not
    stored and cannot be shown again."""
    if (take is None) == (render is None):
        raise ValueError("a share link is to a take or to a render")
    if password and not ShareLink.PASSWORD_MIN <= len(password) <= ShareLink.PASSWORD_MAX:
        raise ValueError("A share link password has 8 to 200 characters.")  # forms check first
    token = secrets.token_urlsafe(32)
    link = ShareLink.objects.create(
        take=take,
        render=render,
        token_hash=token_digest(token),
        created_by=author,
        expires_at=timezone.now() + timedelta(days=days) if days else None,
        allow_download=allow_download,
        show_prompt=show_prompt,
        allow_comments=allow_comments,
        password_hash=make_password(password) if password else "",
    )
    project = link.project
    activity_log(
        team=project.team,
        actor=author,
        verb="shared",
        summary=(f"shared {render.title}" if render else f"shared a take of {project.name}")
        + (" for review (guests may comment)" if allow_comments else ""),
        project=project,
        take=take,
        render=render,
    )
    return link, token


def share_find(token: str) -> ShareLink | None:
    """The live link for a token, or None for unknown, expired and revoked alike."""
    if not token or len(token) > 100:
        return None
    link = (
        ShareLink.objects.select_related(
            "take__project__team",
            "take__clip",
            "take__input_clip",
            "render__cut__project__team",
            "render__cut__clip",
        )
        .filter(token_hash=token_digest(token))
        .first()
    )
    return link if link is not None and link.is_live and not trashed_subject(link) else None


def trashed_subject(link: ShareLink) -> str:
    """What of the link's subject is in the trash ('' when nothing): a link stops the moment
    its take, or the clip of its take or render, goes there."""
    if link.take is not None:
        if link.take.is_trashed:
            return "take"
        return "clip" if link.take.clip is not None and link.take.clip.is_trashed else ""
    if link.render is not None and link.render.cut.clip.is_trashed:
        return "clip"
    return ""


def share_gone(token: str) -> str:
    """For a link that would still work but for the trash, what guests are told; '' otherwise."""
    if not token or len(token) > 100:
        return ""
    link = (
        ShareLink.objects.select_related("take__clip", "render__cut__clip")
        .filter(token_hash=token_digest(token))
        .first()
    )
    if link is None or not link.is_live:
        return ""
    what = trashed_subject(link)
    if not what:
        return ""
    shown = "take" if link.take is not None else "cut"
    if what == "take":
        return "This link no longer works: the take was deleted."
    return f"This link no longer works: the {shown}'s source clip was deleted."


def share_password_ok(link: ShareLink, password: str) -> bool:
    if not link.password_hash:
        return True
    # No stored password is longer, so a longer guess is wrong without hashing it.
    return len(password) <= ShareLink.PASSWORD_MAX and check_password(password, link.password_hash)


def share_viewed(link: ShareLink) -> None:
    ShareLink.objects.filter(pk=link.pk).update(views=link.views + 1, last_viewed_at=timezone.now())


def share_revoke(*, link: ShareLink, actor: User) -> None:
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        project = link.project
        render = link.render
        what = f"{render.cut.name} v{render.number}" if render else "a take"
        activity_log(
            team=project.team,
            actor=actor,
            verb="revoked",
            summary=f"revoked a share link of {what} in {project.name}",
            project=project,
            take=link.take,
            render=link.render,
        )


def share_links_live(*conditions: Q, **lookup: Any) -> QuerySet[ShareLink]:
    """Links that still open (neither revoked nor expired), newest first, with their takes
    and renders."""
    return (
        ShareLink.objects.filter(*conditions, revoked_at__isnull=True, **lookup)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .select_related("take__project", "render__cut__project", "render__cut__clip", "created_by")
        .order_by("-created_at")
    )


def _of_team(team: Team) -> Q:
    return Q(take__project__team=team) | Q(render__cut__project__team=team)


def share_links_of_member(*, team: Team, user: User) -> QuerySet[ShareLink]:
    """The live links that `user` made of this team's takes and renders."""
    return share_links_live(_of_team(team), created_by=user)


def share_links_of_former_members(*, team: Team) -> QuerySet[ShareLink]:
    """Live links of this team's takes and renders made by people no longer in it (or deleted
    accounts)."""
    members = team.memberships.values("user_id")
    return share_links_live(_of_team(team)).exclude(created_by__in=members)


def share_links_revoke(*, links: QuerySet[ShareLink]) -> int:
    """Revoke every link of `links` that is still live; how many were. The caller records it."""
    return links.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
