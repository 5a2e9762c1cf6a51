"""The waiting line, as the database holds it, for the fair-turns policy (studio.takes.fairness):
which takes the scheduler lets through now, and where a person's take stands."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Q
from django.utils import timezone

from accounts.models import Membership, Team
from studio.models import AT_PROVIDER, Take, TakeState
from studio.takes import common, fairness

HOLD_SAMPLES = 20  # the latest finished takes whose time at the provider makes the estimate
DEFAULT_HOLD = 60.0  # seconds a take holds its slot, before any take has finished


def _seconds(when: datetime | None) -> float | None:
    return when.timestamp() if when is not None else None


def team_limit(team: Team) -> int | None:
    """How many takes `team` may have at the provider at once; None: no limit of its own."""
    limit = team.max_active if team.max_active is not None else settings.TEAM_MAX_ACTIVE
    return limit or None


def queue_snapshot() -> tuple[list[fairness.Waiting], fairness.Turns]:
    """The queued takes that may be let through (suspended teams' wait) and the turns so far."""
    rows = Take.objects.filter(state=TakeState.QUEUED, project__team__suspended_at=None)
    waiting = [
        fairness.Waiting(pk, team, member, (created.timestamp(), pk))
        for pk, team, member, created in rows.values_list(
            "pk", "project__team_id", "created_by_id", "created_at"
        )
    ]
    teams = {w.team for w in waiting}
    busy = dict(
        Take.objects.filter(state__in=AT_PROVIDER)
        .values_list("project__team_id")
        .annotate(n=Count("pk"))
        .values_list("project__team_id", "n")
    )
    turns = fairness.Turns(busy=busy)
    for team in Team.objects.filter(pk__in=teams):
        if team.last_admitted_at is not None:
            turns.team_last[team.pk] = _seconds(team.last_admitted_at)
        if (limit := team_limit(team)) is not None:
            turns.limits[team.pk] = limit
    members: set[tuple[int, int | None]] = set()
    for team_id, user_id, last in Membership.objects.filter(team_id__in=teams).values_list(
        "team_id", "user_id", "last_admitted_at"
    ):
        members.add((team_id, user_id))
        if last is not None:
            turns.member_last[(team_id, user_id)] = _seconds(last)
    _departed_turns(turns, {(w.team, w.member) for w in waiting} - members)
    return waiting, turns


def _departed_turns(turns: fairness.Turns, departed: set[tuple[int, int | None]]) -> None:
    """The last turns of people whose takes wait in a team they are no longer in (removed, or
    their account deleted: member None). No Membership keeps their turn, so it is when one of
    their takes in that team was last let through; else each turn would look like their first
    and their whole batch would go before the team's other members."""
    if not departed:
        return
    people = Q(created_by_id__in={m for _, m in departed if m is not None})
    if any(m is None for _, m in departed):
        people |= Q(created_by__isnull=True)
    rows = (
        Take.objects.filter(people, project__team_id__in={t for t, _ in departed})
        .exclude(admitted_at=None)
        .values("project__team_id", "created_by_id")
        .annotate(last=Max("admitted_at"))
        .values_list("project__team_id", "created_by_id", "last")
    )
    for team_id, user_id, last in rows:
        if (team_id, user_id) in departed:
            turns.member_last[(team_id, user_id)] = _seconds(last)


def takes_to_admit(free: int) -> list[fairness.Waiting]:
    waiting, turns = queue_snapshot()
    return fairness.admission_order(waiting, turns, free)


def turn_record(take: fairness.Waiting, at: datetime) -> None:
    """Remember that `take`'s team and member had their turn at `at`."""
    Team.objects.filter(pk=take.team).update(last_admitted_at=at)
    if take.member is not None:
        Membership.objects.filter(team_id=take.team, user_id=take.member).update(
            last_admitted_at=at
        )


def hold_seconds(provider: str) -> float:
    """How long a take of `provider` holds its slot: the median over its latest finished takes
    (from being let through until it finished), or DEFAULT_HOLD before there are any."""
    spans = [
        (finished - admitted).total_seconds()
        for admitted, finished in Take.objects.filter(
            provider=provider,
            state=TakeState.SUCCEEDED,
            admitted_at__isnull=False,
            finished_at__isnull=False,
        )
        .order_by("-finished_at")
        .values_list("admitted_at", "finished_at")[:HOLD_SAMPLES]
        if admitted is not None and finished is not None
    ]
    spans = [s for s in spans if s > 0]
    return statistics.median(spans) if spans else DEFAULT_HOLD * settings.TIME_SCALE


@dataclass(frozen=True)
class Place:
    """Where a queued take stands: its own team's takes let through before it (other teams'
    are not told), and when it should start."""

    team_ahead: int
    starts_at: datetime | None  # None: cannot say (its team waits for a take of its own)
    suspended: bool = False
    team_limit: int | None = None


def take_place(take: Take) -> Place | None:
    """The place in line of a queued take (None for a take that does not wait)."""
    if take.state != TakeState.QUEUED:
        return None
    team = take.project.team
    if team.is_suspended:
        return Place(team_ahead=0, starts_at=None, suspended=True)
    now = timezone.now()
    waiting, turns = queue_snapshot()
    hold = hold_seconds(take.provider)
    running = [
        fairness.Running(team, (admitted + timedelta(seconds=hold) - now).total_seconds())
        if admitted
        else fairness.Running(team, hold)
        for team, admitted in Take.objects.filter(state__in=AT_PROVIDER).values_list(
            "project__team_id", "admitted_at"
        )
    ]
    # A take past its expected time still holds its slot: say it ends soon, not now.
    running = [fairness.Running(r.team, max(r.ends_in, hold / 10)) for r in running]
    starts = fairness.simulate(
        waiting,
        turns,
        running,
        slots=settings.MAX_ACTIVE_EDITS,
        hold=hold,
        until=take.pk,
    )
    teams = {w.pk: w.team for w in waiting}
    before = [pk for pk in starts if pk != take.pk]
    team_ahead = sum(1 for pk in before if teams.get(pk) == team.pk)
    if take.pk not in starts:
        return Place(team_ahead, starts_at=None, team_limit=team_limit(team))
    start = now + timedelta(seconds=starts[take.pk])
    paused = common.provider_paused(take.provider)
    if paused and paused > start:
        start = paused
    return Place(team_ahead, starts_at=start, team_limit=team_limit(team))
