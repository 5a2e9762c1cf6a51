"""Money budgets: hard monthly limits on what the provider may charge (docs/governance.md
"Budgets").

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

The provider can charge more than estimated. Estimates learn from its charges
(studio/takes/estimates.py), and when a slot frees, the scheduler checks a queued take's budgets
again under the same lock (`budget_exceeded_at_start`), with its estimate raised to what the
provider has lately charged, counting charges and the takes let through before it (not those
waiting behind it). So once a budget is spent, nothing new starts, and a budget is gone over by
no more than what the takes already at the provider are charged above their estimates.

Owners change the team's, members' and projects' budgets (`team_budget_set`,
`member_budget_set`, `project_budget_set`; each goes in the team's history). A submission that
brings a budget to 80 % or 100 % mails the people who can raise it, once per budget, level and
month (`budgets_alert`, run by the worker after the submission's commit), and puts it in the
team owners' inbox (with or without mail).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import DecimalField, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.mail import can_send_mail
from accounts.models import Instance, Membership, Team, User
from studio.core.errors import Refused
from studio.core.formatting import usd, usd_estimate
from studio.models import BudgetAlert, Project, Take, TakeState
from studio.projects.history import activity_log
from studio.providers.catalogue import about
from studio.review import inbox

logger = logging.getLogger(__name__)

WARN_AT = Decimal("0.8")  # budgets at or above this share of their limit are shown as a warning
ZERO = Decimal("0")
LEVELS = (80, 100)  # the alerts mailed: at 80 % of a budget, and when it is used up
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


def takes_in_month(takes: QuerySet[Take], month: date, *, queued: bool = True) -> QuerySet[Take]:
    """The takes made in `month`; without those still waiting in the queue when not `queued`."""
    start, end = month_bounds(month)
    takes = takes.filter(created_at__gte=start, created_at__lt=end)
    return takes if queued else takes.exclude(state=TakeState.QUEUED)


# -- what takes hold ------------------------------------------------------------------------
def held(takes: QuerySet[Take]) -> Decimal:
    """What `takes` hold against budgets: their charges, else their reservations."""
    return held_split(takes)[0]


def held_split(takes: QuerySet[Take]) -> tuple[Decimal, Decimal]:
    """What `takes` hold against budgets, and the part of it the provider has charged (the
    rest is estimates still reserved)."""
    totals = takes.aggregate(
        total=Sum(Coalesce("charged_usd", "reserved_usd", output_field=_MONEY)),
        charged=Sum("charged_usd"),
    )
    return Decimal(totals["total"] or 0), Decimal(totals["charged"] or 0)


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
    charged: Decimal = ZERO  # the part of `spent` the provider has charged; the rest is estimates

    @property
    def estimated(self) -> Decimal:
        """The part of `spent` that is estimates of takes not charged yet."""
        return self.spent - self.charged

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
    def used_up(self) -> bool:
        """Nothing is left: the next paid take is refused."""
        return self.spent >= self.limit

    @property
    def over(self) -> bool:
        return self.spent > self.limit

    @property
    def level(self) -> int:
        """The alert level reached: 100 when used up, 80 from 80 %, else 0."""
        if self.used_up:
            return 100
        return 80 if self.warning else 0

    @property
    def bar(self) -> tuple[float, float]:
        """The charged and the estimated part of the limit as lengths on a bar of 100, together
        at most 100 (a budget can go over when a charge is above its estimate)."""
        if self.limit <= 0:
            return (100.0, 0.0) if self.charged else (0.0, 100.0 if self.spent else 0.0)
        charged = min(100.0, float(self.charged / self.limit * 100))
        estimated = min(100.0 - charged, float(self.estimated / self.limit * 100))
        return round(charged, 2), round(max(0.0, estimated), 2)


def _owner_names(team: Team) -> str:
    names = [m.user.display_name for m in team.owners().select_related("user")[:3]]
    return ", ".join(names) or "nobody"


def administrators_phrase() -> str:
    admins = User.objects.filter(is_staff=True, is_active=True).order_by("date_joined")[:2]
    names = ", ".join(a.display_name for a in admins)
    return f"the administrator of this Cutroom ({names})" if names else "the administrator"


def owners_phrase(team: Team) -> str:
    """Who can raise the team's, its members' and its projects' budgets, for people."""
    return f"an owner of {team.name} ({_owner_names(team)})"


def budget_measure(
    scope: str,
    key: str,
    name: str,
    limit: Decimal,
    takes: QuerySet[Take],
    raise_by: str,
    month: date,
    queued: bool = True,
) -> Budget:
    """The budget `limit` with what `takes` hold against it in `month` (not counting the takes
    still in the queue when not `queued`)."""
    spent, charged = held_split(takes_in_month(takes, month, queued=queued))
    return Budget(scope, key, name, limit, spent, raise_by, charged)


def instance_budget_measure(month: date | None = None, *, queued: bool = True) -> Budget | None:
    """The instance's budget with every team's spend in `month`; None when it has no limit."""
    limit = instance_budget()
    if limit is None:
        return None
    name = "this Cutroom's monthly budget"
    raise_by = administrators_phrase()
    return budget_measure(
        "instance",
        "instance",
        name,
        limit,
        Take.objects.all(),
        raise_by,
        month or month_start(),
        queued,
    )


def team_budgets_covering(
    *, team: Team, author: User | None, month: date | None = None, queued: bool = True
) -> list[Budget]:
    """The budgets that cover every take `author` makes in `team`, whatever the project: the
    instance's, the team's cap and budget, and the author's own budget in the team. Takes still
    in the queue count when `queued`: a new take waits behind them."""
    month = month or month_start()
    team_takes = Take.objects.filter(project__team_id=team.pk)
    owners = owners_phrase(team)
    found: list[Budget] = []
    if (instance := instance_budget_measure(month, queued=queued)) is not None:
        found.append(instance)

    def add(scope: str, key: str, name: str, limit: Decimal | None, takes: QuerySet[Take]) -> None:
        if limit is not None:
            raise_by = administrators_phrase() if scope == "cap" else owners
            found.append(budget_measure(scope, key, name, limit, takes, raise_by, month, queued))

    add("cap", team.code, f"the monthly cap on {team.name}", team.cap_usd, team_takes)
    add("team", team.code, f"{team.name}'s monthly budget", team.budget_usd, team_takes)
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
        )
    return found


def budgets_covering(
    *, project: Project, author: User | None, month: date | None = None, queued: bool = True
) -> list[Budget]:
    """Every budget that covers a take `author` makes in `project`, with its spend in `month`
    (this month when None); budgets without a limit are left out. Takes still in the queue
    count when `queued`."""
    month = month or month_start()
    team = project.team
    found = team_budgets_covering(team=team, author=author, month=month, queued=queued)
    if project.budget_usd is not None:
        found.append(
            budget_measure(
                "project",
                project.code,
                f"the monthly budget of the project {project.name}",
                project.budget_usd,
                Take.objects.filter(project_id=project.pk),
                owners_phrase(team),
                month,
                queued,
            )
        )
    return found


def over_budget_words(budget: Budget, amount: Decimal, what: str) -> str:
    """Why `what`, which would cost `amount`, cannot go: the budget, its limit and what is spent.
    A budget can be used up, even gone over, when the provider charged more than estimated."""
    cost = f"{what[0].upper()}{what[1:]} would cost {usd_estimate(amount)}."
    if budget.limit <= 0:
        return f"Not sent: {budget.name} is {usd(budget.limit)}: no paid takes. {cost}"
    if budget.used_up:
        over = budget.spent - budget.limit
        beyond = f", {usd(over)} more than its limit" if over > 0 else ""
        held = (
            f"{usd(budget.charged)} charged by the provider and {usd(budget.estimated)} held "
            "by takes not charged yet"
            if budget.estimated
            else "all of it charged by the provider"
        )
        return (
            f"Not sent: {budget.name} ({usd(budget.limit)}) is used up this month: "
            f"{usd(budget.spent)} spent{beyond} ({held}). {cost}"
        )
    return (
        f"Not sent: {what} would cost {usd_estimate(amount)}, but {budget.name} "
        f"({usd(budget.limit)}) has {usd(budget.left)} left this month ({usd(budget.spent)} "
        f"spent), so it would go over by {usd(budget.spent + amount - budget.limit)}."
    )


class OverBudget(Refused):
    """A submission that would take a budget over its limit; nothing was made or sent."""

    def __init__(self, budget: Budget, amount: Decimal, what: str) -> None:
        self.budget = budget
        self.amount = amount
        super().__init__(
            f"{over_budget_words(budget, amount, what)} Nothing was sent or charged. "
            f"{budget.raise_by[0].upper()}{budget.raise_by[1:]} can raise it."
        )


def budgets_lock() -> None:
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
        alert = False
        if about(provider).bills and amount > 0:
            budgets_lock()
            for budget in budgets_covering(project=project, author=author):
                if budget.spent + amount > budget.limit:
                    raise OverBudget(budget, amount, what)
                # The limit is above 0 here, or the check above refused.
                alert = alert or (budget.spent + amount) / budget.limit >= WARN_AT
        yield
        if alert:  # the owners' inbox hears of it, with or without mail
            author_id = author.pk if author else None
            transaction.on_commit(lambda: _alert_later(project.pk, author_id), robust=True)


def budget_exceeded_at_start(*, take: Take, amount: Decimal) -> Budget | None:
    """The first budget covering `take` that it would take over if it held `amount` when it
    is let through to the provider; None when every one has room (or the provider does not
    bill). Call inside a transaction after budgets_lock().

    What counts is what the provider has charged and what the takes let through before it
    hold; takes still waiting behind it in the queue do not, or they would hold back the takes
    ahead of them."""
    if not about(take.provider).bills or amount <= 0:
        return None
    covering = budgets_covering(
        project=take.project,
        author=take.created_by,
        month=month_start(take.created_at),
        queued=False,
    )
    return next((b for b in covering if b.spent + amount > b.limit), None)


def budgets_warnings(*, project: Project, author: User | None) -> list[Budget]:
    """The budgets covering `author`'s takes in `project` that are at 80 % or more this month."""
    return [b for b in budgets_covering(project=project, author=author) if b.warning]


def team_budgets_warnings(*, team: Team, author: User | None) -> list[Budget]:
    """The budgets covering all of `author`'s takes in `team` that are at 80 % or more."""
    return [b for b in team_budgets_covering(team=team, author=author) if b.warning]


# -- owners set budgets ---------------------------------------------------------------------
def _limit_words(limit: Decimal | None) -> str:
    if limit is None:
        return "no limit"
    return f"{usd(limit)} a month" + (" (no paid takes)" if limit == 0 else "")


def _budget_changed(
    *, team: Team, actor: User, what: str, old: Decimal | None, new: Decimal | None, **where: Any
) -> str:
    """Record a budget change in the team's history; what to confirm to the person ("" when
    nothing changed)."""
    if old == new:
        return ""
    activity_log(
        team=team,
        actor=actor,
        verb="budget",
        summary=f"set {what} to {_limit_words(new)} (was {_limit_words(old)})",
        **where,
    )
    return f"{what[0].upper()}{what[1:]} is now {_limit_words(new)} (was {_limit_words(old)})."


def team_budget_set(*, team: Team, limit: Decimal | None, actor: User) -> str:
    """An owner sets the team's monthly budget (None: no limit); the confirmation to show."""
    old = Team.objects.filter(pk=team.pk).values_list("budget_usd", flat=True).get()
    team.budget_usd = limit
    team.save(update_fields=["budget_usd"])
    what = f"{team.name}'s monthly budget"
    return _budget_changed(team=team, actor=actor, what=what, old=old, new=limit)


def member_budget_set(*, membership: Membership, limit: Decimal | None, actor: User) -> str:
    """An owner sets a member's monthly budget within the team (None: no limit)."""
    old = Membership.objects.filter(pk=membership.pk).values_list("budget_usd", flat=True).get()
    membership.budget_usd = limit
    membership.save(update_fields=["budget_usd"])
    what = f"{membership.user.display_name}'s monthly budget in {membership.team.name}"
    return _budget_changed(team=membership.team, actor=actor, what=what, old=old, new=limit)


def project_budget_set(*, project: Project, limit: Decimal | None, actor: User) -> str:
    """An owner sets a project's monthly budget (None: no limit)."""
    old = Project.objects.filter(pk=project.pk).values_list("budget_usd", flat=True).get()
    project.budget_usd = limit
    project.save(update_fields=["budget_usd"])
    what = f"the monthly budget of the project {project.name}"
    return _budget_changed(
        team=project.team, actor=actor, what=what, old=old, new=limit, project=project
    )


# -- alerts by mail -------------------------------------------------------------------------
def _alert_later(project_id: int, author_id: int | None) -> None:
    from django_q.tasks import async_task

    async_task(
        "studio.tasks.budget_alerts", project_id, author_id, task_name=f"budget:{project_id}"
    )


def _alert_recipients(budget: Budget, team: Team) -> list[str]:
    if budget.scope in ("instance", "cap"):
        people = User.objects.filter(is_staff=True, is_active=True)
    else:
        people = User.objects.filter(
            memberships__team_id=team.pk, memberships__role="owner", is_active=True
        )
    return sorted({user.email for user in people})


def _alert_claim(budget: Budget, month: date, level: int) -> bool:
    """Claim the mail of `level` for `budget` this month; False when it was mailed already.
    The unique constraint makes the claim hold when two workers try at the same moment."""
    try:
        with transaction.atomic():
            BudgetAlert.objects.create(scope=budget.scope, key=budget.key, month=month, level=level)
    except IntegrityError:
        return False
    return True


def budgets_alert(*, project: Project, author: User | None) -> int:
    """Mail who can raise each budget covering `author`'s takes in `project` that is at 80 %
    or used up this month, once per budget, level and month; how many mails were sent.

    A mail that fails is logged and its claim given back, so a later take tries again; it never
    fails anything else."""
    month = month_start()
    mail = can_send_mail()
    sent = 0
    for budget in budgets_covering(project=project, author=author, month=month):
        if not budget.level or not _alert_claim(budget, month, budget.level):
            continue
        if budget.level == 100:  # used up says more than 80 % would, later in the month
            _alert_claim(budget, month, 80)
        if budget.scope not in ("instance", "cap"):  # the administrators' are mailed only
            inbox.notify_budget(
                team=project.team,
                scope=budget.scope,
                key=budget.key,
                name=budget.name,
                level=budget.level,
                percent=budget.percent,
                month=f"{month:%Y-%m}",
            )
        if not mail:
            continue
        to = _alert_recipients(budget, project.team)
        try:
            if to:
                _alert_mail(budget, project.team, month, to)
                sent += 1
        except Exception:  # a mail server's trouble must never stop the work
            logger.exception("Budget alert for %s %s not sent", budget.scope, budget.key)
            BudgetAlert.objects.filter(
                scope=budget.scope, key=budget.key, month=month, level=budget.level
            ).delete()
    return sent


def _alert_mail(budget: Budget, team: Team, month: date, to: list[str]) -> None:
    usage = reverse("team_usage", args=[team.code])
    context = {
        "budget": budget,
        "team": team,
        "month": month,
        "usage_url": (settings.PUBLIC_URL + usage) if settings.PUBLIC_URL else usage,
    }
    subject = render_to_string("governance/email/budget_alert_subject.txt", context).strip()
    body = render_to_string("governance/email/budget_alert.txt", context)
    send_mail(subject, body, None, to)


def budgets_warnings_shown(*, project: Project, author: User) -> list[Budget]:
    """The budgets at 80 % or more that cover the takes `author` would send in `project`; none
    when takes cost nothing here (the local engine)."""
    if not about(settings.STUDIO_PROVIDER).bills:
        return []
    return budgets_warnings(project=project, author=author)


def budgets_room(*, project: Project, author: User) -> list[dict[str, str]]:
    """What each budget covering `author`'s next take in `project` has left this month, for the
    forms' line saying whether the estimate fits before anything is sent
    (static/js/budget_fit.js); none when takes cost nothing here. budgets_reserve still decides
    on submit."""
    if not about(settings.STUDIO_PROVIDER).bills:
        return []
    return [
        {"name": b.name, "left": str(b.left.quantize(Decimal("0.0001"))), "raise_by": b.raise_by}
        for b in budgets_covering(project=project, author=author)
    ]
