"""The compare player's keys work anywhere on the take and share pages, except while typing."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from studio.models import Project
from studio.services import history
from tests.conftest import client_for, upload_clip
from tests.e2e.conftest import finish_take, make_take, shot, sign_in, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

READY = "() => [...document.querySelectorAll('[data-compare] video')].every(v => v.readyState >= 2)"
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
    _, token = history.share_create(
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
