"""Money budgets: hard monthly limits on what the provider may charge (README "Budgets").

Four kinds of budget can cover a take, each for the calendar month in STUDIO_TIME_ZONE:

- the instance's (the operator's), set by the administrator (or STUDIO_INSTANCE_BUDGET_USD);
- the team's, set by its owners, and the team's cap, set by the administrator;
- the member's within the team, set by the team's owners;
- the project's, set by the team's owners.

What a take holds against them is its charge once the provider has reported it, else its
reservation (`Take.reserved_usd`): the estimate of each paid request made or to be made for it,
given back by the take's state machine when it ends without being billed (the transitions
marked `releases`). A month's spend is the sum of what its takes hold, counted by the month the
take was made in, so nothing here can drift from the takes themselves.

`budgets_reserve` checks every budget that covers a submission and makes the takes inside one
transaction that holds the instance's lock: two submissions at the same moment are checked one
after the other, so together they can never go over a budget. Work of providers that do not
bill (the local engine) is never refused, but still counts takes and seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import DecimalField, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Instance, Membership, Team, User
from studio.models import Project, Take
from studio.providers import about
from studio.services.takes.common import Refused
from studio.templatetags.money import usd, usd_estimate

WARN_AT = Decimal("0.8")  # budgets at or above this share of their limit are shown as a warning
ZERO = Decimal("0")
_MONEY = DecimalField(max_digits=14, decimal_places=4)


# -- months ---------------------------------------------------------------------------------
def month_start(when: datetime | date | None = None) -> date:
    """The first day of the month `when` falls in (now when None), in the instance's zone."""
    if when is None:
        when = timezone.localtime()
    elif isinstance(when, datetime):
        when = timezone.localtime(when)
    return date(when.year, when.month, 1)


def month_after(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_before(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The aware datetimes where `month` starts and the next one starts."""
    zone = timezone.get_current_timezone()

    def midnight(day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=zone)

    return midnight(month), midnight(month_after(month))


def takes_in_month(takes: QuerySet[Take], month: date) -> QuerySet[Take]:
    start, end = month_bounds(month)
    return takes.filter(created_at__gte=start, created_at__lt=end)


# -- what takes hold ------------------------------------------------------------------------
def held(takes: QuerySet[Take]) -> Decimal:
    """What `takes` hold against budgets: their charges, else their reservations."""
    total = takes.aggregate(
        total=Sum(Coalesce("charged_usd", "reserved_usd", output_field=_MONEY))
    )["total"]
    return Decimal(total or 0)


def instance_budget() -> Decimal | None:
    chosen = Instance.get().budget_usd
    if chosen is not None:
        return chosen
    return settings.INSTANCE_BUDGET_USD or None


@dataclass(frozen=True)
class Budget:
    """One monthly limit and what is spent against it in one month."""

    scope: str  # "instance", "cap", "team", "member", "project"
    key: str  # which one (a team, membership or project code; "instance")
    name: str  # for people: "the team's monthly budget"
    limit: Decimal
    spent: Decimal
    raise_by: str  # for people: who can raise it

    @property
    def left(self) -> Decimal:
        return max(ZERO, self.limit - self.spent)

    @property
    def share(self) -> Decimal:
        """The spent share of the limit, 0..1 and beyond; a zero budget is full."""
        if self.limit <= 0:
            return Decimal(1)
        return self.spent / self.limit

    @property
    def percent(self) -> int:
        return int(self.share * 100)

    @property
    def warning(self) -> bool:
        return self.share >= WARN_AT

    @property
    def over(self) -> bool:
        return self.spent > self.limit


def _owner_names(team: Team) -> str:
    names = [m.user.display_name for m in team.owners().select_related("user")[:3]]
    return ", ".join(names) or "nobody"


def _administrators() -> str:
    admins = User.objects.filter(is_staff=True, is_active=True).order_by("date_joined")[:2]
    names = ", ".join(a.display_name for a in admins)
    return f"the administrator of this Cutroom ({names})" if names else "the administrator"


def budgets_covering(
    *, project: Project, author: User | None, month: date | None = None
) -> list[Budget]:
    """Every budget that covers a take `author` makes in `project`, with its spend in `month`
    (this month when None); budgets without a limit are left out."""
    month = month or month_start()
    team = project.team
    team_takes = Take.objects.filter(project__team_id=team.pk)
    owners = f"an owner of {team.name} ({_owner_names(team)})"
    found: list[Budget] = []

    def add(
        scope: str,
        key: str,
        name: str,
        limit: Decimal | None,
        takes: QuerySet[Take],
        raise_by: str,
    ) -> None:
        if limit is not None:
            spent = held(takes_in_month(takes, month))
            found.append(Budget(scope, key, name, limit, spent, raise_by))

    add(
        "instance",
        "instance",
        "this Cutroom's monthly budget",
        instance_budget(),
        Take.objects.all(),
        _administrators(),
    )
    cap = f"the monthly cap on {team.name}"
    add("cap", team.code, cap, team.cap_usd, team_takes, _administrators())
    add("team", team.code, f"{team.name}'s monthly budget", team.budget_usd, team_takes, owners)
    membership = (
        Membership.objects.filter(team_id=team.pk, user_id=author.pk).first() if author else None
    )
    if membership is not None and author is not None:
        add(
            "member",
            str(membership.code),
            f"{author.display_name}'s monthly budget in {team.name}",
            membership.budget_usd,
            team_takes.filter(created_by_id=author.pk),
            owners,
        )
    add(
        "project",
        project.code,
        f"the monthly budget of the project {project.name}",
        project.budget_usd,
        Take.objects.filter(project_id=project.pk),
        owners,
    )
    return found


class OverBudget(Refused):
    """A submission that would take a budget over its limit; nothing was made or sent."""

    def __init__(self, budget: Budget, amount: Decimal, what: str) -> None:
        self.budget = budget
        self.amount = amount
        over = budget.spent + amount - budget.limit
        super().__init__(
            f"Not sent: {what} would cost {usd_estimate(amount)}, but {budget.name} "
            f"({usd(budget.limit)}) has {usd(budget.left)} left this month, so it would go over "
            f"by {usd(over)}. Nothing was sent or charged. {budget.raise_by[0].upper()}"
            f"{budget.raise_by[1:]} can raise it."
        )


def _lock() -> None:
    """Serialise every reservation of the instance until the transaction ends.

    On PostgreSQL a row lock on the instance's settings; on SQLite the database's write lock,
    which the write below takes (transactions start IMMEDIATE, and it is taken anyway here)."""
    Instance.get()
    Instance.objects.select_for_update().filter(pk=1).update(updated_at=timezone.now())


@contextmanager
def budgets_reserve(
    *, project: Project, author: User | None, amount: Decimal, provider: str, what: str
) -> Iterator[None]:
    """Check that `amount` more fits every budget covering a take by `author` in `project`,
    and keep the check true while the caller makes its takes inside this block: OverBudget
    (a Refused) names the first budget it would exceed. `what` is for the message
    ("this take", "these 4 variations")."""
    with transaction.atomic():
        if about(provider).bills and amount > 0:
            _lock()
            for budget in budgets_covering(project=project, author=author):
                if budget.spent + amount > budget.limit:
                    raise OverBudget(budget, amount, what)
        yield


def budgets_warnings(*, project: Project, author: User | None) -> list[Budget]:
    """The budgets covering `author`'s takes in `project` that are at 80 % or more this month."""
    return [b for b in budgets_covering(project=project, author=author) if b.warning]
