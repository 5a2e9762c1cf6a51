"""The edit form's window picker on a desk and on a phone (issue 23, item 8): the clip's
filmstrip and a time ruler under the handles, a scale a finger can work with (handles 44 px,
at least 40 px a second, scrolling sideways), a handle dragged by touch, and "Next window",
which moves the part on and keeps every other choice of the form."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from studio.models import Project
from tests.conftest import client_for, upload_clip
from tests.e2e.conftest import SCREENSHOTS, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# What lies under the handles: the filmstrip's pictures inside the track, the ruler's labels
# below it.
UNDER = """() => {
  const track = document.getElementById('timeline').getBoundingClientRect();
  const tiles = [...document.querySelectorAll('#timeline .film-tile')];
  const marks = [...document.querySelectorAll('#timeline-ruler .ruler-mark')];
  return {
    track: track.toJSON(),
    tiles: tiles.map((t) => ({
      box: t.getBoundingClientRect().toJSON(),
      image: getComputedStyle(t).backgroundImage,
    })),
    marks: marks.map((m) => ({ text: m.textContent, box: m.getBoundingClientRect().toJSON() })),
    scroller: (({ scrollWidth, clientWidth }) => ({ scrollWidth, clientWidth }))(
      document.getElementById('timeline-scroll')),
    pageWidth: document.documentElement.scrollWidth,
  };
}"""


@pytest.fixture
def clip(team, alice, bob, samples):
    """A 12 s clip (its filmstrip made as the worker makes it)."""
    project = Project.objects.create(team=team, name="Ferry ad", created_by=alice)
    made = upload_clip(client_for(bob), project, samples["long.mp4"], name="ferry.mp4")
    assert made.filmstrip and made.filmstrip_tiles == 6
    return made


def shot(page: Page, name: str) -> None:
    """The screen around the picker as the person sees it (a full-page picture would resize the
    window, and a phone's with it)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#window-summary").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def touch_drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    """A finger pressed at `start`, moved to `end` and lifted (Chromium's touch input)."""
    cdp = page.context.new_cdp_session(page)
    points = [start, *((start[0] + (end[0] - start[0]) * k / 8, start[1]) for k in range(1, 9))]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [_at(start)]})
    for point in points[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [_at(point)]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def _at(point: tuple[float, float]) -> dict[str, float]:
    return {"x": point[0], "y": point[1]}


@pytest.mark.parametrize("width", [1440, 390])
def test_filmstrip_ruler_touch_and_next_window(
    browser: Browser, live_server, bob, clip, width
) -> None:
    phone = width < 700
    errors: list[str] = []
    context = browser.new_context(
        viewport={"width": width, "height": 900 if not phone else 844},
        has_touch=phone,
        is_mobile=phone,
    )
    context.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page = context.new_page()
        sign_in(page, live_server.url, bob.email)
        page.goto(f"{live_server.url}/c/{clip.code}/edit/")
        handle_in = page.get_by_role("slider", name="Start of the part")
        handle_out = page.get_by_role("slider", name="End of the part")
        expect(handle_out).to_have_attribute("aria-valuenow", "5.0")
        page.locator("#timeline-ruler .ruler-mark").first.wait_for()

        # The filmstrip's pictures lie in the track, under the handles; the ruler under them.
        seen = page.evaluate(UNDER)
        track = seen["track"]
        assert len(seen["tiles"]) >= 3, seen
        for tile in seen["tiles"]:
            assert "filmstrip" in tile["image"], tile
            assert tile["box"]["top"] >= track["top"] - 1, tile
            assert tile["box"]["bottom"] <= track["bottom"] + 1, tile
        labels = [mark["text"] for mark in seen["marks"]]
        assert labels[:2] == ["0:00", "0:01" if not phone else "0:02"], labels
        assert len(labels) >= 4, labels
        for mark in seen["marks"]:
            assert mark["box"]["top"] >= track["bottom"], mark
        for handle in (handle_in, handle_out):
            box = handle.bounding_box()
            assert box["width"] >= 44 and box["height"] >= 44, box
        assert seen["pageWidth"] <= width
        if phone:
            # At least 40 px a second: the 12 s strip is wider than the phone and scrolls.
            assert track["width"] / clip.duration >= 40, track
            assert seen["scroller"]["scrollWidth"] > seen["scroller"]["clientWidth"], seen
            grip = handle_out.bounding_box()
            y = grip["y"] + grip["height"] / 2
            x = grip["x"] + grip["width"] / 2
            touch_drag(page, (x, y), (x + track["width"] * 2 / clip.duration, y))
            expect(page.get_by_label("Length (seconds)")).to_have_value("7.0")
            expect(handle_out).to_have_attribute("aria-valuenow", "7.0")
        shot(page, f"window-picker-{width}")

        # Next window: the part that follows, the same length; the rest of the form kept.
        page.get_by_label("What should change?").fill("warm sunset")
        page.get_by_label("Seed").fill("410388421")
        page.get_by_label("Resolution").select_option("720P")
        old_end = float(handle_out.get_attribute("aria-valuenow"))
        length = float(page.get_by_label("Length (seconds)").input_value())
        page.get_by_role("button", name="Next window").click()
        expect(page.get_by_label("Start at (seconds)")).to_have_value(f"{old_end:.1f}")
        expect(page.get_by_label("Length (seconds)")).to_have_value(
            f"{min(length, 12.0 - old_end):.1f}"
        )
        expect(page.get_by_label("What should change?")).to_have_value("warm sunset")
        expect(page.get_by_label("Seed")).to_have_value("410388421")
        expect(page.get_by_label("Resolution")).to_have_value("720P")
        expect(handle_in).to_have_attribute("aria-valuenow", f"{old_end:.1f}")
        # At the clip's end there is no next window.
        if old_end + length < 12.0:
            page.get_by_role("button", name="Next window").click()
        expect(handle_out).to_have_attribute("aria-valuenow", "12.0")
        expect(page.get_by_role("button", name="Next window")).to_be_disabled()
        shot(page, f"window-picker-next-{width}")
    finally:
        context.close()
    assert errors == []
