"""The AI disclosure in a real browser (issue 24): a guest with no account sees in words, just
above the player, that a model made the video, on a share link and on a review link; a member
sees it on the take page; the link's unfurl title carries it. At the widths people use."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from studio.review import shares
from tests.e2e.conftest import shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WORDS = "Made with AI (wan2.7-videoedit)"
WIDTHS = {"desktop": 1440, "laptop": 1024, "phone": 390}


@pytest.fixture
def model_take(finished_take: Any) -> Any:
    """A finished take recorded as the model's (its pixels are the local engine's: the page
    only reads what the take says made it)."""
    finished_take.provider = "modellix"
    finished_take.title = "Clay harbour"
    finished_take.save(update_fields=["provider", "title"])
    return finished_take


def _link(take: Any, author: Any, *, comments: bool) -> str:
    _, token = shares.share_create(
        take=take,
        author=author,
        days=7,
        allow_download=True,
        show_prompt=False,
        allow_comments=comments,
    )
    return reverse("share_page", args=[token])


def disclosed_above_the_player(page: Page, width: int) -> None:
    """The words are shown (not hidden, not only a colour), in readable type, inside the
    window's width and just above the player."""
    line = page.locator("#disclosure")
    expect(line).to_be_visible()
    expect(line).to_contain_text(WORDS)
    size = line.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
    assert size >= 14, size
    box, player = line.bounding_box(), page.locator("[data-compare]").bounding_box()
    assert box and player
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
    gap = player["y"] - (box["y"] + box["height"])
    assert 0 <= gap <= 48, (box, player)


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_the_disclosure_is_in_words_on_share_review_and_take_pages(
    page: Page,
    live_server: Any,
    model_take: Any,
    bob: Any,
    carol: Any,
    width: int,
    console_errors: Any,
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    base = live_server.url
    name = {v: k for k, v in WIDTHS.items()}[width]
    # A plain share link, signed out: the page, its title and its unfurl say it.
    page.goto(base + _link(model_take, bob, comments=False))
    disclosed_above_the_player(page, width)
    expect(page).to_have_title(re.compile(r"^Clay harbour · Made with AI · Cutroom$"))
    og = page.locator('meta[property="og:title"]').get_attribute("content")
    assert og == "Clay harbour · Made with AI", og
    description = page.locator('meta[property="og:description"]').get_attribute("content")
    assert description and description.startswith(WORDS), description
    shot(page, f"disclosure-share-{name}")
    # A review link (guests comment): the same words.
    page.goto(base + _link(model_take, bob, comments=True))
    disclosed_above_the_player(page, width)
    assert page.locator('meta[property="og:title"]').get_attribute("content") == og
    shot(page, f"disclosure-review-{name}")
    # The take's own page, for a member.
    sign_in(page, base, "carol@example.com")
    page.goto(base + reverse("take_detail", args=[model_take.code]))
    disclosed_above_the_player(page, width)
    shot(page, f"disclosure-take-{name}")
