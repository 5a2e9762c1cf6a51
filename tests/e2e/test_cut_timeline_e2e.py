"""A cut's timeline in a real browser: the filmstrip behind the track, windows trimmed and moved
with the mouse, the keyboard and a finger, snapping to frames and shot cuts, stopping at their
neighbours, and a refusal shown in the server's words with the window put back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from studio.cuts import services
from studio.models import CutWindow, Project, TakeState
from studio.takes.parameters import EditParameters
from tests.conftest import client_for, upload_clip
from tests.e2e.conftest import check_axe, make_take, shot, sign_in, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
DURATION = 10.0  # samples' shots-close-cuts.mp4: 25 fps, hard cuts at 2.0, 2.6, 5.04, 8.0 s


@pytest.fixture
def cut(team, alice, bob, samples):
    project = Project.objects.create(team=team, name="Ferry ad", created_by=alice)
    clip = upload_clip(client_for(bob), project, samples["shots-close-cuts.mp4"], name="ferry.mp4")
    assert clip.filmstrip and clip.filmstrip_tiles == 5
    made = services.cut_create(clip=clip, author=bob, name="Clay version")
    services.window_add(cut=made, start=0.0, end=3.0)
    services.window_add(cut=made, start=6.0, end=9.0)
    return made


def span(window_number: int, cut) -> tuple[float, float]:
    window = list(cut.windows.order_by("start"))[window_number - 1]
    return window.start, window.end


def x_of(page: Page, seconds: float) -> float:
    track = page.locator("#cut-track").bounding_box()
    return track["x"] + track["width"] * seconds / DURATION


def drag(page: Page, handle: Locator, by_seconds: float, *, label: str = "") -> None:
    """Drag a handle by its middle, with the mouse, by `by_seconds` along the track; with
    `label`, check the window's length label says it before letting go."""
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + (x_of(page, by_seconds) - x_of(page, 0)), y, steps=10)
    if label:
        expect(page.locator(".cut-window.is-editing .cut-window-length")).to_have_text(label)
        shot(page, "cut-timeline-dragging")
    page.mouse.up()


def on_frame(seconds: float) -> bool:
    return abs(seconds * 25 - round(seconds * 25)) < 1e-6


def test_windows_are_trimmed_moved_and_refused_with_the_mouse_and_keys(
    page: Page, live_server, cut, bob, console_errors
) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, "bob@example.com")
    page.goto(f"{live_server.url}/x/{cut.code}/")
    status = page.locator("#cut-timeline-status")
    # The filmstrip: its tiles sit behind the track, cut from the one sprite the server sends.
    expect(page.locator(".cut-film-tile").first).to_be_attached()
    sprite = page.evaluate(
        "async () => { const d = document.getElementById('cut-timeline').dataset;"
        " const r = await fetch(d.filmstrip); return [r.status, r.headers.get('content-type')]; }"
    )
    assert sprite == [200, "image/jpeg"]
    positions = page.locator(".cut-film-tile").evaluate_all(
        "(tiles) => tiles.map((t) => t.style.backgroundPosition)"
    )
    assert len(set(positions)) == 5  # every picture of the 10 s clip is shown
    shot(page, "cut-timeline-desktop")

    # The start edge of window 1 cannot make it shorter than 2 s.
    first_end = page.get_by_role("slider", name="End of window 1")
    drag(
        page,
        page.get_by_role("slider", name="Start of window 1"),
        2.5,
        label="2.00 s · 2 s at least",
    )
    expect(status).to_contain_text("Window moved to 0:01.00–0:03.00")
    drag(page, page.get_by_role("slider", name="Start of window 1"), -1.0)
    expect(status).to_contain_text("Window moved to 0:00.00–0:03.00")
    # The end edge of window 1, dragged 1.5 s later: on a frame, and the table says so.
    drag(page, first_end, 1.5)
    expect(status).to_contain_text("Window moved to 0:00.00–0:04.")
    start, end = span(1, cut)
    assert start == 0.0 and end == pytest.approx(4.5, abs=0.1) and on_frame(end)
    expect(page.locator("#window-1")).to_contain_text("0:04.")
    # A few pixels from the shot cut at 5.04 s, the edge lands on it.
    drag(page, first_end, 5.0 - end)
    expect(status).to_contain_text("Window moved to 0:00.00–0:05.04")
    assert span(1, cut) == (0.0, 5.04)

    # Window 2's body dragged 2 s to the left stops at window 1's end, keeping its length,
    # and says so while it is dragged.
    drag(
        page,
        page.get_by_role("slider", name="Window 2", exact=True),
        -2.0,
        label="3.00 s · next to a window",
    )
    expect(status).to_contain_text("Window moved to 0:05.04–0:08.04")
    assert span(2, cut) == (5.04, 8.04)

    # The keyboard: a frame, a second (put back with Escape), Enter saves; ] trims the end.
    body = page.get_by_role("slider", name="Window 2", exact=True)
    body.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(body).to_have_attribute(
        "aria-valuetext",
        "0:05.12 to 0:08.12, 3.00 s; no takes; not saved yet: Enter saves, Escape puts it back",
    )
    page.keyboard.press("Shift+ArrowRight")
    expect(body).to_have_attribute("aria-valuenow", "6.12")
    page.keyboard.press("Escape")
    expect(status).to_contain_text("Window 2 put back at 0:05.04–0:08.04")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    expect(status).to_contain_text("Window moved to 0:05.12–0:08.12")
    assert span(2, cut) == (5.12, 8.12)
    page.keyboard.press("]")
    end_edge = page.get_by_role("slider", name="End of window 2")
    expect(end_edge).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(end_edge).to_have_attribute("aria-valuetext", "0:08.08; window 2 2.96 s")
    page.keyboard.press("Enter")
    expect(status).to_contain_text("Window moved to 0:05.12–0:08.08")
    assert span(2, cut) == (5.12, 8.08)
    page.keyboard.press("Shift+Tab")  # back to the window from its end edge
    expect(body).to_be_focused()

    # Window 2 gets a take (its request: 4.12-9.08 s). Moving it past what the take covers is
    # refused by the server: its reason is shown and the window goes back.
    (window,) = [w for w in cut.windows.all() if w.start == 5.12]
    services.cut_takes_create(
        cut=cut, author=bob, parameters=EditParameters(prompt="clay"), windows=[window]
    )
    drag(page, body, 1.5)
    expect(status).to_contain_text("would have no edit there")
    expect(status).to_contain_text("Window 2 is back at 0:05.12–0:08.08")
    expect(status).to_have_class("cut-timeline-status is-error")
    expect(body).to_have_attribute("aria-valuenow", "5.12")
    assert span(2, cut) == (5.12, 8.08)
    # The browser logs the refusal's HTTP 400 itself; nothing else was logged.
    assert [e for e in console_errors if "400 (Bad Request)" not in e] == []
    console_errors.clear()
    # Inside what its take covers, it still moves.
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Enter")
    expect(status).to_contain_text("Window moved to 0:06.12–0:09.08")
    shot(page, "cut-timeline-desktop-edited")

    page.set_viewport_size({"width": 820, "height": 1180})
    page.reload()
    expect(page.locator(".cut-film-tile").first).to_be_attached()
    shot(page, "cut-timeline-tablet")


@pytest.fixture
def phone(browser: Browser) -> Iterator[tuple[BrowserContext, list[str]]]:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    errors: list[str] = []
    context.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield context, errors
    context.close()
    assert errors == [], f"browser console errors: {errors}"


def touch_drag(page: Page, cdp, from_x: float, to_x: float, y: float) -> None:
    """A finger's drag, as the phone's touchscreen sends it (real touch events: the page's
    touch-action decides what scrolls)."""
    cdp.send(
        "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": from_x, "y": y}]}
    )
    for step in range(1, 11):
        x = from_x + (to_x - from_x) * step / 10
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]}
        )
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_a_window_is_drawn_and_moved_with_a_finger_on_a_phone(live_server, cut, phone) -> None:
    context, _ = phone
    page = context.new_page()
    sign_in(page, live_server.url, "bob@example.com")
    page.goto(f"{live_server.url}/x/{cut.code}/")
    expect(page.locator(".cut-film-tile").first).to_be_attached()
    page.locator("#cut-track").scroll_into_view_if_needed()
    shot(page, "cut-timeline-phone")
    status = page.locator("#cut-timeline-status")
    cdp = context.new_cdp_session(page)
    track = page.locator("#cut-track").bounding_box()
    y = track["y"] + track["height"] / 2

    # A tap selects a window (its body takes the focus); nothing moves.
    body = page.get_by_role("slider", name="Window 1", exact=True)
    box = body.bounding_box()
    page.touchscreen.tap(box["x"] + box["width"] / 2, y)
    expect(body).to_be_focused()
    assert span(1, cut) == (0.0, 3.0)

    # A finger along the empty track between the windows draws a new one.
    touch_drag(page, cdp, x_of(page, 3.3), x_of(page, 5.7), y)
    expect(status).to_contain_text("Window added at 0:03.")
    added = CutWindow.objects.get(cut=cut, start__gt=3.0, end__lt=6.0)
    assert on_frame(added.start) and on_frame(added.end) and 2.0 <= added.length <= 2.6
    expect(page.locator(".cut-window")).to_have_count(3)
    expect(page.get_by_role("slider", name="Window 2", exact=True)).to_be_focused()
    expect(page.locator("#window-3")).to_be_attached()  # the table has the new row

    # Too short a stroke is not sent: the rule is shown.
    touch_drag(page, cdp, x_of(page, 9.5), x_of(page, 9.95), y)
    expect(status).to_contain_text("A window is 2 to 10 seconds long")
    assert cut.windows.count() == 3

    # The last window's body, dragged right by a finger, stops at the clip's end.
    third = page.get_by_role("slider", name="Window 3", exact=True)
    box = third.bounding_box()
    middle = box["x"] + box["width"] / 2
    touch_drag(page, cdp, middle, middle + (x_of(page, 2.0) - x_of(page, 0)), y)
    expect(status).to_contain_text("Window moved to 0:07.00–0:10.00")
    wait_until(page, "() => !document.querySelector('.cut-window.is-saving')")
    shot(page, "cut-timeline-phone-edited")


def test_the_timeline_passes_axe_while_a_window_is_edited(
    axe_context: BrowserContext, live_server, cut
) -> None:
    page = axe_context.new_page()
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, "bob@example.com")
    page.goto(f"{live_server.url}/x/{cut.code}/")
    body = page.get_by_role("slider", name="Window 1", exact=True)
    body.focus()
    page.keyboard.press("Shift+ArrowRight")  # a change not saved yet
    expect(page.locator(".cut-window.is-editing")).to_have_count(1)
    check_axe(page, "cut timeline, a window being moved")
    page.keyboard.press("End")  # stops at window 2: a limit, said in the live region
    expect(page.locator("#cut-timeline-status")).to_contain_text("next to a window")
    page.keyboard.press("Enter")
    expect(page.locator("#cut-timeline-status")).to_contain_text("Window moved to 0:03.00–0:06.00")
    check_axe(page, "cut timeline, a window moved")


def test_a_windows_colour_and_sound_are_saved_in_place(
    page: Page, live_server, cut, bob, console_errors
) -> None:
    first, second = cut.windows.order_by("start")
    with_sound = make_take(
        cut.project,
        cut.clip,
        bob,
        state=TakeState.SUCCEEDED,
        window=first,
        start_ms=0,
        length_ms=4000,
        result_has_audio=True,
    )
    services.window_choose(window=first, take=with_sound)
    kept_source = make_take(
        cut.project,
        cut.clip,
        bob,
        state=TakeState.SUCCEEDED,
        window=second,
        start_ms=5000,
        length_ms=5000,
        audio_setting="origin",
        result_has_audio=True,
    )
    services.window_choose(window=second, take=kept_source)
    sign_in(page, live_server.url, "bob@example.com")
    page.goto(f"{live_server.url}/x/{cut.code}/")
    page.evaluate("() => { window.cutroomMarker = 'same page'; }")
    row = page.locator("#window-1")
    row.get_by_label("Match colour to the source").check()
    row.get_by_label("Use the take's sound").check()
    row.get_by_role("button", name="Save for window 1").click()
    expect(row.get_by_role("status")).to_contain_text(
        "colour matched to the source, the take's sound"
    )
    assert page.evaluate("() => window.cutroomMarker") == "same page"
    first.refresh_from_db()
    assert first.colour_match and first.take_sound
    # The second window's take kept the source's sound: its box is off, and says why.
    other = page.locator("#window-2")
    expect(other.get_by_label("Use the take's sound")).to_be_disabled()
    expect(other).to_contain_text("kept the source's sound")
    # The version stack on the timeline: one take each, chosen (green).
    expect(page.locator(".cut-window.cut-stack-chosen")).to_have_count(2)
    expect(page.get_by_role("slider", name="Window 1", exact=True)).to_have_attribute(
        "aria-valuetext", "0:00.00 to 0:03.00, 3.00 s; 1 take, one chosen"
    )
    shot(page, "cut-timeline-chosen-takes")
