"""Takes in the team trash: move one (or several) there, bring one back, remove it for good.

A trashed take leaves every list, count and search at once, and its share links stop
(studio.review.shares.share_find). The sweep removes it for good TRASH_KEEP later, or at its
next pass once someone empties the trash (studio.projects.trash). Budgets and usage never
change: a take's charge stays on its row, and the row of a take that cost money is kept, bare,
when its files are removed.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from accounts.models import Membership, User
from studio.core.errors import Refused
from studio.models import CutWindow
from studio.projects.history import activity_log
from studio.storage.files import delete_files
from studio.takes.models import Take

NOT_A_MEMBER = "Only the team's editors and owners can delete its takes."
RESTORE_WHO = "Only the team's owners and the person who deleted it can restore it."


def take_label(take: Take) -> str:
    """How the trash and its messages name a take: its version and its title or prompt."""
    name = (take.title or take.prompt)[:60]
    return f"{take.version_label} “{name}”" if take.version_label else f"“{name}”"


def active_problem(takes: Iterable[Take]) -> str:
    """Why these takes cannot go to the trash now ('' when they can): a take still being made
    would store files and bill after it was deleted, so it must be canceled first."""
    active = [take for take in takes if take.is_active]
    if not active:
        return ""
    if len(active) == 1:
        take = active[0]
        return (
            f"The take {take_label(take)} is still being made "
            f"({take.get_state_display().lower()}): cancel it first, then delete it."
        )
    return (
        f"{len(active)} takes are still being made: cancel them first (or wait until they "
        "finish), then delete."
    )


def _membership(take: Take, by: User) -> Membership | None:
    return Membership.objects.filter(team_id=take.project.team_id, user=by).first()


def take_impact(take: Take) -> dict[str, int]:
    """What deleting a take takes away with it, for the confirmation dialog."""
    live = [link for link in take.share_links.filter(revoked_at__isnull=True) if link.is_live]
    return {
        "comments": take.comments.count(),
        "share_links": len(live),
        "cuts": CutWindow.objects.filter(chosen=take).values("cut").distinct().count(),
    }


def take_trash(take: Take, by: User) -> None:
    """Move one take to its team's trash. Refused (with the reason) for a person who may not
    edit the team's takes, and for a take still being made. A take already there stays."""
    takes_trash([take], by)


def takes_trash(takes: Iterable[Take], by: User) -> int:
    """Move takes to the trash, all or none; how many went (those already there are skipped)."""
    chosen = [take for take in takes if not take.is_trashed]
    for take in chosen:
        membership = _membership(take, by)
        if membership is None or not membership.can_edit:
            raise Refused(NOT_A_MEMBER)
    if problem := active_problem(chosen):
        raise Refused(problem)
    moved = 0
    with transaction.atomic():
        for take in chosen:
            if take.trash(by):
                moved += 1
                activity_log(
                    team=take.project.team,
                    actor=by,
                    verb="trashed",
                    summary=f"moved the take {take_label(take)} to the trash",
                    project=take.project,
                    take=take,
                )
    return moved


def take_may_restore(take: Take, user: User, membership: Membership) -> bool:
    """Owners restore anything; others only what they deleted themselves."""
    return membership.is_owner or (membership.can_edit and take.trashed_by_id == user.pk)


def take_restore(*, take: Take, by: User, membership: Membership) -> None:
    """Bring a take back from the trash, with its share links and comments."""
    if not take_may_restore(take, by, membership):
        raise Refused(RESTORE_WHO)
    if take.clip is not None and take.clip.is_trashed:
        raise Refused(
            f"The clip {take.clip.original_name} of this take is in the trash: restore the "
            "clip, and its takes come back with it."
        )
    if not take.restore(trashed_with_clip=False):
        raise Refused("This take is no longer in the trash.")
    activity_log(
        team=take.project.team,
        actor=by,
        verb="restored",
        summary=f"restored the take {take_label(take)} from the trash",
        project=take.project,
        take=take,
    )


def take_delete_for_good(*, take: Take, by: User, membership: Membership) -> None:
    """Owners only: the sweep removes it at its next pass (never in this request)."""
    if not membership.is_owner:
        raise Refused("Only the team's owners can delete takes for good.")
    if not take.purge_now():
        raise Refused("This take is no longer in the trash.")
    activity_log(
        team=take.project.team,
        actor=by,
        verb="deleted",
        summary=f"deleted the take {take_label(take)} for good",
        project=take.project,
    )


def take_purge(take: Take) -> None:
    """Remove a take that is due: its files, then its row. Safe to run again after a crash at
    any point: a file already gone is skipped, and a row whose files are gone is removed.

    A take that cost money keeps a bare row (no files, no comments, no links, out of the trash
    and every list) so that the month's spending and the usage history stay as they were."""
    delete_files(take.result, take.result_poster, take.result_thumb, take.export_file)
    if take.charged_usd or take.reserved_usd:
        with transaction.atomic():
            take.comments.all().delete()
            take.share_links.all().delete()
            CutWindow.objects.filter(chosen=take).update(chosen=None, take_sound=False)
            Take.objects.filter(pk=take.pk).update(
                purge_after=None,
                result="",
                result_poster="",
                result_thumb="",
                export_file="",
                window=None,
            )
        return
    take.delete()
