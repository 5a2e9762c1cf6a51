"""A share link can be copied again after leaving the page, and its guest page names the team
that shared it (issue 23, item 5)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_a_share_link_is_copied_again_after_leaving_the_page(
    browser: Browser,
    page: Page,
    live_server,
    bob,
    team,
    finished_take,
    console_errors,
    width,
    height,
):
    page.set_viewport_size({"width": width, "height": height})
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    sign_in(page, live_server.url, bob.email)
    take_page = f"{live_server.url}{reverse('take_detail', args=[finished_take.code])}"
    page.goto(take_page)
    page.get_by_role("button", name="Create share link").click()
    made = page.get_by_label("New share link").input_value()
    assert "/s/" in made

    # Away and back: the link is still there to copy.
    page.goto(f"{live_server.url}{reverse('project_detail', args=[finished_take.project.code])}")
    page.goto(take_page)
    row = page.locator("li[data-share]")
    expect(row).to_have_count(1)
    link_input = row.get_by_role("textbox")
    expect(link_input).to_have_value(made)
    row.get_by_role("button", name="Copy the link").click()
    expect(row.get_by_role("status")).to_have_text("Link copied.")
    assert page.evaluate("navigator.clipboard.readText()") == made
    box = link_input.bounding_box()
    assert box is not None and box["x"] + box["width"] <= width  # fits on a phone
    row.scroll_into_view_if_needed()
    shot(page, f"share-card-copy-again-{width}")

    # A guest opens it in a fresh browser: the team's name, no way into Cutroom offered.
    stranger = browser.new_context(viewport={"width": width, "height": height})
    try:
        guest = stranger.new_page()
        guest.goto(made)
        topbar = guest.locator(".topbar")
        expect(topbar).to_contain_text(f"Shared by {team.name}")
        expect(topbar).to_contain_text(finished_take.project.name)
        expect(guest.get_by_role("link", name="How to join")).to_have_count(0)
        expect(guest.get_by_role("link", name="Sign in")).to_have_count(0)
        shot(guest, f"share-guest-{width}")
    finally:
        stranger.close()
