"""Budgets in a real browser: an owner sets the team's budget on the usage page, an editor's
take that would go over it is refused with the reason, a raised budget lets it through, and
the usage page shows the spend."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Page, expect

from studio.models import Project, Take, TakeState
from tests.conftest import client_for, upload_clip
from tests.e2e.conftest import make_take, shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PRICE = Decimal("0.4658")  # 4 s at 1080P


@pytest.fixture
def clip(team, alice, bob, samples, settings):
    # A paid provider, so takes cost money. Refusals happen at submission; a take that is
    # made stays queued, since no scheduler runs here to send it anywhere.
    settings.STUDIO_PROVIDER = "modellix"
    project = Project.objects.create(team=team, name="Ferry ad", created_by=alice)
    return upload_clip(client_for(bob), project, samples["long.mp4"], name="ferry.mp4")


@pytest.fixture
def bob_page(browser: Browser) -> Iterator[Page]:
    """The editor, in a browser of his own, so that both people stay signed in."""
    context = browser.new_context()
    errors: list[str] = []
    context.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield context.new_page()
    context.close()
    # The refused form comes back with status 400, which Chromium notes as a failed load.
    errors = [e for e in errors if "status of 400 (Bad Request)" not in e]
    assert errors == [], f"browser console errors: {errors}"


def set_team_budget(page: Page, amount: str) -> None:
    field = page.get_by_label("Monthly budget (USD)", exact=True)
    field.fill(amount)
    page.locator("#team-budget").get_by_role("button", name="Save").click()


def submit_take(page: Page, base: str, clip) -> None:
    page.goto(f"{base}/c/{clip.code}/edit/")
    page.get_by_label("Start at (seconds)").fill("0")
    page.get_by_label("Length (seconds)").fill("4")
    page.get_by_label("What should change?").fill("Turn the ferry into clay")
    page.get_by_label("Resolution").select_option("1080P")
    expect(page.locator("#cost")).to_have_text("about 0.47 USD (estimate) for 4.0 s at 1080P")
    page.get_by_role("button", name="Start the take").click()


def test_an_owners_budget_refuses_then_lets_through_an_editors_take(
    page: Page, bob_page: Page, live_server, clip, bob, console_errors
) -> None:
    base = live_server.url
    for _ in range(2):  # 0.93 USD already reserved this month
        make_take(
            clip.project,
            clip,
            bob,
            provider="modellix",
            estimate_usd=PRICE,
            reserved_usd=PRICE,
            state=TakeState.QUEUED,
        )

    # The owner finds the usage page in the navigation and sets the team's budget.
    sign_in(page, base, "alice@example.com")
    page.goto(f"{base}/t/{clip.project.team.code}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Usage").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Northwind Films: usage")
    set_team_budget(page, "1")
    expect(page.get_by_role("status").filter(has_text="is now")).to_contain_text(
        "Northwind Films's monthly budget is now 1.00 USD a month (was no limit)."
    )
    budget = page.locator("#team-budget")
    expect(budget).to_contain_text("93 % used (warning: 80 % or more) · 0.93 USD of 1.00 USD")
    expect(page.get_by_label("Monthly budget (USD)", exact=True)).to_have_value("1.00")

    # The editor is warned on the clip page, and the take that would go over is refused.
    sign_in(bob_page, base, "bob@example.com")
    bob_page.goto(f"{base}/c/{clip.code}/")
    expect(bob_page.locator("#budget-warnings")).to_contain_text(
        "Northwind Films's monthly budget is 93 % used: 0.07 USD left of 1.00 USD this month."
    )
    submit_take(bob_page, base, clip)
    refusal = bob_page.get_by_role("alert")
    expect(refusal).to_contain_text(
        "Not sent: this take would cost about 0.47 USD (estimate), but Northwind Films's "
        "monthly budget (1.00 USD) has 0.07 USD left this month (0.93 USD spent), so it would "
        "go over by "
        "0.40 USD. Nothing was sent or charged. An owner of Northwind Films (Alice) can raise it."
    )
    expect(bob_page.get_by_label("What should change?")).to_have_value("Turn the ferry into clay")
    assert Take.objects.count() == 2
    shot(bob_page, "budget-refused-take-form")

    # The owner raises it; the editor's take goes through.
    page.reload()
    set_team_budget(page, "5")
    expect(page.get_by_role("status").filter(has_text="is now")).to_contain_text(
        "is now 5.00 USD a month (was 1.00 USD a month)."
    )
    bob_page.get_by_role("button", name="Start the take").click()
    expect(bob_page.get_by_text("The take is queued.")).to_be_visible()
    assert Take.objects.count() == 3

    # The usage page shows the spend, for the editor too.
    bob_page.goto(f"{base}/t/{clip.project.team.code}/usage/")
    expect(bob_page.locator("#usage-total")).to_contain_text("Counted against budgets1.40 USD")
    bob_row = bob_page.locator("#by-member tr", has_text="Bob")
    expect(bob_row).to_contain_text("about 1.40 USD (estimate)")
    expect(bob_page.locator("#team-budget")).to_contain_text("27 % used · 1.40 USD of 5.00 USD")
    expect(bob_page.locator("#team-budget input")).to_have_count(0)  # editors cannot change it
    expect(bob_page.locator("svg.day-chart")).to_be_visible()
    history = page.goto(f"{base}/t/{clip.project.team.code}/activity/")
    assert history is not None
    expect(page.locator(".feed")).to_contain_text(
        re.compile(r"Alice\s+set Northwind Films's monthly budget to 5\.00 USD a month")
    )


def test_the_usage_page_at_three_widths(page: Page, live_server, clip, bob, console_errors):
    """Screenshots for review, with budgets in each state and a chart of several days."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import Membership

    team = clip.project.team
    team.budget_usd = Decimal("1.80")
    team.save()
    Membership.objects.filter(team=team, user=bob).update(budget_usd=Decimal("1.00"))
    Project.objects.filter(pk=clip.project.pk).update(budget_usd=Decimal("10.00"))
    Project.objects.create(team=team, name="Harbour night", created_by=bob)
    now = timezone.now()
    today = timezone.localdate().day
    for n, charged in enumerate(["0.4100", None, "0.2000", None]):
        take = make_take(
            clip.project,
            clip,
            bob,
            provider="modellix",
            estimate_usd=PRICE,
            reserved_usd=PRICE,
            charged_usd=charged,
            state=TakeState.SUCCEEDED if charged else TakeState.RUNNING,
        )
        days_back = min(n * 3, today - 1)
        Take.objects.filter(pk=take.pk).update(created_at=now - timedelta(days=days_back))
    make_take(clip.project, clip, clip.project.created_by, provider="local")
    sign_in(page, live_server.url, "alice@example.com")
    for width, height in ((1440, 900), (1024, 800), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/t/{team.code}/usage/")
        expect(page.locator("#budget-warnings")).to_be_visible()
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the page scrolls sideways at {width} px"
        shot(page, f"usage-{width}")
