"""Making takes and what a person does to one: cancel it, run it again, ask for variations, and
the ways out of an uncertain or timed-out take (send it again, adopt a task, check again)."""

from __future__ import annotations

import secrets
from dataclasses import replace
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Team, User
from studio.core.errors import Refused
from studio.core.formatting import usd_estimate
from studio.governance import budgets
from studio.models import Clip, Lineage, Project, Reference, Take, TakeReference, TakeState, Trigger
from studio.projects.history import activity_log
from studio.projects.services import ARCHIVED_NO_TAKES, project_is_archived
from studio.providers.catalogue import about, get_provider
from studio.takes import common, estimates
from studio.takes.common import ADOPTED
from studio.takes.parameters import MAX_SEED, EditParameters

NO_DECISION = "This take is no longer waiting for a decision."


def estimate(resolution: str, seconds: float, provider: str | None = None) -> Decimal:
    """What a new take is reserved: the price list's estimate, or more when the provider has
    charged more lately (studio/takes/estimates.py)."""
    return estimates.take_estimate(
        provider=provider or settings.STUDIO_PROVIDER, resolution=resolution, seconds=seconds
    )


def take_create(
    *,
    project: Project,
    author: User,
    clip: Clip,
    parameters: EditParameters,
    start: float = 0.0,
    length: float,
    references: list[Reference] | None = None,
    run_of: Take | None = None,
    lineage: str = Lineage.NEW,
    batch: str = "",
) -> Take:
    """A queued take of `clip`'s part from `start`, `length` seconds long. A seed of None is
    picked at random, and the take remembers that it was. Its estimate is reserved against
    every budget that covers it: budgets.OverBudget (a Refused) when one would be exceeded."""
    price = estimate(parameters.resolution, parameters.duration or length)
    with budgets.budgets_reserve(
        project=project,
        author=author,
        amount=price,
        provider=settings.STUDIO_PROVIDER,
        what="this take",
    ):
        return _take_make(
            project=project,
            author=author,
            clip=clip,
            parameters=parameters,
            start=start,
            length=length,
            references=references,
            run_of=run_of,
            lineage=lineage,
            batch=batch,
        )


def team_suspended_problem(team: Team) -> str:
    """Why a suspended team cannot send takes, for its members; "" when it may."""
    if not team.is_suspended:
        return ""
    why = f" ({team.suspended_reason})" if team.suspended_reason else ""
    return (
        f"{team.name} is suspended by the administrator of this Cutroom{why}. Its takes wait "
        "and no new ones can be sent until the suspension is lifted; nothing has been deleted."
    )


def _take_make(
    *,
    project: Project,
    author: User,
    clip: Clip,
    parameters: EditParameters,
    start: float,
    length: float,
    references: list[Reference] | None,
    run_of: Take | None,
    lineage: str,
    batch: str,
) -> Take:
    if project_is_archived(project):
        raise Refused(ARCHIVED_NO_TAKES)
    if problem := team_suspended_problem(project.team):
        raise Refused(problem)
    engine = about(settings.STUDIO_PROVIDER)
    if parameters.watermark and not engine.watermark:
        # Run again or Remix of a take made where the mark was offered: refused in words,
        # never sent to a provider that does not know the parameter.
        raise Refused(
            f"{engine.label} cannot add its own AI mark, which this take asks for. "
            f"{engine.watermark_note}"
        )
    chosen = parameters.seed is not None
    if not chosen:
        parameters = replace(parameters, seed=secrets.randbelow(MAX_SEED + 1))
    take = Take(
        project=project,
        clip=clip,
        created_by=author,
        run_of=run_of,
        lineage=lineage if run_of is not None else Lineage.NEW,
        batch=batch,
        **parameters.as_dict(),
        seed_was_chosen=chosen,
        start_ms=round(start * 1000),
        length_ms=round(length * 1000),
        provider=settings.STUDIO_PROVIDER,
        deadline_at=None,
    )
    take.estimate_usd = estimate(parameters.resolution, take.output_seconds)
    take.reserve_estimate()
    with transaction.atomic():
        take.save()
        for position, reference in enumerate(references or []):
            TakeReference.objects.create(take=take, reference=reference, position=position)
        take.note("Created")
        project.touch()
        activity_log(
            team=project.team,
            actor=author,
            verb="submitted",
            summary=f"submitted a take: {parameters.prompt[:80]}",
            project=project,
            take=take,
        )
    common.kick()
    return take


def take_run_again(
    *, take: Take, author: User, lineage: str = Lineage.RUN_AGAIN, batch: str = ""
) -> Take:
    if take.clip is None:
        raise Refused("The source clip of this take is gone, so it cannot run again.")
    return take_create(
        project=take.project,
        author=author,
        clip=take.clip,
        parameters=take.parameters,
        start=take.start_ms / 1000,
        length=take.length_ms / 1000,
        references=list(take.references.order_by("takereference__position")),
        run_of=take,
        lineage=lineage,
        batch=batch,
    )


def take_variations(*, take: Take, author: User, count: int) -> list[Take]:
    """`count` new takes that differ from `take` only in their (random) seed: all of them fit
    the budgets and are made, or none is (budgets.OverBudget)."""
    if project_is_archived(take.project):
        raise Refused(ARCHIVED_NO_TAKES)
    made = []
    price = estimate(take.resolution, take.output_seconds) * count
    with budgets.budgets_reserve(
        project=take.project,
        author=author,
        amount=price,
        provider=settings.STUDIO_PROVIDER,
        what=f"these {count} variations",
    ):
        batch = secrets.token_urlsafe(8)
        for _ in range(count):
            again = take_run_again(take=take, author=author, lineage=Lineage.VARIATION, batch=batch)
            again.seed = secrets.randbelow(MAX_SEED + 1)
            again.seed_was_chosen = False
            again.save(update_fields=["seed", "seed_was_chosen"])
            made.append(again)
    return made


def take_cancel(*, take: Take) -> bool:
    """Before submission: cancel. Afterwards: stop waiting (the API has no cancel)."""
    if take.fire(Trigger.CANCEL, "Canceled"):
        return True
    if take.engine.can_cancel and take.provider_task_id:
        if take.fire(Trigger.CANCEL_TASK, "Canceled", reason=""):
            get_provider(take.provider).cancel(take.provider_task_id)
            return True
        return False
    return take.fire(
        Trigger.STOP_WAITING,
        "Stopped waiting. The provider has no cancel, so it may still finish (and bill) it.",
        reason="You stopped waiting for this take. The provider offers no way to cancel a "
        "running edit, so it may still finish and be billed.",
    )


# -- ways out: send again, adopt a task, check again -----------------------------------------
def take_send_again(*, take: Take, author: User) -> None:
    """Send an uncertain take once more: a new paid POST for the same take, which keeps its
    history (its events and its submit_posts count show both requests)."""
    if project_is_archived(take.project):
        raise Refused(ARCHIVED_NO_TAKES)
    if problem := team_suspended_problem(take.project.team):  # a new paid request
        raise Refused(problem)
    with budgets.budgets_reserve(
        project=take.project,
        author=take.created_by,
        amount=take.estimate_usd,
        provider=take.provider,
        what="sending this take again",
    ):
        _send_again(take, author)
    activity_log(
        team=take.project.team,
        actor=author,
        verb="submitted",
        summary=f"sent a take again: {take.prompt[:80]}",
        project=take.project,
        take=take,
    )
    common.kick()


def _send_again(take: Take, author: User) -> None:
    # The first request may have been billed: its reservation stays, and this one adds its own.
    reserve = F("reserved_usd") + take.estimate_usd if take.engine.bills else 0
    if not take.fire(
        Trigger.SEND_AGAIN,
        f"Sent again by {author.display_name}: a new paid request, "
        f"{usd_estimate(take.estimate_usd)}",
        reserved_usd=reserve,
        reason="",
        last_error="",
        transient_errors=0,
        provider_task_id=None,
        submitted_at=None,
        deadline_at=None,
        finished_at=None,
        lease_until=None,
        next_check_at=None,
    ):
        raise Refused(NO_DECISION)


def take_adopt(*, take: Take, task_id: str, author: User) -> None:
    """Follow a task a person found at the provider (or, for a take that timed out, its own task
    again): poll it, download its result. Nothing is sent, so nothing is paid."""
    again = take.state == TakeState.TIMED_OUT and task_id == take.provider_task_id
    used = Take.objects.filter(provider_task_id=task_id).exclude(pk=take.pk)
    taken = f"Another take already follows the provider task “{task_id}”; check the id."
    if used.exists():
        raise Refused(taken)
    now = timezone.now()
    note = (
        f"Checking provider task {task_id} again (asked by {author.display_name})"
        if again
        else f"{ADOPTED} {task_id} (found by {author.display_name})"
    )
    try:
        moved = take.fire(
            Trigger.CHECK_AGAIN if again else Trigger.ADOPT,
            note,
            provider_task_id=task_id,
            submitted_at=take.submitted_at or now,
            deadline_at=now + settings.EDIT_DEADLINE,
            next_check_at=now,
            reason="",
            last_error="",
            transient_errors=0,
            finished_at=None,
            lease_until=None,
        )
    except IntegrityError:  # another take adopted the same id at the same moment
        raise Refused(taken) from None
    if not moved:
        raise Refused(NO_DECISION)
    common.kick()
