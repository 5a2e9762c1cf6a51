"""Clips in the team trash: what deleting one affects, moving it (with its takes) to the trash,
bringing it back, and removing it for good in the sweep (studio.projects.trash)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from accounts.models import Membership, User
from studio.core.errors import Refused
from studio.library import processing as media
from studio.models import Clip, Comment, CutRender, MediaState, RenderState, ShareLink
from studio.projects.history import activity_log
from studio.storage.files import delete_files
from studio.takes.trash import RESTORE_WHO, active_problem, take_purge


@dataclass(frozen=True)
class ClipImpact:
    """What deleting a clip takes away with it, for the confirmation dialog."""

    takes: int
    comments: int
    share_links: int
    cuts: int
    renders: int


def clip_impact(clip: Clip) -> ClipImpact:
    takes = clip.takes.kept()
    subjects = Q(clip=clip) | Q(take__in=takes) | Q(render__cut__clip=clip)
    live_links = ShareLink.objects.filter(revoked_at__isnull=True).filter(
        Q(take__in=takes) | Q(render__cut__clip=clip)
    )
    return ClipImpact(
        takes=takes.count(),
        comments=Comment.objects.filter(subjects).count(),
        share_links=sum(1 for link in live_links if link.is_live),
        cuts=clip.cuts.count(),
        renders=CutRender.objects.filter(cut__clip=clip).count(),
    )


def clip_trash(clip: Clip, by: User) -> None:
    """Move a clip and its takes to the team's trash; its takes come back with it. Refused while
    one of its takes is still being made (cancel it first)."""
    membership = Membership.objects.filter(team_id=clip.project.team_id, user=by).first()
    if membership is None or not membership.can_edit:
        raise Refused("Only the team's editors and owners can delete its clips.")
    if clip.is_trashed:
        return
    takes = list(clip.takes.kept())
    if problem := active_problem(takes):
        raise Refused(problem)
    with transaction.atomic():
        if not clip.trash(by):
            return
        for take in takes:
            take.trash(by, trashed_with_clip=True)
        activity_log(
            team=clip.project.team,
            actor=by,
            verb="trashed",
            summary=f"moved {clip.original_name} and its {len(takes)} take"
            f"{'' if len(takes) == 1 else 's'} to the trash",
            project=clip.project,
        )


def clip_dismiss(clip: Clip, by: User) -> bool:
    """Remove an upload that never became a usable clip (rejected, or failed to prepare) at
    once: it keeps only its row and the reason, so there is nothing to restore and the trash
    would only hide it for 30 days. False for any other clip (it goes to the trash)."""
    membership = Membership.objects.filter(team_id=clip.project.team_id, user=by).first()
    if membership is None or not membership.can_edit:
        raise Refused("Only the team's editors and owners can delete its clips.")
    if clip.state not in (MediaState.REJECTED, MediaState.FAILED) or clip.takes.exists():
        return False
    return clip_purge(clip)


def clip_may_restore(clip: Clip, user: User, membership: Membership) -> bool:
    return membership.is_owner or (membership.can_edit and clip.trashed_by_id == user.pk)


def clip_restore(*, clip: Clip, by: User, membership: Membership) -> int:
    """Bring a clip back with the takes that went to the trash with it; how many takes."""
    if not clip_may_restore(clip, by, membership):
        raise Refused(RESTORE_WHO)
    with transaction.atomic():
        if not clip.restore():
            raise Refused("This clip is no longer in the trash.")
        takes = list(clip.takes.in_trash().filter(trashed_with_clip=True))
        for take in takes:
            take.restore(trashed_with_clip=False)
        activity_log(
            team=clip.project.team,
            actor=by,
            verb="restored",
            summary=f"restored {clip.original_name} from the trash",
            project=clip.project,
        )
    return len(takes)


def clip_delete_for_good(*, clip: Clip, by: User, membership: Membership) -> None:
    """Owners only: the sweep removes the clip and its trashed takes at its next pass."""
    if not membership.is_owner:
        raise Refused("Only the team's owners can delete clips for good.")
    with transaction.atomic():
        if not clip.purge_now():
            raise Refused("This clip is no longer in the trash.")
        for take in clip.takes.in_trash():
            take.purge_now()
        activity_log(
            team=clip.project.team,
            actor=by,
            verb="deleted",
            summary=f"deleted {clip.original_name} for good",
            project=clip.project,
        )


def clip_purge(clip: Clip) -> bool:
    """Remove a clip that is due, with its takes, cuts, renders and provider inputs: files
    first, then rows. False (try again at the next pass) while one of its cuts is rendering.

    Safe after a crash at any point: files already removed are skipped, and the rows go once
    their files are gone. Its takes go first: a take kept bare for its charge keeps no clip."""
    if CutRender.objects.filter(
        cut__clip=clip, state__in=(RenderState.QUEUED, RenderState.RENDERING)
    ).exists():
        return False
    for take in clip.takes.all():
        take_purge(take)
    inputs = list(clip.inputs.all())
    made = [f for render in CutRender.objects.filter(cut__clip=clip) for f in render.files()]
    delete_files(*media.files_of(clip), *(item.file for item in inputs), *made)
    clip.delete()
    return True
