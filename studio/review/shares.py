"""Share links: made, found, checked, viewed and revoked (docs/review.md "Share links")."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Team, User
from studio.core.sealing import seal, unseal
from studio.models import CutRender, ShareLink, Take
from studio.projects.history import activity_log

SEAL_PURPOSE = "share-link-token"


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
    """A link to a take or a cut's render. Returns the link and its token: the token is found
    by its hash and kept sealed, for `share_token` to give back to those who may see it."""
    if password and not ShareLink.PASSWORD_MIN <= len(password) <= ShareLink.PASSWORD_MAX:
        raise ValueError("A share link password has 8 to 200 characters.")  # forms check first
    return _share_make(
        take=take,
        render=render,
        author=author,
        lifetime=timedelta(days=days) if days else None,
        allow_download=allow_download,
        show_prompt=show_prompt,
        password_hash=make_password(password) if password else "",
        allow_comments=allow_comments,
    )


def _share_make(
    *,
    take: Take | None,
    render: CutRender | None,
    author: User,
    lifetime: timedelta | None,
    allow_download: bool,
    show_prompt: bool,
    password_hash: str,
    allow_comments: bool,
) -> tuple[ShareLink, str]:
    if (take is None) == (render is None):
        raise ValueError("a share link is to a take or to a render")
    token = secrets.token_urlsafe(32)
    link = ShareLink.objects.create(
        take=take,
        render=render,
        token_hash=token_digest(token),
        token_sealed=seal(token, purpose=SEAL_PURPOSE),
        created_by=author,
        expires_at=timezone.now() + lifetime if lifetime else None,
        allow_download=allow_download,
        show_prompt=show_prompt,
        allow_comments=allow_comments,
        password_hash=password_hash,
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


def share_token(link: ShareLink) -> str | None:
    """The link's token, or None: made before tokens were kept, or sealed under a SECRET_KEY
    this server no longer has. It is the token only if it still hashes to the link's."""
    token = unseal(link.token_sealed, purpose=SEAL_PURPOSE)
    return token if token and token_digest(token) == link.token_hash else None


def share_may_see(link: ShareLink, *, user: User, membership: Membership) -> bool:
    """Who may see (and copy) a link's address: the editor who made it and the team's owners.
    Other editors may still revoke it, as before; viewers see no share links at all."""
    return membership.can_edit and (membership.is_owner or link.created_by_id == user.pk)


def share_renew(*, link: ShareLink, actor: User) -> tuple[ShareLink, str]:
    """A new link like `link` (the same take or render, expiry length, password, download,
    prompt and comment settings) in its place: `link` stops working at once."""
    lifetime = link.expires_at - link.created_at if link.expires_at else None
    with transaction.atomic():
        share_revoke(link=link, actor=actor)
        return _share_make(
            take=link.take,
            render=link.render,
            author=actor,
            lifetime=lifetime,
            allow_download=link.allow_download,
            show_prompt=link.show_prompt,
            password_hash=link.password_hash,
            allow_comments=link.allow_comments,
        )


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


# -- the share card ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ShareRow:
    """One link in a take's or a render's Share card, as the person looking may see it."""

    link: ShareLink
    url: str  # its address, for those who may see it and when it can be shown; else ""
    may_see: bool
    # Why a live link the person may see cannot be shown: "before" (made before links were
    # kept), "key" (sealed under an earlier SECRET_KEY), or "".
    unshown: str
    new: bool  # just made (or made again): the card points it out


def share_rows(
    request: HttpRequest, links: list[ShareLink], *, membership: Membership, new_code: str
) -> list[ShareRow]:
    user = cast(User, request.user)
    rows = []
    for link in links:
        may_see = share_may_see(link, user=user, membership=membership)
        token = share_token(link) if may_see and link.is_live else None
        url = request.build_absolute_uri(reverse("share_page", args=[token])) if token else ""
        unshown = ""
        if may_see and link.is_live and not token:
            unshown = "key" if link.token_sealed else "before"
        rows.append(ShareRow(link, url, may_see, unshown, new=link.code == new_code))
    return rows
