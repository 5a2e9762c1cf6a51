"""The edit form in a real browser: the window picker's handles and the estimate by the button."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from studio.models import Project, Take
from tests.conftest import client_for, upload_clip
from tests.e2e.conftest import shot, sign_in, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clip(team, alice, bob, samples):
    project = Project.objects.create(team=team, name="Ferry ad", created_by=alice)
    return upload_clip(client_for(bob), project, samples["long.mp4"], name="ferry.mp4")


def value(page: Page, label: str) -> float:
    return float(page.get_by_label(label).input_value())


def drag_to(page: Page, handle, seconds: float, clip_seconds: float) -> None:
    """Drag a handle by its middle to where `seconds` is on the timeline."""
    grip = handle.bounding_box()
    track = page.locator("#timeline").bounding_box()
    y = grip["y"] + grip["height"] / 2
    page.mouse.move(grip["x"] + grip["width"] / 2, y)
    page.mouse.down()
    target = track["x"] + track["width"] * seconds / clip_seconds
    page.mouse.move(target, y, steps=8)
    page.mouse.up()


def video_time(page: Page) -> float:
    return page.evaluate("() => document.getElementById('window-video').currentTime")


def test_window_handles_drag_and_keys(page: Page, live_server, clip, console_errors) -> None:
    sign_in(page, live_server.url, "bob@example.com")
    page.goto(f"{live_server.url}/c/{clip.code}/edit/")
    handle_in = page.get_by_role("slider", name="Start of the part")
    handle_out = page.get_by_role("slider", name="End of the part")
    expect(handle_in).to_have_attribute("aria-valuenow", "0.0")
    expect(handle_out).to_have_attribute("aria-valuenow", "5.0")
    expect(handle_out).to_have_attribute("aria-valuemax", "12.0")
    assert value(page, "Length (seconds)") == 5.0

    # Drag the out handle: the length field follows.
    drag_to(page, handle_out, 8.0, clip.duration)
    assert value(page, "Length (seconds)") == pytest.approx(8.0, abs=0.11)
    end = float(handle_out.get_attribute("aria-valuenow"))
    assert value(page, "Start at (seconds)") + value(page, "Length (seconds)") == pytest.approx(end)
    expect(page.locator("#window-summary")).to_contain_text(f"to {end:.1f} s")
    shot(page, "take-form-window-dragged")

    # The keyboard moves the in handle; the video seeks to the new start.
    handle_in.focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_label("Start at (seconds)")).to_have_value("0.1")
    page.keyboard.press("Shift+ArrowRight")
    expect(page.get_by_label("Start at (seconds)")).to_have_value("1.1")
    expect(handle_in).to_have_attribute("aria-valuenow", "1.1")
    wait_until(
        page, "() => Math.abs(document.getElementById('window-video').currentTime - 1.1) < 0.05"
    )
    # The out point stays where it was: the part got shorter.
    expect(handle_out).to_have_attribute("aria-valuenow", f"{end:.1f}")
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_label("Start at (seconds)")).to_have_value("1.0")
    page.keyboard.press("Home")
    expect(page.get_by_label("Start at (seconds)")).to_have_value("0.0")
    wait_until(page, "() => document.getElementById('window-video').currentTime < 0.05")

    # The 2-10 s rule: the in handle pushes the end along, never past the clip's end.
    page.keyboard.press("End")
    expect(page.get_by_label("Start at (seconds)")).to_have_value("10.0")
    expect(page.get_by_label("Length (seconds)")).to_have_value("2.0")
    expect(handle_out).to_have_attribute("aria-valuenow", "12.0")
    # The out handle pulls the start so the part is never longer than 10 s or shorter than 2 s.
    handle_out.focus()
    page.keyboard.press("Home")
    expect(page.get_by_label("Length (seconds)")).to_have_value("2.0")
    expect(page.get_by_label("Start at (seconds)")).to_have_value("0.0")
    page.keyboard.press("End")
    expect(page.get_by_label("Start at (seconds)")).to_have_value("2.0")
    expect(page.get_by_label("Length (seconds)")).to_have_value("10.0")
    drag_to(page, handle_out, 1.0, clip.duration)  # past the start: stops at 2 s long
    expect(page.get_by_label("Length (seconds)")).to_have_value("2.0")

    # Typing in the fields moves the handles.
    page.get_by_label("Start at (seconds)").fill("3.5")
    page.get_by_label("Length (seconds)").fill("4")
    expect(handle_in).to_have_attribute("aria-valuenow", "3.5")
    expect(handle_out).to_have_attribute("aria-valuenow", "7.5")
    wait_until(
        page, "() => Math.abs(document.getElementById('window-video').currentTime - 3.5) < 0.05"
    )

    # A press on the bar moves the nearer handle there.
    track = page.locator("#timeline").bounding_box()
    page.mouse.click(track["x"] + track["width"] * 9.5 / clip.duration, track["y"] + 5)
    assert float(handle_out.get_attribute("aria-valuenow")) == pytest.approx(9.5, abs=0.11)
    assert video_time(page) == pytest.approx(9.5, abs=0.2)

    # What the picker shows is what is submitted.
    start, length = value(page, "Start at (seconds)"), value(page, "Length (seconds)")
    page.get_by_label("What should change?").fill("warm sunset")
    page.get_by_role("button", name="Start the take").click()
    expect(page.locator("#take-status")).to_be_visible()
    take = Take.objects.get()
    assert (take.start_ms, take.length_ms) == (round(start * 1000), round(length * 1000))


FITS = """(select) => {
  const style = getComputedStyle(select);
  const pen = document.createElement("canvas").getContext("2d");
  pen.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const widest = Math.max(...[...select.options].map((o) => pen.measureText(o.text).width));
  const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return room - widest;
}"""


@pytest.mark.parametrize("width", [1440, 1024, 390])
def test_estimate_by_the_button_and_options_readable(
    page: Page, live_server, clip, width, console_errors, settings
) -> None:
    settings.STUDIO_PROVIDER = "modellix"  # a priced provider: the local engine is free
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_server.url, "bob@example.com")
    page.goto(f"{live_server.url}/c/{clip.code}/edit/")
    button = page.get_by_role("button", name="Start the take")
    cost = page.locator("#cost")
    expect(cost).to_contain_text("USD")
    # The estimate is on the button's row (or right under it on a phone) and describes it.
    button_box, cost_box = button.bounding_box(), cost.bounding_box()
    gap = cost_box["y"] - (button_box["y"] + button_box["height"])
    same_row = abs(
        (cost_box["y"] + cost_box["height"] / 2) - (button_box["y"] + button_box["height"] / 2)
    )
    assert same_row < 20 or 0 <= gap < 40, (button_box, cost_box)
    assert "cost" in (button.get_attribute("aria-describedby") or "")
    # It stays live.
    before = cost.inner_text()
    page.get_by_label("Resolution").select_option("720P")
    expect(cost).not_to_have_text(before)
    page.get_by_label("Output length").select_option("3")
    expect(cost).to_contain_text("3.0 s")
    # Every option of the output selects can be read in full (a small margin for the arrow).
    for label in ("Resolution", "Aspect ratio", "Output length", "Sound"):
        room = page.get_by_label(label).evaluate(FITS)
        assert room >= 20, f"{label} options are cut off at {width} px ({room:.0f} px)"
    # Nothing runs off the side of the page.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    page.get_by_label("Output length").scroll_into_view_if_needed()
    shot(page, f"take-form-{width}")
