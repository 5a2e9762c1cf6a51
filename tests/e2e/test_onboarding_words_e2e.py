"""What a new member reads: the roles on the members page, and the invitation they open."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_the_roles_say_what_each_may_do_and_the_invitation_names_whom_and_how(
    page: Page,
    browser: Browser,
    live_server,
    alice,
    team,
    owner_membership,
    width,
    height,
    console_errors,
    settings,
):
    settings.MAILERS = {"default": {"BACKEND": "accounts.mail.NoMailBackend"}}
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_server.url, alice.email)
    page.goto(f"{live_server.url}/t/{team.code}/members/")
    roles = page.locator("dl.role-words")
    expect(roles).to_contain_text("Viewers")
    viewers = roles.locator("dd").nth(2)
    expect(viewers).to_contain_text("comment at a frame (with drawings), reply")
    expect(viewers).to_contain_text("cannot upload, make takes, set review status")
    expect(page.get_by_text("only look")).to_have_count(0)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    page.get_by_label("Their e-mail address").fill("dave@example.com")
    page.get_by_label("Role", exact=True).select_option("viewer")
    page.get_by_role("button", name="Create invitation link").click()
    link = page.locator("#invite-url").input_value()
    expect(page.get_by_text("for dave@example.com")).to_be_visible()
    roles.scroll_into_view_if_needed()
    shot(page, f"members-roles-{width}")
    # The invitee, signed out, in a browser of their own.
    guest = browser.new_context(viewport={"width": width, "height": height})
    invited = guest.new_page()
    invited.goto(link)
    intro = invited.locator("main p").first
    expect(intro).to_have_text(
        re.compile(
            r"Alice\s+alice@example\.com invites dave@example\.com to join Northwind Films"
            r" as\s+viewer\."
        )
    )
    expect(invited.locator("#invite-role-words")).to_contain_text(
        "Viewers watch every project's clips, takes and cuts, comment at a frame"
    )
    assert invited.evaluate("() => document.documentElement.scrollWidth") <= width
    shot(invited, f"invitation-{width}")
    guest.close()
