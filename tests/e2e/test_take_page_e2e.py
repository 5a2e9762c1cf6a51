"""The take page as a person meets it: every control reachable at every width, a take that
finishes while the page is open, and the compare player's first frames."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from studio.models import Take, TakeState
from tests.e2e.conftest import shot, sign_in, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = [("desktop", 1440, 900), ("tablet", 1024, 768), ("phone", 390, 844)]

# Whether a mouse click at the middle of an element reaches that element and not something
# drawn over it; and whether the element lies inside its card.
REACHABLE = """(selector) => {
  const el = document.querySelector(selector);
  el.scrollIntoView({block: "center"});
  const box = el.getBoundingClientRect();
  const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  const card = el.closest(".card").getBoundingClientRect();
  return {
    hit: hit === el || el.contains(hit),
    inside: box.left >= card.left - 1 && box.right <= card.right + 1,
    width: box.width,
    labelHeight: document.querySelector(`label[for="${el.id}"]`).getBoundingClientRect().height,
  };
}"""


def second_take(first: Take, **fields) -> Take:
    """Another finished take of the same clip, sharing the first one's files."""
    return Take.objects.create(
        project=first.project,
        clip=first.clip,
        created_by=first.created_by,
        prompt=fields.pop("prompt", "warm sunset over the harbour, a long prompt " * 3),
        seed=fields.pop("seed", 2),
        start_ms=first.start_ms,
        length_ms=first.length_ms,
        provider="local",
        input_clip=first.input_clip,
        result=first.result.name,
        result_poster=first.result_poster.name,
        result_duration=4.0,
        resolution="720P",
        **fields,
        state=TakeState.SUCCEEDED,
    )


@pytest.mark.parametrize(("name", "width", "height"), WIDTHS)
def test_every_take_page_control_is_reachable(
    page: Page, live_server, bob, finished_take, name, width, height, console_errors
):
    other = second_take(finished_take)
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_server.url, bob.email)
    page.goto(f"{live_server.url}{reverse('take_detail', args=[finished_take.code])}")
    expect(page.get_by_role("heading", name="Share")).to_be_visible()
    for selector in ("#with", "#share-expires", "#share-password", "#take-title"):
        state = page.evaluate(REACHABLE, selector)
        assert state["hit"], f"{selector} is covered by something at {width} px"
        assert state["inside"], f"{selector} spills out of its card at {width} px"
        assert state["width"] > 120, f"{selector} is squeezed to {state['width']} px"
    # The label reads on one or two lines, not as a one-word column.
    assert page.evaluate(REACHABLE, "#with")["labelHeight"] < 50
    # Nothing on the page is wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"take-page-{name}")
    # A mouse (or finger) picks the other take and compares.
    page.get_by_label("Other take", exact=True).select_option(other.code)
    page.get_by_role("button", name="Compare", exact=True).click()
    expect(page).to_have_url(re.compile(rf"\?with={other.code}"))
    expect(page.get_by_role("heading", name="What changed between the two takes")).to_be_visible()


def test_a_take_that_finishes_while_open_shows_everything_without_a_reload(
    page: Page, live_server, bob, finished_take, console_errors
):
    sign_in(page, live_server.url, bob.email)
    page.goto(f"{live_server.url}{reverse('take_detail', args=[finished_take.code])}")
    page.get_by_role("button", name="Run again").click()
    expect(page.get_by_text("A new take with the same parameters is queued.")).to_be_visible()
    code = page.url.rstrip("/").split("/")[-1]
    expect(page.get_by_role("heading", name="Share")).to_have_count(0)
    page.evaluate("window.stillTheSamePage = true")
    # The worker (not running in this test) would do this; the page must notice by itself.
    Take.objects.filter(code=code).update(
        state=TakeState.SUCCEEDED,
        input_clip=finished_take.input_clip,
        result=finished_take.result.name,
        result_poster=finished_take.result_poster.name,
        result_duration=4.0,
    )
    expect(page.get_by_role("heading", name="Share")).to_be_visible(timeout=15000)
    expect(page.get_by_role("link", name="Download the result")).to_be_visible()
    expect(page.get_by_role("button", name="Export side-by-side")).to_be_visible()
    expect(page.get_by_role("button", name="Create share link")).to_be_enabled()
    expect(page.get_by_text("is queued")).to_have_count(0)
    assert page.evaluate("window.stillTheSamePage") is True
    # The swapped-in share form works.
    page.get_by_role("button", name="Create share link").click()
    expect(page.get_by_text("Share link created")).to_be_visible()


def test_before_and_after_show_the_same_first_frame(
    page: Page, live_server, bob, finished_take, console_errors
):
    Take.objects.filter(pk=finished_take.pk).update(result_duration=4.0)
    sign_in(page, live_server.url, bob.email)
    responses: list[int] = []
    page.on(
        "response",
        lambda r: responses.append(r.status) if "/media/" in r.url else None,
    )
    page.goto(f"{live_server.url}{reverse('take_detail', args=[finished_take.code])}")
    # The length is known before any video metadata arrives.
    html = page.content()
    assert "0.00 / 0.00" not in html
    assert re.search(r"0\.00 / 4\.00", html)
    videos = page.locator("[data-compare] video")
    for index in range(2):
        assert videos.nth(index).get_attribute("preload") == "metadata"
        assert videos.nth(index).get_attribute("poster") is None
    # Both sides show a decoded picture at 0 s, without pressing play.
    wait_until(
        page,
        "[...document.querySelectorAll('[data-compare] video')]"
        ".every(v => v.readyState >= 2 && v.currentTime === 0 && v.paused)",
    )
    expect(page.locator("[data-time]")).to_have_text(re.compile(r"^0\.00 / [34]\.\d\d$"))
    shot(page, "take-first-frames")


def test_variations_land_where_they_can_be_watched(
    page: Page, live_server, bob, finished_take, console_errors
):
    sign_in(page, live_server.url, bob.email)
    page.goto(f"{live_server.url}{reverse('take_detail', args=[finished_take.code])}")
    page.get_by_role("button", name=re.compile(r"^3 variations")).click()
    # The variation grid of the new set (tests/e2e/test_review_e2e.py approves from it).
    expect(page).to_have_url(re.compile(rf"/c/{finished_take.clip.code}/grid/\?batch="))
    cells = page.locator("li.vcell:not(.vcell-source)")
    expect(cells).to_have_count(3)
    expect(cells.get_by_text("Waiting for a free slot", exact=True)).to_have_count(6)
    # They update live on this page as they move on, and each links to its take page.
    code = Take.objects.exclude(pk=finished_take.pk).order_by("created_at").first().code
    Take.objects.filter(code=code).update(state=TakeState.RUNNING)
    expect(page.locator(f"#cell-{code}").get_by_text("Rendering", exact=True)).to_have_count(2)
    shot(page, "clip-variations")
    page.locator(f"#cell-{code}").get_by_role("link", name="Open v2").click()
    expect(page).to_have_url(re.compile(rf"/k/{code}/$"))
