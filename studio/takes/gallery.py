"""The team's gallery of takes and cuts' renders (filters, search, sort orders, keyset pages),
stars, descriptions and side-by-side exports (docs/review.md)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Collate, Lower
from django.utils import timezone

from accounts.models import Team, User
from studio.models import CutRender, RenderState, ReviewStatus, Take, TakeStar, TakeState

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
    sort: str = "newest"  # a key of SORTS


# Each sort order: its label and its keys, most significant first, as (annotation, newest
# first?). Every order ends with the entry's time, then its kind and id in that time's
# direction, so no two entries tie and a cursor names one place. Takes and renders get the same
# annotations (sort_*), so one page merges both and its cursor filters both.
SORTS: dict[str, tuple[str, list[tuple[str, bool]]]] = {
    "newest": ("Newest first", [("created_at", True)]),
    "oldest": ("Oldest first", [("created_at", False)]),
    "clip": ("Clip name (A to Z)", [("sort_clip", False), ("created_at", True)]),
    "version": ("Version (highest first)", [("sort_version", True), ("created_at", True)]),
    "review": ("Review status", [("sort_review", False), ("created_at", True)]),
    "starred": ("My favourites first", [("sort_star", True), ("created_at", True)]),
}
SORT_CHOICES = [(key, label) for key, (label, _) in SORTS.items()]
# Review status in the order a reviewer works through it: what waits for a look first.
REVIEW_ORDER = [
    ReviewStatus.NEEDS_REVIEW,
    ReviewStatus.CHANGES_REQUESTED,
    ReviewStatus.APPROVED,
    ReviewStatus.NONE,
]

# At equal sort keys a render comes before a take in a newest-first order (as it always did)
# and after it in an oldest-first one.
TAKE, RENDER = 0, 1

Cursor = tuple[list[Any], int, int]  # the sort keys' values, the kind and the id of an entry


def gallery(
    *, team: Team, user: User, filters: GalleryFilters, before: str = ""
) -> tuple[list[Take | CutRender], str]:
    """One page of the team's takes and ready renders of its cuts in the chosen order, and the
    cursor of the next page.

    Keyset pagination on the order's keys, then kind and id: every page costs the same number
    of queries, page 1 or page 400, whatever the order.
    """
    sort = filters.sort if filters.sort in SORTS else "newest"
    keys = SORTS[sort][1]
    cursor = _parse_cursor(before, sort)
    takes = _takes(team=team, user=user, filters=filters, keys=keys, cursor=cursor)
    renders = _renders(team=team, filters=filters, keys=keys, cursor=cursor)
    found: list[Take | CutRender] = _sorted(
        [*takes[: PAGE_SIZE + 1], *renders[: PAGE_SIZE + 1]], keys
    )
    more = len(found) > PAGE_SIZE
    page = found[:PAGE_SIZE]
    nxt = gallery_cursor(page[-1], sort) if more and page else ""
    return page, nxt


def _kind(entry: Take | CutRender) -> int:
    return RENDER if isinstance(entry, CutRender) else TAKE


def _sorted(entries: list[Take | CutRender], keys: list[tuple[str, bool]]) -> list[Any]:
    """The entries in the order's sequence, compared on the values the database computed (so
    text compares as the database compared it). Python's sort is stable: sorting by the least
    significant key first gives each key its own direction."""
    last = keys[-1][1]
    entries = sorted(entries, key=lambda e: (_kind(e), e.pk), reverse=last)
    for name, newest in reversed(keys):
        entries.sort(key=attrgetter(name), reverse=newest)
    return entries


def _annotated[M: (Take, CutRender)](
    rows: QuerySet[M], *, clip: str, version: str, star: Any
) -> QuerySet[M]:
    # Clip names compare lower-cased and code point by code point on both databases (SQLite's
    # BINARY, PostgreSQL's "C"), as Python compares the strings when a page merges both kinds.
    binary = "C" if connection.vendor == "postgresql" else "BINARY"
    return rows.annotate(
        sort_clip=Collate(Lower(Coalesce(F(clip), Value(""))), binary),
        sort_version=F(version),
        sort_review=Case(
            *(When(review_status=status, then=Value(n)) for n, status in enumerate(REVIEW_ORDER)),
            default=Value(len(REVIEW_ORDER)),
            output_field=IntegerField(),
        ),
        sort_star=star,
    )


def _ordered[M: (Take, CutRender)](
    rows: QuerySet[M], keys: list[tuple[str, bool]], cursor: Cursor | None, kind: int
) -> QuerySet[M]:
    last = keys[-1][1]
    rows = rows.order_by(
        *(f"-{name}" if newest else name for name, newest in keys), "-id" if last else "id"
    )
    return rows.filter(_after(keys, cursor, kind)) if cursor else rows


def _after(keys: list[tuple[str, bool]], cursor: Cursor, kind: int) -> Q:
    """The rows of this kind that come after the cursor's entry in the order."""
    values, at_kind, at_pk = cursor
    where = Q(pk__in=[])
    equal = Q()
    for (name, newest), value in zip(keys, values, strict=True):
        where |= equal & Q(**{f"{name}__{'lt' if newest else 'gt'}": value})
        equal &= Q(**{name: value})
    newest = keys[-1][1]
    if kind == at_kind:
        where |= equal & Q(**{f"pk__{'lt' if newest else 'gt'}": at_pk})
    elif (kind < at_kind) == newest:  # this kind comes after the cursor's at equal keys
        where |= equal
    return where


def _takes(
    *,
    team: Team,
    user: User,
    filters: GalleryFilters,
    keys: list[tuple[str, bool]],
    cursor: Cursor | None,
) -> QuerySet[Take]:
    mine = Exists(TakeStar.objects.filter(take=OuterRef("pk"), user=user))
    takes: QuerySet[Take] = (
        Take.objects.kept()
        .filter(project__team=team)
        .select_related("project", "clip", "created_by")
        .annotate(starred=mine)
    )
    takes = _annotated(
        takes,
        clip="clip__original_name",
        version="version",
        star=Case(When(mine, then=Value(1)), default=Value(0), output_field=IntegerField()),
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
    return _ordered(takes, keys, cursor, TAKE)


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
    *,
    team: Team,
    filters: GalleryFilters,
    keys: list[tuple[str, bool]],
    cursor: Cursor | None,
) -> QuerySet[CutRender]:
    """The ready renders of the team's cuts that the filters let through: a render has no
    take's state (it shows under "Succeeded" too), resolution or star."""
    renders = CutRender.objects.filter(
        cut__project__team=team, cut__clip__trashed_at__isnull=True, state=RenderState.READY
    ).select_related("cut__project", "cut__clip", "created_by")
    if filters.resolution or filters.starred or filters.state not in ("", TakeState.SUCCEEDED):
        return renders.none()
    renders = _annotated(renders, clip="cut__clip__original_name", version="number", star=Value(0))
    renders = renders.filter(_shared_filters(filters, project="cut__project__code"))
    if filters.q:
        renders = renders.filter(
            Q(cut__name__icontains=filters.q) | Q(cut__clip__original_name__icontains=filters.q)
        )
    return _ordered(renders, keys, cursor, RENDER)


def gallery_cursor(entry: Take | CutRender, sort: str = "newest") -> str:
    """The entry's place in the order, as an opaque token for the next page's link (the
    entry carries the order's sort_* annotations, except for the orders by time)."""
    values = [getattr(entry, name) for name, _ in SORTS[sort][1]]
    shown = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps([sort, shown, _kind(entry), entry.pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _parse_cursor(value: str, sort: str) -> Cursor | None:
    """The cursor's values, or None for anything that is not a cursor of this order (a page
    link from another order starts again at the first page)."""
    if not value:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        made_for, shown, kind, pk = json.loads(raw)
        if made_for != sort or kind not in (TAKE, RENDER) or not isinstance(pk, int):
            return None
        if len(shown) != len(SORTS[sort][1]):
            return None
        *rest, at = shown
        stamp = datetime.fromisoformat(at)
    except (binascii.Error, ValueError, TypeError):
        return None
    if not timezone.is_aware(stamp) or not all(isinstance(v, (int, str)) for v in rest):
        return None
    return ([*rest, stamp], kind, pk)


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
    from studio.provenance.signing import sign_or_keep
    from studio.storage.files import local_copy, scratch_dir, store_path
    from studio.takes.credentials import take_manifest_for

    take = Take.objects.select_related("project__team", "input_clip").get(pk=take_id)
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
            side_by_side(before, after, tmp / "side-by-side.mp4", ai_label=take.needs_ai_label)
            # Signed after encoding, before storing; stored unsigned with the reason on failure.
            signed = sign_or_keep(
                source=tmp / "side-by-side.mp4",
                scratch=tmp,
                manifest=lambda: take_manifest_for(take, title=f"{take.download_stem}-sbs.mp4"),
            )
            if take.export_file.storage.exists(name):
                take.export_file.storage.delete(name)
            store_path(take.export_file, name, signed.path)
    except Exception as error:
        reason = export_failure(error)
        Take.objects.filter(pk=take.pk).update(export_state="failed", export_reason=reason)
        raise
    Take.objects.filter(pk=take.pk).update(
        export_state="ready",
        export_file=take.export_file.name,
        export_credentials_reason=signed.error[:2000],
        export_labelled=take.needs_ai_label,
    )


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
