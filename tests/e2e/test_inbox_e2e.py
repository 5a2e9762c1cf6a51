"""The inbox in a real browser: a guest's comment through a review link reaches the sharer's
inbox (the top bar's unread count, the item, Mark read), and "@" in a comment box lists the
members to mention, by keyboard (1440) and by touch (390)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from studio.models import Comment, Mention, Notification
from studio.review import shares
from tests.e2e.conftest import COMPARE_READY, open_menu, shot, sign_in, wait_until
from tests.e2e.test_comments_e2e import open_take

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def take(review_take):
    return review_take


def top_bar_inbox(page: Page) -> Any:
    return page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile("^Inbox")
    )


def panel_ready(page: Page) -> None:
    wait_until(page, COMPARE_READY)
    wait_until(page, "() => !!document.querySelector('[data-comments][data-ready]')")


@pytest.mark.parametrize("width", [1440, 390])
def test_a_guests_comment_reaches_the_sharers_inbox(
    browser: Browser, page: Page, live_server, alice, take, width: int, console_errors
):
    # alice shares a review link (bob made the take); a guest comments through it.
    _, token = shares.share_create(
        take=take,
        author=alice,
        days=7,
        allow_download=False,
        show_prompt=True,
        allow_comments=True,
    )
    guest = browser.new_context(viewport={"width": width, "height": 900})
    try:
        visitor = guest.new_page()
        visitor.goto(live_server.url + reverse("share_page", args=[token]))
        panel_ready(visitor)
        visitor.locator("#comments").get_by_role("button", name="Comment at this frame").click()
        box = visitor.locator("[data-comment-form]")
        box.get_by_label("Your name").fill("Kim")
        box.get_by_label("Comment", exact=True).fill("Could the sky be warmer?")
        box.get_by_role("button", name="Post comment").click()
        expect(
            visitor.locator(".thread").filter(has_text="Could the sky be warmer?")
        ).to_be_visible()
    finally:
        guest.close()

    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_server.url, alice.email)
    open_menu(page)
    link = top_bar_inbox(page)
    expect(link).to_have_text(re.compile(r"Inbox\s*1\s*unread"))
    link.click()
    expect(page.get_by_role("heading", name="Inbox", level=1)).to_be_visible()
    item = page.locator(".inbox-item").first
    expect(item).to_contain_text("Kim (guest) commented through your link on “Clay harbour”")
    expect(item).to_contain_text("Could the sky be warmer?")
    expect(item.locator(".badge-new")).to_have_text("Unread")
    shot(page, f"inbox-unread-{width}")
    item.get_by_role("button", name=re.compile("^Mark read")).click()
    expect(page.locator(".messages")).to_contain_text("Marked as read.")
    expect(page.locator(".inbox-item").first.locator(".badge-new")).to_have_count(0)
    open_menu(page)
    expect(top_bar_inbox(page)).to_have_text("Inbox")
    assert Notification.objects.get(recipient=alice).read_at is not None
    shot(page, f"inbox-read-{width}")


def combobox(page: Page) -> Any:
    return page.locator("[data-comment-form]").get_by_role("combobox", name="Comment")


def test_at_lists_the_members_by_keyboard(
    page: Page, live_server, bob, carol, take, console_errors
):
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, bob.email)
    open_take(page, live_server.url, take)
    page.locator("#comments").get_by_role("button", name="Comment at this frame").click()
    page.locator("[data-comment-form] textarea[name=body]").press_sequentially("Sky @")
    box = combobox(page)
    expect(box).to_have_attribute("aria-expanded", "true")
    listbox = page.get_by_role("listbox", name="Members to mention")
    options = listbox.get_by_role("option")
    expect(options).to_have_text(["Alice", "Bob", "Carol"])
    status = page.locator("[data-comment-form] [role=status]").last
    expect(status).to_contain_text("3 members to mention")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    box.press("ArrowDown")
    box.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", options.nth(2).get_attribute("id"))
    box.press("ArrowUp")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    box.press_sequentially("c")  # "@c": one left
    expect(options).to_have_text(["Carol"])
    expect(status).to_contain_text("1 member to mention")
    shot(page, "mention-list-1440")
    box.press("Enter")
    expect(box).to_have_value("Sky @Carol ")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(listbox).to_be_hidden()
    # Escape closes the list and leaves the comment box open.
    box.press_sequentially("and @a")
    expect(options).to_have_text(["Alice"])
    box.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_be_visible()
    box.fill("Sky @Carol please check")
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator(".thread").filter(has_text="please check")).to_be_visible()
    assert [m.user for m in Mention.objects.all()] == [carol]


def test_a_viewer_picks_a_member_by_touch(browser: Browser, live_server, bob, carol, take):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    errors: list[str] = []
    context.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        phone = context.new_page()
        sign_in(phone, live_server.url, carol.email)  # a viewer: she comments and mentions
        open_take(phone, live_server.url, take)
        phone.locator("#comments").get_by_role("button", name="Comment at this frame").click()
        phone.locator("[data-comment-form] textarea[name=body]").press_sequentially("@b")
        option = phone.get_by_role("option", name="Bob")
        expect(option).to_be_visible()
        shot(phone, "mention-list-390")
        option.tap()
        box = combobox(phone)
        expect(box).to_have_value("@Bob ")
        expect(box).to_be_focused()
        box.press_sequentially("the horizon tilts")
        phone.get_by_role("button", name="Post comment").click()
        expect(phone.locator(".thread").filter(has_text="the horizon tilts")).to_be_visible()
        comment = Comment.objects.get()
        assert [m.user for m in Mention.objects.filter(comment=comment)] == [bob]
        assert errors == []
    finally:
        context.close()
