"""The team's history: the take gallery, favourites, share links and the activity feed."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import check_password, make_password
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import Team, User
from studio.models import Activity, Project, ShareLink, Take, TakeStar

PAGE_SIZE = 24


def activity_log(
    *,
    team: Team,
    actor: User | None,
    verb: str,
    summary: str,
    project: Project | None = None,
    take: Take | None = None,
) -> Activity:
    return Activity.objects.create(
        team=team, actor=actor, verb=verb, summary=summary[:300], project=project, take=take
    )


@dataclass
class GalleryFilters:
    project: str = ""
    member: str = ""
    state: str = ""
    review: str = ""  # a ReviewStatus value
    resolution: str = ""
    since: date | None = None
    until: date | None = None
    starred: bool = False
    q: str = ""


def gallery(
    *, team: Team, user: User, filters: GalleryFilters, before: str = ""
) -> tuple[list[Take], str]:
    """One page of the team's takes, newest first, and the cursor of the next page.

    Keyset pagination on (created_at, id): every page costs the same, page 1 or page 400.
    """
    takes: QuerySet[Take] = (
        Take.objects.filter(project__team=team)
        .select_related("project", "clip", "created_by")
        .annotate(starred=Exists(TakeStar.objects.filter(take=OuterRef("pk"), user=user)))
        .order_by("-created_at", "-id")
    )
    if filters.project:
        takes = takes.filter(project__code=filters.project)
    if filters.member:
        takes = takes.filter(created_by__email__iexact=filters.member)
    if filters.state:
        takes = takes.filter(state=filters.state)
    if filters.review:
        takes = takes.filter(review_status=filters.review)
    if filters.resolution:
        takes = takes.filter(resolution=filters.resolution)
    if filters.since:
        takes = takes.filter(created_at__date__gte=filters.since)
    if filters.until:
        takes = takes.filter(created_at__date__lte=filters.until)
    if filters.starred:
        takes = takes.filter(stars__user=user)
    if filters.q:
        takes = takes.filter(
            Q(prompt__icontains=filters.q)
            | Q(title__icontains=filters.q)
            | Q(negative_prompt__icontains=filters.q)
        )
    cursor = _parse_cursor(before)
    if cursor:
        at, pk = cursor
        takes = takes.filter(Q(created_at__lt=at) | Q(created_at=at, id__lt=pk))
    page = list(takes[: PAGE_SIZE + 1])
    more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    nxt = f"{page[-1].created_at.isoformat()}_{page[-1].pk}" if more and page else ""
    return page, nxt


def _parse_cursor(value: str) -> tuple[datetime, int] | None:
    stamp, _, pk = value.rpartition("_")
    try:
        at = datetime.fromisoformat(stamp)
        return (at, int(pk)) if timezone.is_aware(at) else None
    except ValueError:
        return None


def take_star(*, take: Take, user: User, starred: bool | None = None) -> bool:
    """Star or unstar the take for this person (toggle when `starred` is None).

    Returns True when the take is now starred. Saying which state is wanted makes a repeated
    request (a double click, a resent form) land where the person meant instead of flipping back.
    """
    if starred is None:
        deleted, _ = TakeStar.objects.filter(take=take, user=user).delete()
        starred = not deleted
    if starred:
        TakeStar.objects.get_or_create(take=take, user=user)
    else:
        TakeStar.objects.filter(take=take, user=user).delete()
    return starred


def take_describe(*, take: Take, title: str, notes: str) -> Take:
    take.title, take.notes = title.strip(), notes.strip()
    take.save(update_fields=["title", "notes"])
    return take


# -- share links ----------------------------------------------------------------------------
def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def share_create(
    *,
    take: Take,
    author: User,
    days: int | None,
    allow_download: bool,
    show_prompt: bool,
    password: str = "",
    allow_comments: bool = False,
) -> tuple[ShareLink, str]:
    """Returns the link and its token; the token is not stored and cannot be shown again."""
    if password and not ShareLink.PASSWORD_MIN <= len(password) <= ShareLink.PASSWORD_MAX:
        raise ValueError("A share link password has 8 to 200 characters.")  # forms check first
    token = secrets.token_urlsafe(32)
    link = ShareLink.objects.create(
        take=take,
        token_hash=token_digest(token),
        created_by=author,
        expires_at=timezone.now() + timedelta(days=days) if days else None,
        allow_download=allow_download,
        show_prompt=show_prompt,
        allow_comments=allow_comments,
        password_hash=make_password(password) if password else "",
    )
    activity_log(
        team=take.project.team,
        actor=author,
        verb="shared",
        summary=f"shared a take of {take.project.name}"
        + (" for review (guests may comment)" if allow_comments else ""),
        project=take.project,
        take=take,
    )
    return link, token


def share_find(token: str) -> ShareLink | None:
    """The live link for a token, or None for unknown, expired and revoked alike."""
    if not token or len(token) > 100:
        return None
    link = (
        ShareLink.objects.select_related("take__project__team", "take__clip", "take__input_clip")
        .filter(token_hash=token_digest(token))
        .first()
    )
    return link if link is not None and link.is_live else None


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
        activity_log(
            team=link.take.project.team,
            actor=actor,
            verb="revoked",
            summary=f"revoked a share link of a take in {link.take.project.name}",
            project=link.take.project,
            take=link.take,
        )


def share_links_live(**lookup: Any) -> QuerySet[ShareLink]:
    """Links that still open (neither revoked nor expired), newest first, with their takes."""
    return (
        ShareLink.objects.filter(revoked_at__isnull=True, **lookup)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .select_related("take__project", "created_by")
        .order_by("-created_at")
    )


def share_links_of_member(*, team: Team, user: User) -> QuerySet[ShareLink]:
    """The live links that `user` made of this team's takes."""
    return share_links_live(take__project__team=team, created_by=user)


def share_links_of_former_members(*, team: Team) -> QuerySet[ShareLink]:
    """Live links of this team's takes made by people no longer in it (or deleted accounts)."""
    members = team.memberships.values("user_id")
    return share_links_live(take__project__team=team).exclude(created_by__in=members)


def share_links_revoke(*, links: QuerySet[ShareLink]) -> int:
    """Revoke every link of `links` that is still live; how many were. The caller records it."""
    return links.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def take_export_request(*, take: Take) -> bool:
    """Queue the side-by-side export; False if one is already being made."""
    from django.db import transaction
    from django_q.tasks import async_task

    if take.state != "succeeded" or take.export_state == "working":
        return False
    Take.objects.filter(pk=take.pk).update(export_state="working")
    pk = take.pk
    transaction.on_commit(
        lambda: async_task("studio.tasks.export_take", pk, task_name=f"export:{pk}")
    )
    return True


def take_export(*, take_id: int) -> None:
    """Render the before/after MP4 in the worker (safe to run twice)."""
    from studio.media.export import side_by_side
    from studio.storage.files import local_copy, scratch_dir, store_path

    take = Take.objects.select_related("project", "input_clip").get(pk=take_id)
    if take.export_state != "working" or not take.input_clip or not take.result:
        return
    name = f"takes/{take.project.code}/{take.code}/side-by-side.mp4"
    try:
        with (
            local_copy(take.input_clip.file) as before,
            local_copy(take.result) as after,
            scratch_dir() as tmp,
        ):
            side_by_side(before, after, tmp / "side-by-side.mp4")
            if take.export_file.storage.exists(name):
                take.export_file.storage.delete(name)
            store_path(take.export_file, name, tmp / "side-by-side.mp4")
    except Exception:
        Take.objects.filter(pk=take.pk).update(export_state="failed")
        raise
    Take.objects.filter(pk=take.pk).update(export_state="ready", export_file=take.export_file.name)
