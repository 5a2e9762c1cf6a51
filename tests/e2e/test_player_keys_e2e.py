"""The players' keys work anywhere on the take and share pages, except while typing; and every
player (compare, grid, clip page, comment box) steps to the same frame."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from studio.models import Project, TakeState
from studio.review import shares
from tests.conftest import client_for, upload_clip
from tests.e2e.conftest import (
    COMPARE_READY,
    REVIEW_FPS,
    finish_take,
    make_take,
    shot,
    sign_in,
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

READY = COMPARE_READY
TIMES = "() => [...document.querySelectorAll('[data-compare] video')].map(v => v.currentTime)"
PLAYING = "() => [...document.querySelectorAll('[data-compare] video')].map(v => !v.paused)"
# Both videos have finished seeking and show a frame.
SETTLED = (
    "[...document.querySelectorAll('[data-compare] video')]"
    ".every(v => !v.seeking && v.readyState >= 2)"
)
A_TIME = "document.querySelector('[data-compare] video').currentTime"
FPS = 12  # long.mp4's frame rate: frame steps follow the clip, not an assumed 30


@pytest.fixture
def take(team, alice, bob, samples, tmp_path):
    project = Project.objects.create(team=team, name="Keys", created_by=alice)
    clip = upload_clip(client_for(bob), project, samples["long.mp4"], name="harbour.mp4")
    return finish_take(make_take(project, clip, bob, prompt="cool winter"), tmp_path)


def ready(page: Page) -> None:
    wait_until(page, READY)
    page.evaluate(
        "() => document.querySelectorAll('[data-compare] video').forEach(v => v.muted = true)"
    )


def focus_body(page: Page) -> None:
    page.evaluate("() => document.activeElement?.blur()")
    assert page.evaluate("() => document.activeElement === document.body")


def play_pause_step_and_wipe(page: Page) -> None:
    """With focus on the page itself: Space plays and pauses, → steps both videos, W wipes."""
    player = page.locator("[data-compare]")
    focus_body(page)
    page.keyboard.press("Space")
    wait_until(
        page, "() => [...document.querySelectorAll('[data-compare] video')].every(v => !v.paused)"
    )
    expect(player.get_by_role("button", name="Pause")).to_be_visible()
    wait_until(page, f"() => {A_TIME} > 0")  # it really plays
    page.keyboard.press("Space")
    wait_until(
        page, "() => [...document.querySelectorAll('[data-compare] video')].every(v => v.paused)"
    )
    expect(player.get_by_role("button", name="Play")).to_be_visible()
    wait_until(page, f"() => {SETTLED}")
    before = page.evaluate(TIMES)
    page.keyboard.press("ArrowRight")
    wait_until(page, f"() => {SETTLED} && {A_TIME} !== {before[0]}")
    after = page.evaluate(TIMES)
    # One frame of the clip on, landing in the middle of it on both sides.
    assert int(after[0] * FPS) == int(before[0] * FPS + 0.001) + 1
    assert after[0] * FPS % 1 == pytest.approx(0.5, abs=0.01)
    assert after[1] == pytest.approx(after[0], abs=1 / FPS)
    page.keyboard.press("ArrowLeft")
    wait_until(page, f"() => {SETTLED} && {A_TIME} !== {after[0]}")
    assert int(page.evaluate(TIMES)[0] * FPS) == int(before[0] * FPS + 0.001)
    expect(player).to_have_attribute("data-mode", "side")
    page.keyboard.press("w")
    expect(player).to_have_attribute("data-mode", "wipe")
    expect(page.get_by_role("slider", name="Wipe divider")).to_be_visible()
    page.keyboard.press("Shift+W")
    expect(player).to_have_attribute("data-mode", "side")


def test_keys_work_with_focus_on_the_take_page(page: Page, live_server, bob, take, console_errors):
    sign_in(page, live_server.url, "bob@example.com")
    page.goto(f"{live_server.url}/k/{take.code}/")
    ready(page)
    play_pause_step_and_wipe(page)

    # The wipe divider keeps its own arrows: they move it and do not step the videos.
    player = page.locator("[data-compare]")
    page.keyboard.press("w")
    handle = page.get_by_role("slider", name="Wipe divider")
    handle.focus()
    before = page.evaluate(TIMES)
    page.keyboard.press("ArrowRight")
    expect(handle).to_have_attribute("aria-valuenow", "55")
    # A frame step would have set the videos' time in the same keydown that moved the divider
    # (static/js/compare.js steps synchronously), so there is nothing more to wait for.
    assert page.evaluate(TIMES) == before
    page.keyboard.press("w")
    expect(player).to_have_attribute("data-mode", "side")

    # Typing in the notes types; nothing in the player moves.
    notes = page.get_by_label("Notes")
    notes.click()
    notes.press_sequentially("w ")
    page.keyboard.press("ArrowLeft")
    expect(notes).to_have_value("w ")
    expect(player).to_have_attribute("data-mode", "side")
    assert page.evaluate(PLAYING) == [False, False]
    assert page.evaluate(TIMES) == before
    page.get_by_label("Title").fill("Space w f")
    expect(player).to_have_attribute("data-mode", "side")
    assert page.evaluate(PLAYING) == [False, False]

    # Space on a focused button presses that button, once: it is not also a play/pause key.
    star = page.get_by_role("button", name="Add to favourites")
    star.focus()
    page.keyboard.press("Space")
    expect(page.get_by_role("button", name="★ Favourite")).to_be_visible()
    assert page.evaluate(PLAYING) == [False, False]
    play = player.get_by_role("button", name="Play")
    play.focus()
    page.keyboard.press("Space")
    expect(player.get_by_role("button", name="Pause")).to_be_visible()
    wait_until(page, "() => !document.querySelector('[data-compare] video').paused")
    shot(page, "take-keys")


def test_keys_work_on_the_share_page(browser: Browser, live_server, bob, take):
    _, token = shares.share_create(
        take=take, author=bob, days=7, allow_download=False, show_prompt=True
    )
    stranger = browser.new_context()
    try:
        page = stranger.new_page()
        page.goto(f"{live_server.url}/s/{token}/")
        ready(page)
        play_pause_step_and_wipe(page)
    finally:
        stranger.close()


# Timeline time of every video of the page's player (a grid's source cell plays from its offset).
PLAYER_TIMES = """(selector) => [...document.querySelectorAll(selector)]
  .map(v => v.currentTime - Number(v.dataset.offset || 0))"""
SETTLED_IN = """(selector) => [...document.querySelectorAll(selector)]
  .every(v => v.readyState >= 2 && v.paused && !v.seeking)"""


def step_to_frame_31(page: Page, videos: str, back_button: bool) -> None:
    """From frame 0: seven frames on, a second on, one frame back (a button, where there is one)."""
    wait_until(page, f"() => ({SETTLED_IN})({videos!r})")
    focus_body(page)
    for _ in range(7):
        page.keyboard.press(".")
    page.keyboard.press("l")
    if back_button:
        page.get_by_role("button", name="One frame back").click()
    else:
        page.keyboard.press(",")
    # Every video lands in the middle of frame 31 of the clip's 25 a second: 1.26 s.
    middle = 31.5 / REVIEW_FPS
    wait_until(
        page,
        f"() => ({SETTLED_IN})({videos!r})"
        f" && ({PLAYER_TIMES})({videos!r}).every(t => Math.abs(t - {middle}) < 0.001)",
    )
    for time in page.evaluate(PLAYER_TIMES, videos):
        assert int(time * REVIEW_FPS) == 31
        assert time * REVIEW_FPS % 1 == pytest.approx(0.5, abs=0.01)


def comment_box_at_frame_31(page: Page) -> None:
    focus_body(page)
    page.keyboard.press("c")
    box = page.locator("[data-comment-form]")
    expect(box.get_by_label("Frame", exact=True)).to_have_value("31")
    expect(box.locator("[data-box-timecode]")).to_have_text("00:00:01:06")


def test_every_player_steps_to_the_same_frame(
    page: Page, live_server, bob, review_take, console_errors
):
    """The compare, the grid, the clip page and the comment box count frames one way: the same
    keys and buttons from the start land in the middle of the same frame of the clip."""
    take = review_take
    other = make_take(
        take.project,
        take.clip,
        bob,
        seed=2,
        state=TakeState.SUCCEEDED,
        input_clip=take.input_clip,
        result=take.result.name,
        result_poster=take.result_poster.name,
        result_duration=take.result_duration,
    )
    sign_in(page, live_server.url, bob.email)

    page.goto(f"{live_server.url}/k/{take.code}/")
    wait_until(page, "() => !!document.querySelector('[data-comments][data-ready]')")
    ready(page)
    step_to_frame_31(page, "[data-compare] video", back_button=True)
    comment_box_at_frame_31(page)

    grid = reverse("clip_grid", args=[take.clip.code])
    page.goto(f"{live_server.url}{grid}?take={take.code}&take={other.code}")
    expect(page.locator("video[data-grid-video]")).to_have_count(3)  # the source and two
    wait_until(page, "() => document.querySelector('[data-grid]').dataset.ready === 'true'")
    step_to_frame_31(page, "video[data-grid-video]", back_button=True)
    expect(page.locator("[data-grid] [data-time]")).to_have_text(re.compile(r" · frame 31$"))

    page.goto(f"{live_server.url}/c/{take.clip.code}/")
    wait_until(page, "() => !!document.querySelector('[data-comments][data-ready]')")
    wait_until(page, "() => document.querySelector('#player').dataset.ready === 'true'")
    step_to_frame_31(page, "#clip-video", back_button=False)
    comment_box_at_frame_31(page)
