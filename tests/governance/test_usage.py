"""The usage page, its CSV and the owners' budget forms: who sees and sets which budget, what
the sums count (charges, estimates, released, free), months, the chart, and warnings."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role
from studio.governance import budgets, usage
from studio.models import Activity, Project, Take, TakeState
from studio.takes.create import take_create
from studio.takes.parameters import EditParameters
from tests.conftest import client_for, clip_row, join, make_user, take_row

pytestmark = pytest.mark.django_db

PRICE = Decimal("0.4658")  # 4 s at 1080P


@pytest.fixture(autouse=True)
def _paid(settings):
    settings.STUDIO_PROVIDER = "modellix"


@pytest.fixture
def harbour(team, alice):
    return Project.objects.create(team=team, name="Harbour", created_by=alice)


@pytest.fixture
def clip(project):
    return clip_row(project)


def row(project, author, *, at=None, state=TakeState.QUEUED, reserved=None, charged=None, **fields):
    """A take row (tests/conftest.py's take_row), 4 s at 1080P on the paid provider unless
    `fields` say otherwise, made by `author` at `at`; `reserved` and `charged` set its money,
    else it holds what the services leave (a paid provider's reserves its estimate)."""
    fields = {"provider": "modellix", "length_ms": 4000} | fields
    if "estimate" in fields:
        fields["estimate_usd"] = Decimal(fields.pop("estimate"))
    if reserved is not None:
        fields["reserved_usd"] = reserved
    if charged is not None:
        fields["charged_usd"] = charged
    if at is not None:
        fields["created_at"] = at
    return take_row(project, state=state, created_by=author, **fields)


def last_month_day():
    start, _ = budgets.month_bounds(budgets.month_before(budgets.month_start()))
    return start + timedelta(days=2, hours=10)


def usage_url(team, month=None) -> str:
    url = reverse("team_usage", args=[team.code])
    return f"{url}?month={month:%Y-%m}" if month else url


def part(html: str, anchor: str, end: str = "</section>") -> str:
    """The inside of the element with id `anchor`, up to the next `end`."""
    return html.split(f'id="{anchor}"', 1)[1].split(">", 1)[1].split(end, 1)[0]


def text(html: str) -> str:
    """What a person reads: no tags, no entities, single spaces."""
    inline = re.sub(r"</?(strong|em|span|a)\b[^>]*>", "", html)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", inline)).split())


# -- access ---------------------------------------------------------------------------------
def test_outsiders_get_404_for_the_page_the_csv_and_every_budget_form(team, project, bob, dave):
    member = Membership.objects.get(team=team, user=bob)
    client = client_for(dave)
    assert client.get(usage_url(team)).status_code == 404
    assert client.get(reverse("team_usage_csv", args=[team.code])).status_code == 404
    posts = [
        reverse("team_budget", args=[team.code]),
        reverse("member_budget", args=[team.code, member.code]),
        reverse("project_budget", args=[project.code]),
    ]
    for url in posts:
        assert client.post(url, {"limit": "5"}).status_code == 404
    team.refresh_from_db()
    assert team.budget_usd is None


@pytest.mark.parametrize("who", ["bob", "carol"])
def test_editors_and_viewers_see_budgets_but_cannot_change_them(
    team, project, bob, carol, who, request
):
    team.budget_usd = Decimal("20")
    team.save()
    Membership.objects.filter(team=team, user=bob).update(budget_usd=Decimal("3"))
    user = request.getfixturevalue(who)
    client = client_for(user)
    page = client.get(usage_url(team))
    assert page.status_code == 200
    html = page.content.decode()
    assert "0 % used</strong> · 0.00 USD of 20.00 USD · 20.00 USD left" in html
    assert "0.00 USD of 3.00 USD" in text(part(html, "by-member"))
    assert 'name="limit"' not in html  # no form at all
    assert "Only an owner can change it." in html
    member = Membership.objects.get(team=team, user=bob)
    for url in (
        reverse("team_budget", args=[team.code]),
        reverse("member_budget", args=[team.code, member.code]),
        reverse("project_budget", args=[project.code]),
    ):
        assert client.post(url, {"limit": ""}).status_code == 403
    team.refresh_from_db()
    assert team.budget_usd == Decimal("20")
    assert not Activity.objects.filter(verb="budget").exists()


def test_the_team_page_the_nav_and_history_link_to_usage(team, as_alice):
    html = as_alice.get(reverse("team_detail", args=[team.code])).content.decode()
    assert html.count(f'href="{usage_url(team)}"') == 2  # nav and the page's button
    html = as_alice.get(reverse("team_activity", args=[team.code])).content.decode()
    assert f'href="{usage_url(team)}"' in html


def test_budget_posts_only_take_post(team, as_alice):
    assert as_alice.get(reverse("team_budget", args=[team.code])).status_code == 405


# -- owners set budgets ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("20", Decimal("20.00")),
        ("12.5", Decimal("12.50")),
        ("0", Decimal("0.00")),
        ("1,250.75", Decimal("1250.75")),
        ("$40", Decimal("40.00")),
        (" 40 USD ", Decimal("40.00")),
        ("25", Decimal("25.00")),
        ("25.50", Decimal("25.50")),
        ("1,000.00", Decimal("1000.00")),
        ("1 000", Decimal("1000.00")),
        ("12,345,678", Decimal("12345678.00")),
        (".5", Decimal("0.50")),
        ("", None),
    ],
)
def test_an_owner_sets_the_team_budget(team, as_alice, typed, stored):
    team.budget_usd = Decimal("7.00")
    team.save()
    answer = as_alice.post(reverse("team_budget", args=[team.code]), {"limit": typed})
    assert answer.status_code == 302
    assert answer.url == usage_url(team) + "#team-budgets"
    team.refresh_from_db()
    assert team.budget_usd == stored
    page = as_alice.get(answer.url).content.decode()
    words = "no limit" if stored is None else f"{stored:,.2f} USD a month"
    assert f"Northwind Films&#x27;s monthly budget is now {words}" in page  # confirmed
    logged = Activity.objects.get(team=team, verb="budget")
    assert logged.actor.email == "alice@example.com"
    assert logged.summary == (
        f"set Northwind Films's monthly budget to {words}"
        f"{' (no paid takes)' if stored == 0 else ''} (was 7.00 USD a month)"
    )


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("abc", "Write an amount in USD such as 25, 12.50 or 1,250.50, or leave it empty"),
        ("1e3", "Write an amount in USD"),
        ("NaN", "Write an amount in USD"),
        ("Infinity", "Write an amount in USD"),
        ("-5", "A budget cannot be below 0. Use 0 for no paid takes"),
        # What Python's Decimal() reads but no person means by a budget.
        ("-0", "Write the amount without a sign"),
        ("-0.00", "Write the amount without a sign"),
        ("+5", "Write the amount without a sign"),
        ("1_000", "Group thousands with commas (1,000), not underscores."),
        ("\uff11\uff10\uff10", "Type the digits 0 to 9 only."),  # full-width 100
        ("\u0661\u0662", "Type the digits 0 to 9 only."),  # Arabic-Indic 12
        ("1,00", "Commas group thousands in threes (1,250.50)"),
        ("1,0000", "Commas group thousands in threes"),
        ("12.5.1", "Write an amount in USD"),
        ("0x10", "Write an amount in USD"),
        (".", "Write an amount in USD"),
        ("12.345", "Use at most two decimals (whole cents), such as 12.50."),
        ("100000000", "A monthly budget is at most 99,999,999.99 USD."),
        ("1" + "0" * 400, "A monthly budget is at most 99,999,999.99 USD."),
    ],
)
def test_a_wrong_amount_is_refused_with_a_clear_message(team, as_alice, typed, message):
    answer = as_alice.post(reverse("team_budget", args=[team.code]), {"limit": typed})
    assert answer.status_code == 400
    html = answer.content.decode()
    error = html.split('id="budget-team-limit_error"', 1)[1].split("</ul>", 1)[0]
    assert message in error
    assert not re.search(r"\d{16,}", re.sub(r'value="[^"]*"', "", html))  # never echoed
    team.refresh_from_db()
    assert team.budget_usd is None
    assert not Activity.objects.filter(verb="budget").exists()


def test_the_same_amount_again_changes_nothing_and_logs_nothing(team, as_alice):
    url = reverse("team_budget", args=[team.code])
    as_alice.post(url, {"limit": "5"})
    answer = as_alice.post(url, {"limit": "5.00"}, follow=True)
    assert "Nothing changed: the budget was already that." in answer.content.decode()
    assert Activity.objects.filter(verb="budget").count() == 1


def test_a_budget_an_owner_sets_refuses_the_take_that_would_exceed_it(
    team, project, clip, bob, as_alice
):
    as_alice.post(reverse("team_budget", args=[team.code]), {"limit": "0.50"})
    team.refresh_from_db()
    parameters = EditParameters.of({"prompt": "clay", "resolution": "1080P"})
    take_create(project=project, author=bob, clip=clip, parameters=parameters, start=0, length=4)
    with pytest.raises(budgets.OverBudget) as refused:
        take_create(
            project=project, author=bob, clip=clip, parameters=parameters, start=0, length=4
        )
    assert refused.value.budget.scope == "team"


def test_an_owner_sets_a_members_budget_which_covers_only_that_member(
    team, project, clip, alice, bob, as_alice
):
    member = Membership.objects.get(team=team, user=bob)
    answer = as_alice.post(
        reverse("member_budget", args=[team.code, member.code]), {"limit": "0.50"}
    )
    assert answer.url == usage_url(team) + f"#member-{member.code}"
    member.refresh_from_db()
    assert member.budget_usd == Decimal("0.50")
    assert Activity.objects.get(verb="budget").summary == (
        "set Bob's monthly budget in Northwind Films to 0.50 USD a month (was no limit)"
    )
    parameters = EditParameters.of({"prompt": "clay", "resolution": "1080P"})
    make = {"project": project, "clip": clip, "parameters": parameters, "start": 0, "length": 4}
    take_create(author=bob, **make)
    with pytest.raises(budgets.OverBudget) as refused:
        take_create(author=bob, **make)
    assert "Bob's monthly budget in Northwind Films (0.50 USD)" in str(refused.value)
    take_create(author=alice, **make)  # alice has no budget of her own


def test_a_member_of_another_team_is_not_found(team, alice, dave, as_alice):
    from accounts.models import Team

    elsewhere = Team.objects.create(name="Elsewhere")
    other = join(dave, elsewhere, Role.EDITOR)
    url = reverse("member_budget", args=[team.code, other.code])
    assert as_alice.post(url, {"limit": "1"}).status_code == 404
    other.refresh_from_db()
    assert other.budget_usd is None


def test_the_project_budget_is_on_the_settings_page_for_owners(project, bob, as_alice):
    url = reverse("project_settings", args=[project.code])
    html = as_alice.get(url).content.decode()
    assert f'action="{reverse("project_budget", args=[project.code])}"' in html
    answer = as_alice.post(reverse("project_budget", args=[project.code]), {"limit": "2"})
    assert answer.url == url + "#budget"
    project.refresh_from_db()
    assert project.budget_usd == Decimal("2.00")
    assert Activity.objects.get(verb="budget").project == project
    row(project, bob)
    html = as_alice.get(url).content.decode()
    assert "23 % used</strong> · 0.47 USD of 2.00 USD · 1.53 USD left" in html
    # An editor sees it, with no form.
    html = client_for(bob).get(url).content.decode()
    assert "0.47 USD of 2.00 USD" in html
    assert 'name="limit"' not in html
    assert "Only an owner of Northwind Films can change it." in html


def test_a_wrong_project_budget_comes_back_to_the_page_it_was_sent_from(team, project, as_alice):
    url = reverse("project_budget", args=[project.code])
    answer = as_alice.post(url, {"limit": "-1"})
    assert answer.status_code == 400
    assert b"<h1>Project details</h1>" in answer.content
    assert b"A budget cannot be below 0" in answer.content
    answer = as_alice.post(url, {"limit": "x", "back": "usage"})
    assert answer.status_code == 400
    html = answer.content.decode()
    assert "Northwind Films: usage" in html
    assert "Write an amount in USD" in part(html, f"project-{project.code}", "</tr>")
    answer = as_alice.post(url, {"limit": "3", "back": "usage"})
    assert answer.url == usage_url(team) + f"#project-{project.code}"


# -- what the page counts -------------------------------------------------------------------
@pytest.fixture
def month_of_takes(team, project, harbour, alice, bob):
    """This month: a charged take, a take still estimated, a released one and a local one;
    last month: one charged take."""
    return {
        "charged": row(project, bob, charged=Decimal("0.2400"), state=TakeState.SUCCEEDED),
        "estimated": row(project, bob, state=TakeState.RUNNING),
        "released": row(harbour, alice, reserved=Decimal(0), state=TakeState.FAILED),
        "local": row(harbour, alice, provider="local", estimate="0.2822", length_ms=6000),
        "last_month": row(project, bob, charged=Decimal("1.0000"), at=last_month_day()),
    }


def test_the_sums_tell_charges_estimates_released_and_free_apart(team, month_of_takes, as_carol):
    found = usage.team_usage(team=team, month=budgets.month_start())
    total = found.total
    assert (total.takes, total.seconds, total.free, total.released) == (4, 18.0, 1, 1)
    assert (total.charged, total.estimated) == (Decimal("0.24"), PRICE)
    # What the page counts is what budgets hold, to the cent of a cent.
    this_month = budgets.takes_in_month(Take.objects.all(), budgets.month_start())
    assert total.counted == budgets.held(this_month) == Decimal("0.7058")

    html = as_carol.get(usage_url(team)).content.decode()
    figures = text(part(html, "usage-total", "</dl>"))
    assert figures == (
        "Takes 4 (1 on the local engine, free) Output 18 s Charged by the provider 0.24 USD "
        "Still estimated about 0.47 USD (estimate) Counted against budgets 0.71 USD"
    )
    assert "(1 take did this month)" in html  # released
    members = part(html, "by-member")
    bob_row = text(members.split('<th scope="row">Bob', 1)[1].split("</tr>", 1)[0])
    assert bob_row.startswith("2 8 s 0.24 USD about 0.47 USD (estimate)")
    alice_row = text(members.split('<th scope="row">Alice', 1)[1].split("</tr>", 1)[0])
    assert alice_row.startswith("2 (1 free) 10 s 0.00 USD 0.00 USD")
    projects = text(part(html, "by-project"))
    assert "Ferry 2 8 s 0.24 USD about 0.47 USD (estimate)" in projects
    assert "Harbour 2 (1 free) 10 s 0.00 USD 0.00 USD" in projects


def test_a_take_from_last_month_is_on_last_months_page_only(team, month_of_takes, as_bob):
    last = budgets.month_before(budgets.month_start())
    html = as_bob.get(usage_url(team)).content.decode()
    assert f'<option value="{last:%Y-%m}">' in html
    assert f'href="?month={last:%Y-%m}" rel="prev"' in html
    assert 'rel="next"' not in html  # nothing after this month
    page = as_bob.get(usage_url(team, last))
    assert page.context["usage"].total.takes == 1
    html = page.content.decode()
    figures = text(part(html, "usage-total", "</dl>"))
    assert "Takes 1 Output 4 s Charged by the provider 1.00 USD" in figures
    assert f'href="?month={budgets.month_start():%Y-%m}" rel="next"' in html
    assert "spend against today's limits" in text(html)
    # An owner changes budgets on this month's page only.
    owner = client_for(month_of_takes["charged"].project.created_by)
    assert 'name="limit"' not in owner.get(usage_url(team, last)).content.decode()


def test_earlier_months_with_takes_can_be_picked(team, project, bob, as_bob):
    long_ago = timezone.now() - timedelta(days=200)
    row(project, bob, at=long_ago, charged=Decimal("0.5"))
    months = usage.months_to_show(team)
    assert budgets.month_start(long_ago) in months
    assert months[:2] == [budgets.month_start(), budgets.month_before(budgets.month_start())]
    html = as_bob.get(usage_url(team, budgets.month_start(long_ago))).content.decode()
    assert "0.50 USD" in text(part(html, "usage-total", "</dl>"))


@pytest.mark.parametrize("month", ["2026-13", "26-01", "abc", "2026-1", "1999-12"])
def test_a_month_that_is_not_one_is_not_found(team, as_bob, month):
    assert as_bob.get(usage_url(team) + f"?month={month}").status_code == 404


def test_a_month_not_begun_is_not_found(team, as_bob):
    later = budgets.month_after(budgets.month_start())
    assert as_bob.get(usage_url(team, later)).status_code == 404


def test_the_instance_budget_is_shown_to_staff_only(team, project, alice, bob, settings):
    settings.INSTANCE_BUDGET_USD = Decimal("100")
    row(project, bob)
    alice.is_staff = False  # the first account administers; here she is a plain owner first
    alice.save()
    assert "instance-budget" not in client_for(alice).get(usage_url(team)).content.decode()
    alice.is_staff = True
    alice.save()
    html = client_for(alice).get(usage_url(team)).content.decode()
    assert "0.47 USD of 100.00 USD" in text(part(html, "instance-budget", "</li>"))


def test_the_cap_is_shown_with_who_can_raise_it(team, project, bob, as_bob):
    team.cap_usd = Decimal("1")
    team.save()
    row(project, bob)
    html = as_bob.get(usage_url(team)).content.decode()
    cap = text(part(html, "team-cap", "</li>"))
    assert "46 % used · 0.47 USD of 1.00 USD · 0.53 USD left" in cap
    assert "The administrator" in cap


def test_former_members_and_deleted_accounts_still_count(team, project, as_alice):
    erin = make_user("erin@example.com", "Erin")
    row(project, erin)  # made the take, then left the team
    row(project, None, charged=Decimal("0.1"))
    found = usage.team_usage(team=team, month=budgets.month_start())
    names = {(g.name, g.detail) for g in found.members if g.tally.takes}
    assert names == {
        ("Erin", "no longer in the team"),
        ("a deleted account", "no longer in the team"),
    }
    html = as_alice.get(usage_url(team)).content.decode()
    assert 'Erin <span class="muted small">(no longer in the team)</span>' in html


# -- the chart ------------------------------------------------------------------------------
def test_the_chart_has_a_bar_a_day_as_high_as_the_days_total(team, project, bob, as_bob):
    now = timezone.now()
    today = timezone.localdate()
    row(project, bob, charged=Decimal("0.3000"))
    row(project, bob)  # estimated: 0.4658
    if today.day > 1:  # an earlier day of this month
        row(project, bob, charged=Decimal("1.2000"), at=now - timedelta(days=1))
    html = as_bob.get(usage_url(team)).content.decode()
    chart = part(html, "by-day", "</figure>")
    scale = usage.scale_top(Decimal("1.2") if today.day > 1 else Decimal("0.7658"))
    assert f"on a scale up to {scale:.2f} USD" in chart
    days = re.findall(
        r'<g class="chart-day" data-day="([\d-]+)" data-charged="([\d.]+)" '
        r'data-estimated="([\d.]+)">(.*?)</g>',
        chart,
        re.S,
    )
    assert len(days) == today.day  # every day of the month so far
    totals = {d: (Decimal(c), Decimal(e)) for d, c, e, _ in days}
    assert totals[f"{today:%Y-%m-%d}"] == (Decimal("0.3"), PRICE)
    for _day, charged, estimated, bars in days:
        for kind, amount in (("charged", charged), ("estimated", estimated)):
            found = re.search(rf'class="chart-{kind}"[^>]* height="([\d.]+)"', bars)
            if Decimal(amount) == 0:
                assert found is None
            else:  # the bar's height is the amount on the scale of 160 units
                expected = float(Decimal(amount) / scale) * usage.PLOT_HEIGHT
                assert float(found.group(1)) == pytest.approx(expected, abs=0.01)
    # The same figures as a table, for those who do not see the chart.
    table = text(part(html, "day-table", "</table>"))
    assert "0.30 USD about 0.47 USD (estimate)" in table


def test_a_month_without_paid_takes_says_so_instead_of_drawing(team, harbour, alice, as_alice):
    row(harbour, alice, provider="local")
    html = as_alice.get(usage_url(team)).content.decode()
    assert "every take was free or gave its estimate back" in html
    assert 'class="day-chart"' not in html
    assert '<details class="day-table" open>' in html


def test_the_scale_is_a_round_amount():
    assert usage.scale_top(Decimal("0.4658")) == Decimal("0.5")
    assert usage.scale_top(Decimal("1.2")) == Decimal("2")
    assert usage.scale_top(Decimal("2.1")) == Decimal("2.5")
    assert usage.scale_top(Decimal("7")) == Decimal("10")
    assert usage.scale_top(Decimal("10")) == Decimal("10")
    assert usage.scale_top(Decimal("0")) == Decimal("1")


# -- the CSV --------------------------------------------------------------------------------
def test_the_csv_has_one_row_per_take_with_its_basis(team, month_of_takes, as_carol):
    answer = as_carol.get(reverse("team_usage_csv", args=[team.code]))
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    month = budgets.month_start()
    assert answer["Content-Disposition"] == (
        f'attachment; filename="cutroom-usage-{team.code}-{month:%Y-%m}.csv"'
    )
    rows = list(csv.reader(io.StringIO(answer.content.decode())))
    assert rows[0] == usage.CSV_HEADER
    # A code that starts with "-" is escaped too (see the next test).
    by_code = {r[3].removeprefix("'"): r for r in rows[1:]}
    assert len(by_code) == 4
    takes = month_of_takes
    charged = by_code[takes["charged"].code]
    assert charged[1:] == [
        "Bob (bob@example.com)",
        "Ferry",
        usage.csv_cell(takes["charged"].code),
        "modellix",
        "succeeded",
        "4.0",
        "0.4658",
        "0.2400",
        "0.2400",
        "charge",
        "0.0000",  # charged less than estimated: nothing over
    ]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", charged[0])
    assert by_code[takes["estimated"].code][-5:] == ["0.4658", "", "0.4658", "estimate", ""]
    assert by_code[takes["released"].code][-5:] == ["0.4658", "", "0.0000", "released", ""]
    assert by_code[takes["local"].code][-6:] == ["6.0", "0.0000", "", "0.0000", "free", ""]
    # Last month's page has last month's take.
    last = budgets.month_before(month)
    url = reverse("team_usage_csv", args=[team.code]) + f"?month={last:%Y-%m}"
    rows = list(csv.reader(io.StringIO(as_carol.get(url).content.decode())))
    assert [r[3] for r in rows[1:]] == [usage.csv_cell(takes["last_month"].code)]


def test_the_csv_cannot_carry_a_formula(team, as_alice):
    sneaky = Project.objects.create(team=team, name='=HYPERLINK("http://x","y")')
    for name in ("+1", "-2", "@SUM(A1)"):
        join(make_user(f"{name[1:3].lower() or 'x'}@example.com", name), team, Role.EDITOR)
    for user in team.members.all():
        row(sneaky, user)
    answer = as_alice.get(reverse("team_usage_csv", args=[team.code]))
    rows = list(csv.reader(io.StringIO(answer.content.decode())))
    cells = [cell for r in rows[1:] for cell in r]
    assert '\'=HYPERLINK("http://x","y")' in cells
    assert {c.split(" (")[0] for c in cells if "(" in c and "@example.com" in c} >= {
        "'+1",
        "'-2",
        "'@SUM(A1)",
    }
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]


def test_csv_cells_are_escaped_only_where_a_spreadsheet_would_run_them():
    assert usage.csv_cell("=1+1") == "'=1+1"
    assert usage.csv_cell("\t=1") == "'\t=1"
    assert usage.csv_cell("Ferry = boat") == "Ferry = boat"
    assert usage.csv_cell("0.4658") == "0.4658"
    assert usage.csv_cell(None) == ""


# -- warnings -------------------------------------------------------------------------------
def pages(team, project, clip) -> dict[str, str]:
    return {
        "take form": reverse("take_new", args=[clip.code]),
        "clip page": reverse("clip_detail", args=[clip.code]),
        "project page": reverse("project_detail", args=[project.code]),
        "usage page": usage_url(team),
    }


@pytest.mark.parametrize(("held", "warned"), [("0.79", False), ("0.80", True)])
def test_warnings_start_at_80_percent_on_the_pages_takes_are_sent_from(
    team, project, clip, bob, held, warned
):
    team.budget_usd = Decimal("1.00")
    team.save()
    row(project, bob, estimate=held)
    client = client_for(bob)
    for name, url in pages(team, project, clip).items():
        html = client.get(url).content.decode()
        assert ('id="budget-warnings"' in html) is warned, name
        if warned:
            warning = text(part(html, "budget-warnings", "</div>"))
            assert warning.startswith(
                "Northwind Films's monthly budget is 80 % used: 0.20 USD left of 1.00 USD this "
                "month. An owner of Northwind Films (Alice) can raise it."
            ), name


def test_a_used_up_budget_says_paid_takes_are_refused(team, project, clip, bob):
    Membership.objects.filter(team=team, user=bob).update(budget_usd=Decimal("0.40"))
    row(project, bob, charged=Decimal("0.45"))
    html = client_for(bob).get(reverse("take_new", args=[clip.code])).content.decode()
    warning = text(part(html, "budget-warnings", "</div>"))
    assert warning.startswith(
        "Bob's monthly budget in Northwind Films is used up: 0.45 USD of 0.40 USD this month, "
        "so paid takes are refused until it is raised or the month ends."
    )
    project.budget_usd = Decimal(0)
    project.save()
    html = client_for(bob).get(reverse("take_new", args=[clip.code])).content.decode()
    assert "The monthly budget of the project Ferry is 0.00 USD: no paid takes" in text(html)


def test_the_local_engine_shows_no_money_warnings(team, project, clip, bob, settings):
    settings.STUDIO_PROVIDER = "local"
    team.budget_usd = Decimal("0")
    team.save()
    for name, url in pages(team, project, clip).items():
        assert b'id="budget-warnings"' not in client_for(bob).get(url).content, name


# -- alert mails ----------------------------------------------------------------------------
@pytest.fixture
def mail_on(settings):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


def submit(project, clip, author):
    parameters = EditParameters.of({"prompt": "clay", "resolution": "1080P"})
    return take_create(
        project=project, author=author, clip=clip, parameters=parameters, start=0, length=4
    )


def queued_alerts():
    from django_q.models import OrmQ

    return [q.args() for q in OrmQ.objects.all() if q.func() == "studio.tasks.budget_alerts"]


def test_crossing_80_percent_queues_one_alert_mail_to_the_owners(
    team, project, clip, bob, mail_on, mailoutbox, django_capture_on_commit_callbacks
):
    from studio import tasks

    team.budget_usd = Decimal("1.00")
    team.save()
    with django_capture_on_commit_callbacks(execute=True):
        submit(project, clip, bob)  # 47 %: nothing to say
    assert queued_alerts() == []
    with django_capture_on_commit_callbacks(execute=True):
        submit(project, clip, bob)  # 93 %
    assert queued_alerts() == [(project.pk, bob.pk)]
    tasks.budget_alerts(project.pk, bob.pk)
    tasks.budget_alerts(project.pk, bob.pk)  # a second delivery of the task: no second mail
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["alice@example.com"]
    assert mail.subject == "Cutroom: Northwind Films's monthly budget is 93 % used"
    assert "Left: 0.07 USD" in mail.body
    assert "An owner of Northwind Films (Alice) can raise it." in mail.body
    assert f"/t/{team.code}/usage/" in mail.body
    # Used up later in the month: one more mail, once.
    team.budget_usd = Decimal("0.93")
    team.save()
    tasks.budget_alerts(project.pk, bob.pk)
    tasks.budget_alerts(project.pk, bob.pk)
    assert len(mailoutbox) == 2
    assert mailoutbox[1].subject == "Cutroom: Northwind Films's monthly budget is used up"


def test_without_mail_the_owners_inbox_still_hears_of_it(
    team, project, clip, alice, bob, settings, mailoutbox, django_capture_on_commit_callbacks
):
    from studio import tasks
    from studio.models import Notification

    settings.MAILERS = {"default": {"BACKEND": "accounts.mail.NoMailBackend"}}
    team.budget_usd = Decimal("0.50")
    team.save()
    with django_capture_on_commit_callbacks(execute=True):
        submit(project, clip, bob)
    assert queued_alerts() == [(project.pk, bob.pk)]
    tasks.budget_alerts(project.pk, bob.pk)
    tasks.budget_alerts(project.pk, bob.pk)  # delivered twice: still one item
    assert mailoutbox == []
    [item] = Notification.objects.all()
    assert (item.recipient, item.kind) == (alice, "budget")  # the owner only, not bob
    assert item.text == "Northwind Films's monthly budget is at 93 %."


def test_the_administrators_get_the_instance_budgets_alert(
    team, project, bob, dave, mail_on, mailoutbox, settings
):
    settings.INSTANCE_BUDGET_USD = Decimal("0.50")
    dave.is_staff = True
    dave.save()
    row(project, bob)
    assert budgets.budgets_alert(project=project, author=bob) == 1
    # Every administrator: alice (the first account) and dave.
    assert sorted(mailoutbox[0].to) == ["alice@example.com", "dave@example.com"]
    assert mailoutbox[0].subject == "Cutroom: This Cutroom's monthly budget is 93 % used"


class BrokenMail:
    """A mail server that is down."""

    def __init__(self, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("connection refused")


def test_a_mail_that_fails_is_tried_again_later_and_fails_nothing(
    team, project, bob, settings, mailoutbox
):
    from studio.models import BudgetAlert

    settings.MAILERS = {"default": {"BACKEND": "tests.governance.test_usage.BrokenMail"}}
    team.budget_usd = Decimal("0.50")
    team.save()
    row(project, bob)
    assert budgets.budgets_alert(project=project, author=bob) == 0
    assert not BudgetAlert.objects.exists()  # the claim was given back
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    assert budgets.budgets_alert(project=project, author=bob) == 1


def test_an_alert_another_worker_claimed_is_not_sent_again(team, project, bob, mail_on, mailoutbox):
    from studio.models import BudgetAlert

    team.budget_usd = Decimal("0.50")
    team.save()
    row(project, bob)  # 93 %
    BudgetAlert.objects.create(scope="team", key=team.code, month=budgets.month_start(), level=80)
    assert budgets.budgets_alert(project=project, author=bob) == 0
    assert mailoutbox == []
