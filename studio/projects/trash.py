"""A team's trash: what it holds, emptying it, and the sweep that removes for good what is due.

Nothing is removed in a web request: "Delete for good" and "Empty trash" make items due, and
the minute sweep (studio.tasks.sweep) removes their files and rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Team, User
from studio.core.errors import Refused
from studio.library.trash import clip_may_restore, clip_purge
from studio.models import Clip, Take
from studio.projects.history import activity_log
from studio.takes.trash import take_label, take_may_restore, take_purge

log = logging.getLogger(__name__)
SWEEP_BATCH = 50  # items removed per pass; the next minute's pass takes the rest


@dataclass(frozen=True)
class TrashItem:
    kind: str  # "clip" or "take"
    code: str
    name: str
    project_name: str
    trashed_at: datetime
    trashed_by: User | None
    purge_after: datetime
    takes: int  # a clip's takes that went with it
    may_restore: bool
    clip_trashed: bool  # a take whose clip is in the trash too: restored with the clip


def trash_items(*, team: Team, membership: Membership) -> list[TrashItem]:
    """The team's trash, newest first: clips (with how many takes went with each), and takes
    deleted on their own."""
    user = membership.user
    clips = Clip.objects.in_trash().filter(project__team=team).select_related("project")
    clips = clips.select_related("trashed_by")
    takes = (
        Take.objects.in_trash()
        .filter(project__team=team, trashed_with_clip=False)
        .select_related("project", "trashed_by", "clip")
    )
    with_clip = dict.fromkeys((c.pk for c in clips), 0)
    for clip_id in (
        Take.objects.in_trash()
        .filter(clip_id__in=with_clip, trashed_with_clip=True)
        .values_list("clip_id", flat=True)
    ):
        with_clip[clip_id] += 1
    items = [
        TrashItem(
            "clip",
            c.code,
            c.original_name,
            c.project.name,
            c.trashed_at,
            c.trashed_by,
            c.purge_after,
            with_clip[c.pk],
            clip_may_restore(c, user, membership),
            False,
        )
        for c in clips
        if c.trashed_at and c.purge_after
    ]
    items += [
        TrashItem(
            "take",
            t.code,
            take_label(t),
            t.project.name,
            t.trashed_at,
            t.trashed_by,
            t.purge_after,
            0,
            take_may_restore(t, user, membership),
            bool(t.clip and t.clip.is_trashed),
        )
        for t in takes
        if t.trashed_at and t.purge_after
    ]
    return sorted(items, key=lambda item: item.trashed_at, reverse=True)


def trash_empty(*, team: Team, by: User, membership: Membership) -> int:
    """Owners only: make everything in the team's trash due; the sweep removes it. How many."""
    if not membership.is_owner:
        raise Refused("Only the team's owners can empty the trash.")
    now = timezone.now()
    with transaction.atomic():
        clips = Clip.objects.in_trash().filter(project__team=team).update(purge_after=now)
        takes = Take.objects.in_trash().filter(project__team=team).update(purge_after=now)
        if clips or takes:
            activity_log(
                team=team,
                actor=by,
                verb="emptied",
                summary=f"emptied the trash: {_count(clips, 'clip')} and {_count(takes, 'take')} "
                "deleted for good",
            )
    return clips + takes


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def trash_sweep(now: datetime | None = None) -> int:
    """Remove for good what is due (expired, or emptied): files first, then rows. How many.

    Idempotent and crash-safe: an item is looked up again each pass, a file already removed
    is skipped, and one item that fails is logged and left for the next pass."""
    now = now or timezone.now()
    removed = 0
    for take in Take.objects.due(now).filter(trashed_with_clip=False)[:SWEEP_BATCH]:
        removed += _purge(take_purge, take)
    for clip in Clip.objects.due(now).select_related("project")[:SWEEP_BATCH]:
        removed += _purge(clip_purge, clip)
    if removed:
        log.info("trash sweep removed %d item(s) for good", removed)
    return removed


def _purge[M: (Clip, Take)](purge: Callable[[M], object], item: M) -> int:
    try:
        done = purge(item)
    except Exception:
        log.exception("removing %s %s from the trash failed; next pass", type(item), item.pk)
        return 0
    return 0 if done is False else 1
