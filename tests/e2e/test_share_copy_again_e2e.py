"""A share link can be copied again after leaving the page, and its guest page names the team
that shared it (issue 23, item 5). One page serves both widths: the link is made at 1440 px and
copied again at 390 px after leaving, then at 1440 px."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = {1440: 900, 390: 844}


def copy_again(page: Page, take_page: str, away: str, made: str, width: int) -> None:
    """Leave the take page, come back, and copy the link from its Share card."""
    page.set_viewport_size({"width": width, "height": WIDTHS[width]})
    page.goto(away)
    page.goto(take_page)
    row = page.locator("li[data-share]")
    expect(row).to_have_count(1)
    link_input = row.get_by_role("textbox")
    expect(link_input).to_have_value(made)
    page.evaluate("navigator.clipboard.writeText('')")
    row.get_by_role("button", name="Copy the link").click()
    expect(row.get_by_role("status")).to_have_text("Link copied.")
    assert page.evaluate("navigator.clipboard.readText()") == made
    box = link_input.bounding_box()
    assert box is not None and box["x"] + box["width"] <= width  # it fits on a phone
    row.scroll_into_view_if_needed()
    shot(page, f"share-card-copy-again-{width}")


def test_a_share_link_is_copied_again_after_leaving_the_page(
    browser: Browser, page: Page, live_server, bob, team, finished_take, console_errors
):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, bob.email)
    take_page = f"{live_server.url}{reverse('take_detail', args=[finished_take.code])}"
    away = f"{live_server.url}{reverse('project_detail', args=[finished_take.project.code])}"
    page.goto(take_page)
    page.get_by_role("button", name="Create share link").click()
    made = page.get_by_label("New share link").input_value()
    assert "/s/" in made
    copy_again(page, take_page, away, made, 390)
    copy_again(page, take_page, away, made, 1440)

    # A guest opens it in a fresh browser: the team's name, no way into Cutroom offered.
    for width, height in WIDTHS.items():
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
