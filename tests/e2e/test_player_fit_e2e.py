"""Every player fits the screen whatever the clip's shape (issue 23, item 4): with a phone's 9:16
clip, the take page's compare, the clip page, a review link and the variation grid show Play and
the whole position bar on the first screen at 1440x900, 1024x768 and 390x844, the bar spans the
player and carries the comment markers, a phone starts the compare as a wipe, key hints show
only where there is a keyboard, and nothing runs off the side. A 16:9 take checks that the wide
shape lost nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext, Page, expect

from studio.models import Project
from studio.review import comments, shares
from tests.conftest import client_for, upload_clip
from tests.e2e.conftest import (
    COMPARE_READY,
    SCREENSHOTS,
    finish_take,
    make_take,
    sign_in,
    wait_until,
)
from tests.e2e.test_review_e2e import copy_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Where a player's controls are, as the person sees them at load (no scrolling).
FIT = """(selector) => {
  const root = document.querySelector(selector);
  const box = (el) => (el && el.checkVisibility() ? el.getBoundingClientRect().toJSON() : null);
  return {
    scrollY: window.scrollY,
    height: window.innerHeight,
    play: box(root.querySelector('[data-action=play]')),
    back: box(root.querySelector('[data-action=back]')),
    scrub: box(root.querySelector('[data-scrub]')),
    root: box(root),
    markers: [...root.querySelectorAll('.comment-marker')].map((m) => box(m)),
    scrollWidth: document.documentElement.scrollWidth,
  };
}"""
KEY_HINTS = (
    "() => [...document.querySelectorAll('.keys')].filter((p) => p.checkVisibility()).length"
)


def assert_fits(page: Page, selector: str, width: int, *, markers: int = 0) -> dict[str, Any]:
    """Play, a frame step and the whole position bar are on the first screen; the bar spans the
    player and the comment markers sit on it; nothing runs off the side."""
    seen = page.evaluate(FIT, selector)
    where = f"{selector} at {width} px on {page.url}: {seen}"
    assert seen["scrollY"] == 0, where
    for part in ("play", "back", "scrub"):
        assert seen[part] is not None, f"no visible {part}: {where}"
        assert seen[part]["bottom"] <= seen["height"], f"{part} below the fold: {where}"
        assert seen[part]["top"] >= 0, where
    assert seen["scrub"]["width"] >= 0.9 * seen["root"]["width"], f"short position bar: {where}"
    assert seen["scrollWidth"] <= width, f"runs off the side: {where}"
    assert len(seen["markers"]) == markers, where
    scrub = seen["scrub"]
    for marker in seen["markers"]:
        middle = marker["x"] + marker["width"] / 2
        assert scrub["x"] <= middle <= scrub["x"] + scrub["width"], f"marker off the bar: {where}"
        assert marker["top"] < scrub["bottom"] and marker["bottom"] > scrub["top"], (
            f"marker not on the bar: {where}"
        )
    return seen


def shot(page: Page, name: str) -> None:
    """The first screen as the person sees it (a full-page picture would change the window's
    height, and with it what fits)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def context_at(browser: Browser, width: int, height: int, errors: list[str]) -> BrowserContext:
    """A desktop browser, or at 390 px a phone (touch, no mouse): what a person would hold."""
    phone = width < 700
    context = browser.new_context(
        viewport={"width": width, "height": height}, has_touch=phone, is_mobile=phone
    )
    context.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return context


@pytest.fixture
def vertical_take(team, alice, bob, carol, samples, tmp_path):
    """A finished take of a phone's 9:16 clip, with comments on the take and on the clip."""
    project = Project.objects.create(team=team, name="Vertical", created_by=alice)
    clip = upload_clip(client_for(bob), project, samples["vertical.mp4"], name="phone.mp4")
    assert (clip.width, clip.height) == (144, 256)
    take = finish_take(make_take(project, clip, bob, prompt="Clay phone video"), tmp_path)
    assert take.result_height > take.result_width
    comments.comment_create(take=take, author=carol, body="Tilted here", frame=6, side="before")
    comments.comment_create(take=take, author=bob, body="Too dark at the end", frame=40)
    comments.comment_create(clip=clip, author=carol, body="Start later", frame=30, side="before")
    return take


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (1024, 768), (390, 844)])
def test_vertical_players_fit_the_screen(
    browser: Browser, live_server, bob, vertical_take, width, height
) -> None:
    take = vertical_take
    phone = width < 700
    errors: list[str] = []
    context = context_at(browser, width, height, errors)
    try:
        page = context.new_page()
        sign_in(page, live_server.url, bob.email)

        # The take page's compare: a wipe on a phone, side by side where there is room.
        page.goto(f"{live_server.url}/k/{take.code}/")
        wait_until(page, COMPARE_READY)
        expect(page.locator(".comment-marker")).to_have_count(2)
        mode = page.locator("[data-compare]").get_attribute("data-mode")
        assert mode == ("wipe" if phone else "side")
        assert_fits(page, "[data-compare]", width, markers=2)
        # Key hints where there is a keyboard; a phone shows none (and reads none aloud).
        hints = page.evaluate(KEY_HINTS)
        assert hints == 0 if phone else hints >= 1
        shot(page, f"fit-take-vertical-{width}")

        # The clip page: one video, the same controls, the clip's comment on its bar.
        page.goto(f"{live_server.url}/c/{take.clip.code}/")
        wait_until(page, "() => document.querySelector('#clip-video').readyState >= 1")
        expect(page.locator(".comment-marker")).to_have_count(1)
        assert_fits(page, "#player", width, markers=1)
        shot(page, f"fit-clip-vertical-{width}")

        # The variation grid: the source and two versions on one timeline.
        other = copy_of(take, seed=2)
        url = reverse("clip_grid", args=[take.clip.code])
        page.goto(f"{live_server.url}{url}?take={take.code}&take={other.code}")
        wait_until(page, "() => document.querySelector('[data-grid]').dataset.ready === 'true'")
        assert_fits(page, "[data-grid]", width)
        shot(page, f"fit-grid-vertical-{width}")

        # A review link, as a guest with no account sees it.
        _, token = shares.share_create(
            take=take, author=bob, days=7, allow_download=False, show_prompt=True,
            allow_comments=True,
        )  # fmt: skip
        context.clear_cookies()
        page.goto(f"{live_server.url}{reverse('share_page', args=[token])}")
        wait_until(page, COMPARE_READY)
        expect(page.locator(".comment-marker")).to_have_count(2)
        assert_fits(page, "[data-compare]", width, markers=2)
        shot(page, f"fit-review-vertical-{width}")
    finally:
        context.close()
    assert errors == []


def test_a_wide_take_still_fills_the_player(
    page: Page, live_server, bob, finished_take, console_errors
) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, bob.email)
    page.goto(f"{live_server.url}/k/{finished_take.code}/")
    wait_until(page, COMPARE_READY)
    seen = assert_fits(page, "[data-compare]", 1440)
    # Side by side, each 16:9 video takes its half of the player's width.
    for video in page.locator("[data-compare] video").all():
        box = video.bounding_box()
        assert box["width"] >= 0.45 * seen["root"]["width"]
        assert box["width"] / box["height"] == pytest.approx(16 / 9, rel=0.03)
    shot(page, "fit-take-wide-1440")
