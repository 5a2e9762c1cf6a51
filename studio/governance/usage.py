"""A team's spend in one month, as its usage page, the page's chart and its CSV show it
(docs/governance.md "Budgets").

Every figure comes from one pass over the month's takes, so the totals, the tables, the chart
and the CSV always agree. Each take counts as budgets count it (studio.governance.budgets):

- "charge": the provider reported what it billed (`Take.charged_usd`); that amount counts;
- "estimate": not charged yet; its reservation (`Take.reserved_usd`) counts;
- "released": it ended without being billed and gave its reservation back; nothing counts;
- "free": the local engine's work costs nothing, but still counts as takes and seconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cached_property

from django.utils import timezone

from accounts.models import Membership, Team
from studio.governance.budgets import (
    ZERO,
    Budget,
    month_after,
    month_before,
    month_bounds,
    month_start,
    owners_phrase,
)
from studio.models import Project, Take
from studio.providers.catalogue import about

CHARGE, ESTIMATE, RELEASED, FREE = "charge", "estimate", "released", "free"


# -- months ---------------------------------------------------------------------------------
def month_parse(value: str) -> date | None:
    """The month of "YYYY-MM", or None when it is not one."""
    year, dash, month = value.partition("-")
    if not (dash and len(year) == 4 and len(month) == 2 and year.isdigit() and month.isdigit()):
        return None
    if not 1 <= int(month) <= 12 or int(year) < 2000:
        return None
    return date(int(year), int(month), 1)


def months_to_show(team: Team) -> list[date]:
    """The months a person can pick, newest first: this one, the last, and every month with
    a take of the team."""
    zone = timezone.get_current_timezone()
    found = {
        month_start(when)
        for when in Take.objects.filter(project__team_id=team.pk).datetimes(
            "created_at", "month", tzinfo=zone
        )
    }
    now = month_start()
    found |= {now, month_before(now)}
    return sorted((m for m in found if m <= now), reverse=True)


# -- takes as counted -----------------------------------------------------------------------
@dataclass(frozen=True)
class TakeLine:
    """One take of the month as budgets count it."""

    code: str
    created_at: datetime
    member_id: int | None
    member_name: str
    member_email: str
    project_id: int
    project_name: str
    provider: str
    state: str
    seconds: float
    estimate: Decimal
    reserved: Decimal
    charged: Decimal | None
    bills: bool

    @property
    def basis(self) -> str:
        if not self.bills:
            return FREE
        if self.charged is not None:
            return CHARGE
        return ESTIMATE if self.reserved else RELEASED

    @property
    def counted(self) -> Decimal:
        """What this take holds against budgets (budgets.held: the charge, else the
        reservation)."""
        return self.charged if self.charged is not None else self.reserved

    @property
    def overcharge(self) -> Decimal:
        """How much more the provider charged than this take's estimate (0 when no more)."""
        if self.charged is None or not self.bills:
            return ZERO
        return max(ZERO, self.charged - self.estimate)


@dataclass
class Tally:
    """Takes, seconds and money of some takes."""

    takes: int = 0
    seconds: float = 0.0
    charged: Decimal = ZERO
    estimated: Decimal = ZERO
    free: int = 0  # takes of the local engine
    released: int = 0  # takes that ended unbilled and gave their reservation back
    # The charged takes' estimates, against their charges: how much more the provider charged
    # than estimated (takes charged less count as 0), and for how many takes.
    charged_estimates: Decimal = ZERO
    overcharge: Decimal = ZERO
    overcharged: int = 0

    def add(self, line: TakeLine) -> None:
        self.takes += 1
        self.seconds += line.seconds
        basis = line.basis
        if basis == CHARGE:
            self.charged += line.counted
            self.charged_estimates += line.estimate
            if line.overcharge:
                self.overcharge += line.overcharge
                self.overcharged += 1
        elif basis == ESTIMATE:
            self.estimated += line.counted
        elif basis == FREE:
            self.free += 1
        else:
            self.released += 1

    @property
    def counted(self) -> Decimal:
        return self.charged + self.estimated


@dataclass
class Group:
    """The takes of one member or one project in the month, and its budget."""

    key: str  # membership code, project code ("" for people no longer in the team)
    name: str
    tally: Tally = field(default_factory=Tally)
    budget: Budget | None = None
    detail: str = ""  # "former member", "archived"


@dataclass
class Usage:
    team: Team
    month: date
    lines: list[TakeLine]
    total: Tally
    members: list[Group]
    projects: list[Group]
    days: list[tuple[date, Tally]]

    @property
    def is_current(self) -> bool:
        return self.month == month_start()

    @cached_property
    def overcharged(self) -> list[TakeLine]:
        """The month's takes the provider charged more than their estimate, the dearest
        surprise first."""
        return sorted((t for t in self.lines if t.overcharge), key=lambda t: -t.overcharge)


def _lines(team: Team, month: date) -> list[TakeLine]:
    start, end = month_bounds(month)
    takes = (
        Take.objects.filter(project__team_id=team.pk, created_at__gte=start, created_at__lt=end)
        .select_related("created_by", "project")
        .only(
            "code",
            "created_at",
            "created_by__name",
            "created_by__email",
            "project__name",
            "provider",
            "state",
            "duration",
            "length_ms",
            "estimate_usd",
            "reserved_usd",
            "charged_usd",
        )
        .order_by("created_at", "pk")
    )
    bills = {}
    lines = []
    for take in takes:
        if take.provider not in bills:
            bills[take.provider] = about(take.provider).bills
        author = take.created_by
        lines.append(
            TakeLine(
                code=take.code,
                created_at=timezone.localtime(take.created_at),
                member_id=author.pk if author else None,
                member_name=author.display_name if author else "a deleted account",
                member_email=author.email if author else "",
                project_id=take.project_id,
                project_name=take.project.name,
                provider=take.provider,
                state=take.state,
                seconds=take.output_seconds,
                estimate=take.estimate_usd if bills[take.provider] else ZERO,
                reserved=take.reserved_usd,
                charged=take.charged_usd,
                bills=bills[take.provider],
            )
        )
    return lines


def team_usage(*, team: Team, month: date) -> Usage:
    """The team's takes in `month`, counted in total, by member, by project and by day, with
    the member and project budgets measured against the same takes."""
    lines = _lines(team, month)
    total = Tally()
    members: dict[int | None, Group] = {}
    for membership in team.memberships.select_related("user").order_by("user__name"):
        members[membership.user_id] = Group(str(membership.code), membership.user.display_name)
    projects = {
        p.pk: Group(p.code, p.name, detail="archived" if p.is_archived else "")
        for p in Project.objects.filter(team_id=team.pk).order_by("name")
    }
    last = min(month_after(month), timezone.localdate() + timedelta(days=1))
    days = {month + timedelta(days=n): Tally() for n in range(max(0, (last - month).days))}
    for line in lines:
        total.add(line)
        if line.member_id not in members:
            members[line.member_id] = Group("", line.member_name, detail="no longer in the team")
        members[line.member_id].tally.add(line)
        projects[line.project_id].tally.add(line)
        days.setdefault(line.created_at.date(), Tally()).add(line)
    _measure(team, month, members, projects)
    shown_projects = [
        p for p in projects.values() if not p.detail or p.tally.takes or p.budget is not None
    ]
    return Usage(
        team=team,
        month=month,
        lines=lines,
        total=total,
        members=_ranked(members.values()),
        projects=_ranked(shown_projects),
        days=sorted(days.items()),
    )


def _ranked(groups: Iterable[Group]) -> list[Group]:
    return sorted(groups, key=lambda g: (-g.tally.counted, -g.tally.takes, g.name.lower()))


def _measure(
    team: Team, month: date, members: dict[int | None, Group], projects: dict[int, Group]
) -> None:
    """Set each member's and project's budget, measured against its tally."""
    owners = owners_phrase(team)
    limits = dict(Membership.objects.filter(team_id=team.pk).values_list("user_id", "budget_usd"))
    for user_id, group in members.items():
        limit = limits.get(user_id) if user_id is not None else None
        if limit is not None and group.key:
            name = f"{group.name}'s monthly budget in {team.name}"
            group.budget = _budget("member", group.key, name, limit, group.tally, owners)
    project_limits = dict(Project.objects.filter(team_id=team.pk).values_list("pk", "budget_usd"))
    for pk, group in projects.items():
        limit = project_limits.get(pk)
        if limit is not None:
            name = f"the monthly budget of the project {group.name}"
            group.budget = _budget("project", group.key, name, limit, group.tally, owners)


def _budget(scope: str, key: str, name: str, limit: Decimal, tally: Tally, raise_by: str) -> Budget:
    return Budget(scope, key, name, limit, tally.counted, raise_by, tally.charged)


def team_budget_of(usage: Usage) -> Budget | None:
    """The team's own budget, measured against the month's takes; None without a limit."""
    team = usage.team
    if team.budget_usd is None:
        return None
    name = f"{team.name}'s monthly budget"
    return _budget("team", team.code, name, team.budget_usd, usage.total, owners_phrase(team))


def team_cap_of(usage: Usage, raise_by: str) -> Budget | None:
    """The administrator's cap on the team, measured against the month's takes."""
    team = usage.team
    if team.cap_usd is None:
        return None
    name = f"the monthly cap on {team.name}"
    return _budget("cap", team.code, name, team.cap_usd, usage.total, raise_by)


# -- the chart by day -----------------------------------------------------------------------
# The chart is two inline SVGs side by side: the scale, a fixed width, and the plot, as wide as
# the page allows. Across the plot, places are percentages of its width, so the bars fit any
# screen while text keeps its size; up it, places are pixels.
PLOT_HEIGHT, TOP, BOTTOM = 160, 10, 24
BAR_SHARE = 0.64  # of a day's slot; the rest is the gap between bars


@dataclass(frozen=True)
class Bar:
    day: date
    tally: Tally
    x: float  # percent of the plot's width
    width: float  # percent
    charged_y: float  # pixels from the top
    charged_height: float
    estimated_y: float
    estimated_height: float
    label: str  # the day number under the bar, or "" where there is no room

    @property
    def center(self) -> float:
        return round(self.x + self.width / 2, 3)


@dataclass(frozen=True)
class Chart:
    """A bar a day: charged spend below, estimates of takes not charged yet above."""

    top: int
    plot_height: int
    height: int
    scale_top: Decimal  # the amount at the top of the scale
    ticks: list[tuple[float, str]]  # (y, label) of the scale's lines
    bars: list[Bar]

    @property
    def baseline(self) -> int:
        return self.top + self.plot_height


def scale_top(amount: Decimal) -> Decimal:
    """A round amount at or above `amount` for the top of the scale: 1, 2, 2.5 or 5 times a
    power of ten."""
    if amount <= 0:
        return Decimal(1)
    power = Decimal(10) ** math.floor(math.log10(float(amount)))
    for step in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        if step * power >= amount:
            return step * power
    return 10 * power  # not reached: 10 times the power is always enough


def day_chart(usage: Usage) -> Chart:
    """The month's spend a day; the height of each bar's parts is its amount on the scale."""
    top_amount = scale_top(max((t.counted for _, t in usage.days), default=ZERO))
    slot = 100 / max(len(usage.days), 1)
    bars = []
    for n, (day, tally) in enumerate(usage.days):
        charged = float(tally.charged / top_amount) * PLOT_HEIGHT
        estimated = float(tally.estimated / top_amount) * PLOT_HEIGHT
        charged_y = TOP + PLOT_HEIGHT - charged
        bars.append(
            Bar(
                day=day,
                tally=tally,
                x=round(slot * (n + (1 - BAR_SHARE) / 2), 3),
                width=round(slot * BAR_SHARE, 3),
                charged_y=round(charged_y, 2),
                charged_height=round(charged, 2),
                estimated_y=round(charged_y - estimated, 2),
                estimated_height=round(estimated, 2),
                label=str(day.day) if day.day == 1 or day.day % 5 == 0 else "",
            )
        )
    ticks = [
        (TOP + PLOT_HEIGHT * (1 - share), f"{top_amount * Decimal(str(share)):.2f}")
        for share in (0, 0.5, 1)
    ]
    return Chart(
        top=TOP,
        plot_height=PLOT_HEIGHT,
        height=TOP + PLOT_HEIGHT + BOTTOM,
        scale_top=top_amount,
        ticks=ticks,
        bars=bars,
    )


# -- the CSV --------------------------------------------------------------------------------
CSV_HEADER = [
    "date",
    "member",
    "project",
    "take code",
    "provider",
    "state",
    "output seconds",
    "estimate (USD)",
    "charged (USD)",
    "counted (USD)",
    "basis",
    "charged over estimate (USD)",
]
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_rows(usage: Usage) -> Iterator[list[str]]:
    """The header, then one row per take of the month, oldest first."""
    yield CSV_HEADER
    for line in usage.lines:
        member = f"{line.member_name} ({line.member_email})" if line.member_email else ""
        yield [
            csv_cell(value)
            for value in (
                line.created_at.strftime("%Y-%m-%d %H:%M"),
                member or line.member_name,
                line.project_name,
                line.code,
                line.provider,
                line.state,
                f"{line.seconds:.1f}",
                f"{line.estimate:.4f}",
                "" if line.charged is None else f"{line.charged:.4f}",
                f"{line.counted:.4f}",
                line.basis,
                "" if line.charged is None else f"{line.overcharge:.4f}",
            )
        ]


def csv_filename(usage: Usage) -> str:
    return f"cutroom-usage-{usage.team.code}-{usage.month:%Y-%m}.csv"
