"""Review links in a real browser: a guest with no account comments at a frame with a drawing,
the team sees it live marked as a guest's, replies reach the guest live, an editor hides a
comment, revoking the link stops commenting, a password link works once unlocked, and guests'
words stay text everywhere the team reads them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext, Page, expect

from studio.models import Comment, ShareLink
from studio.review import comments, shares
from tests.e2e.conftest import COMPARE_READY, shot, sign_in, wait_until
from tests.e2e.test_comments_e2e import DRAWN, at_frame, body_focus, open_take

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

READY = COMPARE_READY
CLOSED = "This link no longer takes comments"
POLL_MS = 4000  # the comment panel's time between looks (static/js/comments.js)


@pytest.fixture
def take(review_take):
    return review_take


def review_link(take: Any, bob: Any, **options: Any) -> str:
    _, token = shares.share_create(
        take=take,
        author=bob,
        days=7,
        allow_download=False,
        show_prompt=options.pop("show_prompt", True),
        allow_comments=True,
        **options,
    )
    return reverse("share_page", args=[token])


def open_review(page: Page, url: str) -> None:
    """The guest's page, ready: both videos decoded and the comment panel running."""
    if page.url != url:
        page.goto(url)
    wait_until(page, READY)
    wait_until(page, "() => !!document.querySelector('[data-comments][data-ready]')")
    page.evaluate(
        "() => document.querySelectorAll('[data-compare] video').forEach(v => v.muted = true)"
    )


def draw_rectangle(page: Page) -> None:
    box = page.locator("[data-comment-form]")
    box.get_by_role("button", name="Rectangle").click()
    box.get_by_role("button", name="Red").click()
    area = page.locator(".drawing-layer").bounding_box()
    assert area is not None
    page.mouse.move(area["x"] + area["width"] * 0.3, area["y"] + area["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(area["x"] + area["width"] * 0.6, area["y"] + area["height"] * 0.6, steps=5)
    page.mouse.up()
    expect(box.get_by_role("button", name="Undo")).to_be_enabled()


def guest_context(browser: Browser, errors: list[str]) -> BrowserContext:
    """A fresh browser with no account; it records console errors (a CSP violation is one)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return context


def test_a_guest_comments_and_the_team_sees_it_live(
    browser: Browser, page: Page, live_server, bob, take, console_errors
):
    # Bob makes a review link from the take page's share card, and keeps the page open.
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, bob.email)
    open_take(page, live_server.url, take)
    page.get_by_label("Allow comments (a review link)").check()
    page.get_by_role("button", name="Create share link").click()
    url = page.get_by_label("New share link").input_value()
    assert ShareLink.objects.get().allow_comments
    open_take(page, live_server.url, take)

    guest_errors: list[str] = []
    context = guest_context(browser, guest_errors)
    # The guest's page keeps time by Playwright's clock: it runs as the real one does, and the
    # end of the test moves it on past the panel's next look instead of waiting for it.
    context.clock.install()
    try:
        guest = context.new_page()
        open_review(guest, url)
        expect(guest.get_by_role("heading", name="Comments")).to_be_visible()

        # One second and five frames in: frame 30 at 25 fps. C opens the box there.
        body_focus(guest)
        guest.keyboard.press("l")
        at_frame(guest, 25)
        for _ in range(5):
            guest.keyboard.press(".")
        at_frame(guest, 30)
        guest.locator(".compare-b video").hover()
        body_focus(guest)
        guest.keyboard.press("c")
        box = guest.locator("[data-comment-form]")
        expect(box.get_by_label("Frame", exact=True)).to_have_value("30")
        expect(box.get_by_label("Your name")).to_have_value("")
        expect(box.get_by_label("Your name")).to_be_focused()
        draw_rectangle(guest)
        box.get_by_label("Your name").fill("Kim")
        box.get_by_label("Comment", exact=True).fill("The boat should be warmer")
        box.get_by_role("button", name="Post comment").click()
        mine = guest.locator(".thread").filter(has_text="The boat should be warmer")
        expect(mine).to_be_visible()
        expect(mine.locator(".comment-head").first).to_contain_text("Kim (guest)")
        for action in ("Hide", "Resolve", "Edit", "Delete"):
            expect(mine.get_by_role("button", name=action)).to_have_count(0)
        comment = Comment.objects.get()
        assert (comment.guest_name, comment.frame, comment.side) == ("Kim", 30, "after")
        assert comment.author is None and comment.drawing[0]["kind"] == "rect"

        # Bob's open take page shows it by itself, marked as a guest's, with its marker.
        arrived = page.locator(f"#c-{comment.code}")
        expect(arrived).to_contain_text("The boat should be warmer", timeout=15000)
        expect(arrived.locator(".badge-guest")).to_have_text("(guest)")
        expect(arrived.locator(".comment-head").first).to_contain_text("Kim (guest)")
        marker = page.get_by_role("button", name="Comment by Kim (guest) at 00:00:01:05")
        expect(marker).to_be_visible()
        marker.click()
        at_frame(page, 30)
        wait_until(page, DRAWN)

        # Bob replies; the reply reaches the guest's open page by itself.
        arrived.locator("summary", has_text="Reply").click()
        arrived.get_by_label("Reply to Kim (guest)").fill("Warmer it is, thanks")
        arrived.get_by_role("button", name="Post reply").click()
        expect(arrived.locator(".reply")).to_contain_text("Warmer it is")
        body_focus(guest)
        expect(mine.locator(".reply")).to_contain_text("Warmer it is, thanks", timeout=15000)

        # The guest answers: the name is asked once, and is already there.
        mine.locator("summary", has_text="Reply").click()
        expect(mine.get_by_label("Your name")).to_have_value("Kim")
        mine.get_by_label("Reply to Kim (guest)").fill("Lovely")
        mine.get_by_role("button", name="Post reply").click()
        expect(mine.locator(".reply")).to_have_count(2)
        expect(arrived.locator(".reply").nth(1)).to_contain_text("Lovely", timeout=15000)

        # Opened again at the start, the guest's marker brings both sides and the drawing back.
        guest.reload()
        open_review(guest, url)
        assert not guest.evaluate(DRAWN)
        guest.get_by_role("button", name="Comment by Kim (guest) at 00:00:01:05").click()
        at_frame(guest, 30)
        wait_until(guest, DRAWN)
        shot(guest, "review-guest-commented")

        # Bob hides the guest's comment: it goes from the guest's page at its next look.
        arrived.locator("article").first.get_by_role("button", name="Hide").click()
        expect(arrived.locator(".badge-hidden").first).to_be_visible()
        body_focus(guest)
        expect(guest.locator(".thread")).to_have_count(0, timeout=15000)
        expect(guest.get_by_role("button", name=re.compile("^Comment by Kim"))).to_have_count(0)

        # Bob revokes the link: the guest's next comment is refused, and the page stops asking.
        # (Chromium logs the 404 answers that say so; nothing else may go wrong.)
        assert guest_errors == []
        page.reload()
        page.get_by_role("button", name="Revoke").click()
        expect(page.get_by_text("The share link no longer works.")).to_be_visible()
        polls: list[str] = []
        guest.on("request", lambda r: polls.append(r.url) if "/comments/" in r.url else None)
        guest.get_by_role("button", name="Comment at this frame").first.click()
        expect(box.get_by_label("Your name")).to_have_value("Kim")
        box.get_by_label("Comment", exact=True).fill("One more thing")
        box.get_by_role("button", name="Post comment").click()
        expect(box.locator("[data-comment-error]")).to_contain_text(CLOSED)
        wait_until(guest, "() => document.querySelector('[data-comments]').dataset.closed")
        asked = len(polls)
        guest.clock.run_for(POLL_MS + 1000)  # every timer due in that time fires now
        guest.evaluate("() => 0")  # a look it started would have been sent before this answer
        assert len(polls) == asked, polls[asked:]
        assert Comment.objects.filter(body="One more thing").count() == 0
    finally:
        context.close()
    assert all("status of 404" in e for e in guest_errors), guest_errors


def test_guest_names_and_bodies_stay_text_everywhere(
    browser: Browser, page: Page, live_server, bob, take, console_errors
):
    name = '<img src=x onerror="alert(1)">'
    body = "<script>alert(2)</script><img src=x onerror=alert(3)> @Bob look"
    url = live_server.url + review_link(take, bob)
    dialogs: list[str] = []
    sign_in(page, live_server.url, bob.email)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_take(page, live_server.url, take)

    guest_errors: list[str] = []
    context = guest_context(browser, guest_errors)
    try:
        guest = context.new_page()
        guest.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        open_review(guest, url)
        guest.get_by_role("button", name="Comment at this frame").first.click()
        box = guest.locator("[data-comment-form]")
        box.get_by_label("Your name").fill(name)
        box.get_by_label("Comment", exact=True).fill(body)
        box.get_by_role("button", name="Post comment").click()
        expect(guest.locator(".thread .comment-body")).to_have_text(body)
        expect(guest.locator(".thread .comment-who")).to_have_text(name)
        inert(guest)
        guest.reload()
        open_review(guest, url)
        expect(guest.locator(".thread .comment-body")).to_have_text(body)
        inert(guest)
    finally:
        context.close()
    assert guest_errors == []

    # The team: the take page (live, then loaded), the history and bob's inbox (his link and
    # his take: the guest's words reach him, as text; the guest's @Bob mentions nobody).
    expect(page.locator(".thread .comment-body")).to_have_text(body, timeout=15000)
    inert(page)
    for path in (f"/k/{take.code}/", reverse("team_activity", args=[take.project.team.code])):
        page.goto(live_server.url + path)
        expect(page.get_by_text(re.compile(re.escape(name))).first).to_be_visible()
        inert(page)
    expect(page.get_by_text(re.compile(r"\(guest <img src=x")).first).to_be_visible()
    page.goto(live_server.url + "/inbox/")
    expect(page.locator(".inbox-item").first).to_contain_text(name)
    inert(page)
    expect(page.locator(".inbox-item[data-kind=mention]")).to_have_count(0)
    assert dialogs == []


def inert(page: Page) -> None:
    """No element was made from a guest's words: no stray image, no script that alerts."""
    made = page.evaluate(
        """() => ({
          images: document.querySelectorAll('img[src="x"], [onerror]').length,
          scripts: [...document.scripts].filter((s) => s.textContent.includes('alert')).length,
        })"""
    )
    assert made == {"images": 0, "scripts": 0}, made


def test_a_password_review_link_takes_comments_once_unlocked(
    browser: Browser, live_server, bob, take
):
    url = live_server.url + review_link(take, bob, password="open sesame 1")
    errors: list[str] = []
    context = guest_context(browser, errors)
    try:
        guest = context.new_page()
        guest.goto(url)
        expect(guest.get_by_role("heading", level=1)).to_have_text("This video is protected")
        expect(guest.locator("[data-comments]")).to_have_count(0)
        guest.get_by_label("Password").fill("open sesame 1")
        guest.get_by_role("button", name="Watch").click()
        open_review(guest, url)
        guest.get_by_role("button", name="Comment at this frame").first.click()
        box = guest.locator("[data-comment-form]")
        box.get_by_label("Your name").fill("Ola")
        box.get_by_label("Comment", exact=True).fill("Great opening shot")
        box.get_by_role("button", name="Post comment").click()
        expect(guest.locator(".thread")).to_contain_text("Great opening shot")
        assert Comment.objects.get().share_link.password_hash
    finally:
        context.close()
    assert errors == []


@pytest.mark.parametrize(
    ("name", "width", "height"), [("1440", 1440, 900), ("1024", 1024, 768), ("390", 390, 844)]
)
def test_the_review_page_at_every_width(
    browser: Browser, live_server, alice, bob, take, name, width, height
):
    boat = comments.comment_create(
        take=take,
        author=bob,
        body="Is the boat warm enough now?",
        frame=40,
        drawing=[
            {"kind": "rect", "colour": "yellow", "points": [[0.15, 0.2], [0.55, 0.75]]},
            {"kind": "arrow", "colour": "red", "points": [[0.9, 0.1], [0.58, 0.42]]},
        ],
    )
    comments.comment_create(take=take, guest_name="Kim Lee", body="Yes, much better", parent=boat)
    comments.comment_create(
        take=take, guest_name="Kim Lee", body="The horizon tilts a little here", frame=12
    )
    url = live_server.url + review_link(take, bob, show_prompt=False)
    errors: list[str] = []
    context = guest_context(browser, errors)
    try:
        guest = context.new_page()
        guest.set_viewport_size({"width": width, "height": height})
        open_review(guest, url)
        expect(guest.locator(".comment-marker")).to_have_count(2)
        expect(guest.get_by_text("Clay harbour")).to_have_count(0)  # the prompt is not shown
        guest.get_by_role("button", name="Comment by Bob at 00:00:01:15").click()
        at_frame(guest, 40)
        wait_until(guest, DRAWN)
        assert guest.evaluate("document.documentElement.scrollWidth") <= width
        shot(guest, f"review-guest-{name}")
        guest.get_by_role("button", name="Comment at this frame").first.click()
        box = guest.locator("[data-comment-form]")
        expect(box.get_by_label("Your name")).to_be_visible()
        expect(box.get_by_role("button", name="Freehand")).to_be_visible()
        assert guest.evaluate("document.documentElement.scrollWidth") <= width
        shot(guest, f"review-guest-box-{name}")
    finally:
        context.close()
    assert errors == []
