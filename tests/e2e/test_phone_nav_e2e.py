"""On a phone the top navigation folds behind a Menu button; on a desktop it stays in the bar."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from accounts.models import Team
from tests.conftest import join
from tests.e2e.conftest import shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


def header_height(page: Page) -> float:
    box = page.locator("header.topbar").bounding_box()
    assert box is not None
    return box["height"]


@pytest.fixture
def second_team(alice, owner_membership) -> Team:
    other = Team.objects.create(name="Harbour Crew")
    join(alice, other, "editor")
    return other


def test_phone_menu_folds_and_opens_by_button_and_keyboard(
    page: Page, live_server, alice, team, second_team, console_errors
):
    sign_in(page, live_server.url, "alice@example.com")
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/t/{team.code}/")
    menu = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Main")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_have_attribute("aria-controls", "site-menu")
    expect(page.get_by_role("link", name="Takes")).to_be_hidden()
    assert header_height(page) <= 80
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    shot(page, "phone-menu-closed")

    # Mouse (a tap): the menu opens with every link and the team switcher.
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    for name in ("Projects", "Takes", "History", "Usage", "Members", "Teams", "Alice"):
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_label("Team")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    shot(page, "phone-menu-open")

    # Escape folds it and gives focus back to the button.
    page.get_by_label("Team").focus()
    page.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()
    expect(page.get_by_label("Team")).to_be_hidden()

    # Keyboard only: Tab reaches the button, Enter opens, Tab walks into the menu.
    page.goto(f"{live_server.url}/t/{team.code}/")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the brand
    page.keyboard.press("Tab")
    expect(menu).to_be_focused()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Team")).to_be_focused()
    page.keyboard.press("Tab")
    expect(nav.get_by_role("link", name="Projects")).to_be_focused()
    page.keyboard.press("Tab")
    expect(nav.get_by_role("link", name="Takes")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/gallery/$"))
    expect(page.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "false")
    page.get_by_role("button", name="Menu").press("Space")
    expect(nav.get_by_role("link", name="Takes")).to_have_attribute("aria-current", "page")

    # The team switcher works from the menu.
    page.get_by_label("Team").select_option(label="Harbour Crew")
    expect(page.get_by_role("heading", level=1)).to_have_text("Harbour Crew")

    # A tap outside the bar folds the menu.
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("heading", level=1).click()
    expect(page.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "false")


def test_desktop_bar_is_unchanged(page: Page, live_server, alice, team, owner_membership):
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, "alice@example.com")
    page.goto(f"{live_server.url}/t/{team.code}/")
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    nav = page.get_by_role("navigation", name="Main")
    for name in ("Projects", "Takes", "History", "Usage", "Members", "Teams"):
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(page.get_by_label("Team")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert header_height(page) <= 60  # one row, as before
    shot(page, "desktop-bar")


def test_without_javascript_the_phone_menu_stays_open(
    browser: Browser, live_server, alice, team, owner_membership
):
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("E-mail").fill("alice@example.com")
        page.get_by_label("Password").fill("correct horse battery staple")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        nav = page.get_by_role("navigation", name="Main")
        for name in ("Projects", "Takes", "History", "Usage", "Members", "Teams"):
            expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        expect(page.get_by_role("button", name="Switch")).to_be_visible()
        shot(page, "phone-menu-no-js")
    finally:
        context.close()
