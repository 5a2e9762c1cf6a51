"""Before pressing the button: whether a take, or a cut's windows, fit the budget that is left."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from studio.cuts import services
from studio.cuts.models import Cut
from studio.models import Project
from tests.conftest import take_row
from tests.e2e.conftest import shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def nearly_spent(settings, project, clip, bob):
    """The project's 1.00 USD budget with 0.55 USD held: 5 s fit at 720P (0.35), not at 1080P
    (0.58)."""
    settings.STUDIO_PROVIDER = "modellix"
    Project.objects.filter(pk=project.pk).update(budget_usd=Decimal("1.00"))
    # Running: its estimate is held, and no charge teaches the estimates another price.
    take_row(
        project, state="running", provider="modellix", estimate_usd=Decimal("0.55"), created_by=bob
    )
    return project


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_the_estimate_says_before_submitting_when_a_take_will_not_fit(
    page: Page, live_server, bob, clip, nearly_spent, width, height, console_errors
):
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_server.url, bob.email)
    page.goto(f"{live_server.url}/c/{clip.code}/edit/")
    fit = page.locator("#budget-fit")
    page.get_by_label("Resolution").select_option("720P")
    expect(fit).to_have_text(
        "Fits: the monthly budget of the project Ferry has 0.45 USD left this month."
    )
    page.get_by_label("Resolution").select_option("1080P")
    expect(fit).to_have_text(
        "Will not fit: the monthly budget of the project Ferry has 0.45 USD left this month, "
        "less than this take's estimate. Choose 720P or a shorter part, or ask an owner of "
        "Northwind Films (Alice) to raise it."
    )
    expect(fit).to_have_class("budget-fit budget-fit-over")
    # The line is beside the button it is about, and is read with it.
    button = page.get_by_role("button", name="Start the take")
    assert "budget-fit" in (button.get_attribute("aria-describedby") or "")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    fit.scroll_into_view_if_needed()
    shot(page, f"take-form-budget-fit-{width}")
    # Shorter, it fits again.
    page.get_by_label("Output length").select_option("3")
    expect(fit).to_contain_text("Fits:")


def test_the_cut_page_says_whether_the_ticked_windows_fit(
    page: Page, live_server, bob, clip, nearly_spent, console_errors
):
    cut = Cut.objects.create(project=nearly_spent, clip=clip, name="Night", created_by=bob)
    services.window_add(cut=cut, start=1.0, end=3.0)
    services.window_add(cut=cut, start=5.0, end=7.0)
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, bob.email)
    page.goto(f"{live_server.url}/x/{cut.code}/")
    fit = page.locator("#budget-fit")
    page.get_by_label("Resolution").select_option("1080P")
    expect(fit).to_contain_text("Will not fit: the monthly budget of the project Ferry has 0.45")
    expect(fit).to_contain_text("Tick fewer windows or choose 720P")
    # Each window goes with a second of source on each side: 4 s, 0.28 USD at 720P.
    page.get_by_role("checkbox", name=re.compile(r"^Window 2 ")).uncheck()
    page.get_by_label("Resolution").select_option("720P")
    expect(fit).to_contain_text("Fits:")
    fit.scroll_into_view_if_needed()
    shot(page, "cut-budget-fit-1440")
