"""The team's gallery of takes and cuts' renders (filters, search, keyset pages), stars,
descriptions and side-by-side exports (docs/review.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import Team, User
from studio.models import CutRender, RenderState, Take, TakeStar, TakeState

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


# A page is ordered by (created_at, kind, id), newest first; at the same moment a render comes
# before a take. A cursor names the last entry: "<created_at>_<id>" for a take (as before
# renders were in the gallery), "<created_at>_r<id>" for a render.
TAKE, RENDER = 0, 1


def gallery(
    *, team: Team, user: User, filters: GalleryFilters, before: str = ""
) -> tuple[list[Take | CutRender], str]:
    """One page of the team's takes and ready renders of its cuts, newest first, and the
    cursor of the next page.

    Keyset pagination on (created_at, kind, id): every page costs the same, page 1 or page 400.
    """
    cursor = _parse_cursor(before)
    takes = _takes(team=team, user=user, filters=filters, cursor=cursor)
    renders = _renders(team=team, filters=filters, cursor=cursor)
    found: list[Take | CutRender] = [*takes[: PAGE_SIZE + 1], *renders[: PAGE_SIZE + 1]]
    found.sort(key=_key, reverse=True)
    more = len(found) > PAGE_SIZE
    page = found[:PAGE_SIZE]
    nxt = ""
    if more and page:
        last = page[-1]
        marker = "r" if isinstance(last, CutRender) else ""
        nxt = f"{last.created_at.isoformat()}_{marker}{last.pk}"
    return page, nxt


def _key(entry: Take | CutRender) -> tuple[datetime, int, int]:
    return (entry.created_at, RENDER if isinstance(entry, CutRender) else TAKE, entry.pk)


def _takes(
    *,
    team: Team,
    user: User,
    filters: GalleryFilters,
    cursor: tuple[datetime, int, int] | None,
) -> QuerySet[Take]:
    takes: QuerySet[Take] = (
        Take.objects.filter(project__team=team)
        .select_related("project", "clip", "created_by")
        .annotate(starred=Exists(TakeStar.objects.filter(take=OuterRef("pk"), user=user)))
        .order_by("-created_at", "-id")
    )
    takes = takes.filter(_shared_filters(filters, project="project__code"))
    if filters.state:
        takes = takes.filter(state=filters.state)
    if filters.resolution:
        takes = takes.filter(resolution=filters.resolution)
    if filters.starred:
        takes = takes.filter(stars__user=user)
    if filters.q:
        takes = takes.filter(
            Q(prompt__icontains=filters.q)
            | Q(title__icontains=filters.q)
            | Q(negative_prompt__icontains=filters.q)
        )
    if cursor:
        at, kind, pk = cursor
        same = Q(created_at=at) if kind == RENDER else Q(created_at=at, id__lt=pk)
        takes = takes.filter(Q(created_at__lt=at) | same)
    return takes


def _shared_filters(filters: GalleryFilters, *, project: str) -> Q:
    """The filters takes and renders both have (project, member, review status, dates); `project`
    is the lookup of the project's code from the row."""
    where = Q()
    if filters.project:
        where &= Q(**{project: filters.project})
    if filters.member:
        where &= Q(created_by__email__iexact=filters.member)
    if filters.review:
        where &= Q(review_status=filters.review)
    if filters.since:
        where &= Q(created_at__date__gte=filters.since)
    if filters.until:
        where &= Q(created_at__date__lte=filters.until)
    return where


def _renders(
    *, team: Team, filters: GalleryFilters, cursor: tuple[datetime, int, int] | None
) -> QuerySet[CutRender]:
    """The ready renders of the team's cuts that the filters let through: a render has no
    take's state (it shows under "Succeeded" too), resolution or star."""
    renders = (
        CutRender.objects.filter(cut__project__team=team, state=RenderState.READY)
        .select_related("cut__project", "cut__clip", "created_by")
        .order_by("-created_at", "-id")
    )
    if filters.resolution or filters.starred or filters.state not in ("", TakeState.SUCCEEDED):
        return renders.none()
    renders = renders.filter(_shared_filters(filters, project="cut__project__code"))
    if filters.q:
        renders = renders.filter(
            Q(cut__name__icontains=filters.q) | Q(cut__clip__original_name__icontains=filters.q)
        )
    if cursor:
        at, kind, pk = cursor
        same = Q(created_at=at, id__lt=pk) if kind == RENDER else Q(pk__in=[])
        renders = renders.filter(Q(created_at__lt=at) | same)
    return renders


def _parse_cursor(value: str) -> tuple[datetime, int, int] | None:
    stamp, _, pk = value.rpartition("_")
    kind = RENDER if pk.startswith("r") else TAKE
    try:
        at = datetime.fromisoformat(stamp)
        return (at, kind, int(pk.removeprefix("r"))) if timezone.is_aware(at) else None
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
    Take.objects.filter(pk=take.pk).update(export_state="working", export_reason="")
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
    if take.export_state != "working":
        return
    if not take.input_clip or not take.result:
        # Left "working", the page would wait for it forever.
        reason = "the part of the clip this take was made from, or its result, is gone."
        Take.objects.filter(pk=take.pk).update(export_state="failed", export_reason=reason)
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
    except Exception as error:
        reason = export_failure(error)
        Take.objects.filter(pk=take.pk).update(export_state="failed", export_reason=reason)
        raise
    Take.objects.filter(pk=take.pk).update(export_state="ready", export_file=take.export_file.name)


def export_failure(error: BaseException) -> str:
    """Why an export failed, in words for the take page (the error itself goes to the log)."""
    import errno

    import av

    if isinstance(error, av.FFmpegError):
        return (
            "a video could not be decoded or encoded. Try again; if it fails again, tell an "
            "administrator."
        )
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the server's disk is full. Free space (or ask an administrator to), then try again."
    if isinstance(error, OSError):
        why = error.strerror or type(error).__name__
        return f"a file could not be read or written ({why}). Try again."
    return "something unexpected went wrong (it was logged). Try again."
