"""What the instance's administrator sees and changes (docs/governance.md "The administration
page").

Every change to a team goes into that team's history, so its members can see who suspended or
capped it and why; nothing here deletes anything.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import (
    Count,
    DecimalField,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Instance, Membership, Team, User
from studio.core.formatting import usd
from studio.governance.budgets import held, instance_budget, month_bounds, takes_in_month
from studio.models import AT_PROVIDER, Take, TakeState
from studio.projects.history import activity_log

logger = logging.getLogger(__name__)

ADMINISTERED = "administered"  # the verb of every line this module writes in a team's history
_MONEY = DecimalField(max_digits=14, decimal_places=4)


@dataclass(frozen=True)
class InstanceSpend:
    month: date
    spent: Decimal
    limit: Decimal | None  # None: no monthly budget
    chosen: bool  # set on the administration page (else STUDIO_INSTANCE_BUDGET_USD, or none)

    @property
    def percent(self) -> int | None:
        if self.limit is None:
            return None
        return 100 if self.limit <= 0 else int(self.spent / self.limit * 100)


def instance_spend(*, month: date) -> InstanceSpend:
    """What every team's takes hold this month against the instance's budget."""
    instance = Instance.get()
    return InstanceSpend(
        month=month,
        spent=held(takes_in_month(Take.objects.all(), month)),
        limit=instance_budget(),
        chosen=instance.budget_usd is not None,
    )


def teams_overview(*, month: date, query: str = "") -> QuerySet[Team]:
    """Every team (those matching `query` by name or member e-mail) with its members, its
    spend in `month` (`spent`) and its takes waiting (`queued`) and at the provider
    (`at_provider`): suspended teams first, then the biggest spenders."""
    start, end = month_bounds(month)
    team_takes = (
        Take.objects.filter(project__team=OuterRef("pk")).order_by().values("project__team")
    )
    spent = team_takes.filter(created_at__gte=start, created_at__lt=end).annotate(
        total=Sum(Coalesce("charged_usd", "reserved_usd", output_field=_MONEY))
    )
    active = team_takes.annotate(
        queued=Count("pk", filter=Q(state=TakeState.QUEUED)),
        at_provider=Count("pk", filter=Q(state__in=AT_PROVIDER)),
    )
    teams = Team.objects.annotate(
        spent=Coalesce(Subquery(spent.values("total")), Value(Decimal(0)), output_field=_MONEY),
        queued=Coalesce(Subquery(active.values("queued")), 0, output_field=IntegerField()),
        at_provider=Coalesce(
            Subquery(active.values("at_provider")), 0, output_field=IntegerField()
        ),
    ).prefetch_related(
        Prefetch(
            "memberships",
            queryset=Membership.objects.select_related("user").order_by("created_at", "pk"),
        )
    )
    if query:
        teams = teams.filter(
            Q(name__icontains=query) | Q(memberships__user__email__icontains=query)
        ).distinct()
    return teams.order_by(F("suspended_at").desc(nulls_last=True), "-spent", "name", "pk")


def team_max_active_default() -> int:
    """Takes of one team at the provider at once when the administrator set no limit for it
    (0: none of its own)."""
    return settings.TEAM_MAX_ACTIVE


def _log(team: Team, actor: User, summary: str) -> None:
    activity_log(team=team, actor=actor, verb=ADMINISTERED, summary=f"{summary} (as administrator)")
    logger.info("Account #%s administered team %s: %s", actor.pk, team.code, summary)


def instance_budget_set(*, budget: Decimal | None, actor: User) -> Instance:
    instance = Instance.get()
    instance.budget_usd = budget
    instance.updated_by = actor
    instance.updated_at = timezone.now()
    instance.save(update_fields=["budget_usd", "updated_by", "updated_at"])
    logger.info("Account #%s set the instance's monthly budget to %s.", actor.pk, budget)
    return instance


def team_limits_set(
    *, team: Team, cap_usd: Decimal | None, max_active: int | None, actor: User
) -> list[str]:
    """Set the administrator's cap on a team's monthly spend and its limit of takes at the
    provider at once; the changes, as written in the team's history (none: nothing changed)."""
    changes: list[str] = []
    with transaction.atomic():
        team = Team.objects.select_for_update().get(pk=team.pk)
        if cap_usd != team.cap_usd:
            if cap_usd is None:
                changes.append("removed the team's monthly cap")
            else:
                changes.append(f"capped the team's spend at {usd(cap_usd)} a month")
        if max_active != team.max_active:
            if max_active is None:
                default = team_max_active_default()
                what = f"the default, {default}" if default else "no limit of its own"
                changes.append(f"set the team's takes at the provider at once back to {what}")
            else:
                takes = "take" if max_active == 1 else "takes"
                changes.append(f"limited the team to {max_active} {takes} at the provider at once")
        if changes:
            team.cap_usd, team.max_active = cap_usd, max_active
            team.save(update_fields=["cap_usd", "max_active"])
            _log(team, actor, "; ".join(changes))
    return changes


def team_suspend(*, team: Team, reason: str, actor: User) -> bool:
    """Suspend the team: its queued takes wait and it cannot send new ones; nothing is
    deleted. False when it already was suspended."""
    with transaction.atomic():
        done = Team.objects.filter(pk=team.pk, suspended_at=None).update(
            suspended_at=timezone.now(), suspended_reason=reason
        )
        if done:
            _log(team, actor, f"suspended the team: {reason}")
    return bool(done)


def team_lift(*, team: Team, actor: User, note: str = "") -> bool:
    """Lift the team's suspension; its waiting takes go on. False when it was not suspended."""
    with transaction.atomic():
        done = (
            Team.objects.filter(pk=team.pk)
            .exclude(suspended_at=None)
            .update(suspended_at=None, suspended_reason="")
        )
        if done:
            _log(team, actor, "lifted the team's suspension" + (f": {note}" if note else ""))
    return bool(done)
