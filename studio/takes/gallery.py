"""The team's gallery of takes (filters, search, keyset pages), stars, descriptions and side-by-side
exports (docs/review.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import Team, User
from studio.models import Take, TakeStar

PAGE_SIZE = 24


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
