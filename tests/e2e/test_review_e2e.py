"""Approvals and versions as a person meets them: "Variations" lands on the grid, the cells fill
in as their takes finish, one is approved from the grid and the take page and the stack say so;
the grid's cells play in sync; two versions ticked on the stack open in the compare; the take
page's review control; and screenshots of the stack and the grid at three widths."""

from __future__ import annotations

import math
import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from studio.models import Clip, ReviewStatus, Take, TakeState
from tests.e2e.conftest import finish_take, shot, sign_in, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = [("desktop", 1440, 900), ("tablet", 1024, 768), ("phone", 390, 844)]

# Timeline time of every cell that plays (the source cell plays the clip from its offset).
CELL_TIMES = """() => [...document.querySelectorAll('video[data-grid-video]')]
  .map(v => v.currentTime - Number(v.dataset.offset || 0))"""
COLUMNS = """() => new Set([...document.querySelectorAll('li.vcell')]
  .map(cell => Math.round(cell.getBoundingClientRect().left))).size"""
SPREAD = "Math.max(...t) - Math.min(...t)"
SETTLED = """() => [...document.querySelectorAll('video[data-grid-video]')]
  .every(v => v.paused && !v.seeking)"""
ALL_READY = """() => {
  const videos = [...document.querySelectorAll('video[data-grid-video]')];
  return videos.length > 0 && videos.every(v => v.readyState >= 2);
}"""


def spread(page: Page) -> float:
    times = page.evaluate(CELL_TIMES)
    return max(times) - min(times)


def copy_of(first: Take, **fields) -> Take:
    """Another finished take of the same clip and part, sharing the first one's files."""
    return Take.objects.create(
        project=first.project,
        clip=first.clip,
        created_by=first.created_by,
        prompt=first.prompt,
        start_ms=first.start_ms,
        length_ms=first.length_ms,
        provider="local",
        input_clip=first.input_clip,
        result=first.result.name,
        result_poster=first.result_poster.name,
        result_duration=first.result_duration,
        resolution=first.resolution,
        state=TakeState.SUCCEEDED,
        **fields,
    )


def test_approving_from_the_variation_grid(
    page: Page, live_server, bob, finished_take, tmp_path, console_errors
):
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, bob.email)
    page.goto(f"{live_server.url}{reverse('take_detail', args=[finished_take.code])}")
    # "Variations" (takes.take_variations on the local engine) lands on the new set's grid.
    page.get_by_role("button", name=re.compile(r"^3 variations")).click()
    clip = finished_take.clip
    expect(page).to_have_url(re.compile(rf"/c/{clip.code}/grid/\?batch=[\w-]+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Variations of v1")
    made = list(Take.objects.filter(batch__gt="").order_by("created_at", "pk"))
    assert len(made) == 3 and {t.run_of_id for t in made} == {finished_take.pk}
    cells = page.locator("li.vcell:not(.vcell-source)")
    expect(cells).to_have_count(3)
    for number, take in enumerate(made, start=2):
        cell = page.locator(f"#cell-{take.code}")
        expect(cell.locator(".vcell-title")).to_contain_text(f"v{number} · seed {take.seed}")
        expect(cell.locator(".vcell-wait")).to_contain_text("Waiting for a free slot")
    shot(page, "grid-waiting")
    # As each take finishes, its cell fills in with its video, without a reload.
    page.evaluate("() => { window.stayed = true; }")
    for take in made:
        finish_take(take, tmp_path)
    for take in made:
        expect(page.locator(f"#cell-{take.code} video")).to_be_attached(timeout=20_000)
    wait_until(page, ALL_READY)
    assert page.evaluate("() => window.stayed === true")
    # Approve v3 from the grid: marked in place, in words as well as colour.
    winner = page.locator(f"#cell-{made[1].code}")
    winner.get_by_role("button", name="Approve v3").click()
    expect(winner).to_have_attribute("data-review", "approved")
    expect(winner.get_by_role("button", name="Approved v3")).to_have_attribute(
        "aria-pressed", "true"
    )
    badge = winner.locator("[data-review-badge]")
    expect(badge).to_have_text("Approved")
    expect(badge).to_have_class("badge review-badge review-approved")
    expect(winner.get_by_role("status")).to_have_text("Review status: Approved.")
    expect(page.locator(f"#cell-{made[0].code}")).to_have_attribute("data-review", "none")
    assert page.evaluate("() => window.stayed === true")
    assert Take.objects.get(pk=made[1].pk).review_status == ReviewStatus.APPROVED
    for name, width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        # The source and three versions: two by two, and one column on a phone.
        assert page.evaluate(COLUMNS) == (1 if name == "phone" else 2)
        shot(page, f"grid-approved-{name}")
    page.set_viewport_size({"width": 1440, "height": 900})
    # The take page says so, and who did it.
    winner.get_by_role("link", name="Open v3").click()
    bar = page.locator("#review")
    expect(bar.locator("[data-review-badge]")).to_have_text("Approved")
    expect(bar).to_contain_text("Set by Bob")
    expect(bar.get_by_role("button", name="Approved")).to_have_attribute("aria-pressed", "true")
    # And the stack: v3 stands out, in its row and at the top.
    bar.get_by_role("link", name="v3 in the clip's version stack").click()
    row = page.locator(f"#v-{made[1].code}")
    expect(row).to_have_attribute("data-review", "approved")
    expect(row.locator("[data-review-badge]")).to_have_text("Approved")
    expect(row).to_contain_text("variation of v1")
    expect(page.locator("#stack-approved")).to_contain_text("v3")
    for name, width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        shot(page, f"stack-{name}")


def test_the_grid_plays_in_sync_and_steps_by_the_clips_frames(
    page: Page, live_server, bob, finished_take, console_errors
):
    others = [copy_of(finished_take, seed=n, batch="set1") for n in (2, 3)]
    Take.objects.filter(pk=finished_take.pk).update(batch="set1")
    clip: Clip = finished_take.clip
    frame = 1 / clip.fps
    sign_in(page, live_server.url, bob.email)
    page.goto(f"{live_server.url}{reverse('clip_grid', args=[clip.code])}?batch=set1")
    expect(page.locator("video[data-grid-video]")).to_have_count(4)  # the source and 3
    wait_until(page, ALL_READY)
    wait_until(page, "() => document.querySelector('[data-grid]').dataset.ready === 'true'")
    # Every cell starts on the same moment: the source at the part the takes edited.
    assert spread(page) < frame
    source_offset = page.evaluate("() => document.querySelector('video[data-source]').currentTime")
    assert source_offset == pytest.approx(finished_take.start_ms / 1000, abs=frame)
    controls = page.get_by_role("group", name="Grid player controls")
    controls.get_by_role("button", name="Play").click()
    wait_until(page, f"() => ({CELL_TIMES})()[1] > 1.0")
    # While playing, every cell is held within a frame of the others.
    wait_until(page, f"() => {{ const t = ({CELL_TIMES})(); return {SPREAD} < {frame}; }}")
    controls.get_by_role("button", name="Pause").click()
    wait_until(page, SETTLED)
    assert spread(page) < frame
    paused_at = page.evaluate(CELL_TIMES)[1]
    # One frame on, at the clip's frame rate (12 fps here, not 1/30 s), every cell together:
    # from the frame shown (floor(t * fps)) to the middle of the next one, as every player.
    expected = (math.floor(paused_at * clip.fps + 1e-3) + 1.5) / clip.fps
    controls.get_by_role("button", name="One frame forward").click()
    wait_until(page, f"() => Math.abs(({CELL_TIMES})()[1] - {expected}) < 0.002")
    wait_until(page, SETTLED)
    stepped = page.evaluate(CELL_TIMES)
    assert spread(page) < frame
    shown = page.locator("[data-time]").text_content()
    assert shown.endswith(f"frame {math.floor(expected * clip.fps)}")
    # The period key steps too, from anywhere on the page.
    page.locator("h1").click()
    page.keyboard.press(".")
    wait_until(page, f"() => ({CELL_TIMES})()[1] > {stepped[1] + frame / 2}")
    wait_until(
        page,
        "() => [...document.querySelectorAll('video[data-grid-video]')].every(v => !v.seeking)",
    )
    assert spread(page) < frame
    # Sound: every cell starts muted; each has its own toggle, and one plays at a time.
    muted = "() => [...document.querySelectorAll('video[data-grid-video]')].map(v => v.muted)"
    assert page.evaluate(muted) == [True, True, True, True]
    v2 = page.locator(f"#cell-{others[0].code}")
    v2.get_by_role("button", name="Sound of v2").click()
    expect(v2.get_by_role("button", name="Sound of v2")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate(muted) == [True, True, False, True]
    page.get_by_role("button", name="Sound of the source").click()
    assert page.evaluate(muted) == [False, True, True, True]
    expect(v2.get_by_role("button", name="Sound of v2")).to_have_attribute("aria-pressed", "false")
    shot(page, "grid-playing")


def test_ticked_versions_open_in_the_compare_and_in_a_grid(
    page: Page, live_server, bob, finished_take, console_errors
):
    second = copy_of(finished_take, seed=2)
    copy_of(finished_take, seed=3)
    running = copy_of(finished_take, seed=4)
    Take.objects.filter(pk=running.pk).update(state=TakeState.RUNNING, result="")
    clip = finished_take.clip
    sign_in(page, live_server.url, bob.email)
    page.goto(f"{live_server.url}{reverse('clip_detail', args=[clip.code])}")
    stack = page.locator("#clip-takes")
    expect(stack.locator("tbody tr")).to_have_count(4)
    page.get_by_label("Select v1").check()
    page.get_by_label("Select v2").check()
    # The stack refreshes itself while v4 renders; the ticks survive the refresh.
    page.evaluate("() => { document.getElementById('clip-takes').dataset.old = '1'; }")
    wait_until(page, "() => !document.getElementById('clip-takes').dataset.old")
    expect(page.get_by_label("Select v1")).to_be_checked()
    expect(page.get_by_label("Select v2")).to_be_checked()
    expect(stack.locator("[data-pick-count]")).to_have_text("2 ticked.")
    page.get_by_role("button", name="Compare two").click()
    expect(page).to_have_url(re.compile(rf"/k/{second.code}/\?with={finished_take.code}$"))
    expect(page.get_by_role("heading", name="What changed between the two takes")).to_be_visible()
    page.goto(f"{live_server.url}{reverse('clip_detail', args=[clip.code])}")
    for label in ("Select v2", "Select v3", "Select v4"):
        page.get_by_label(label).check()
    page.get_by_role("button", name="Play in a grid").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("v2, v3 and v4 side by side")
    expect(page.locator(f"#cell-{running.code}")).to_contain_text("Rendering")
    # A running take's cell fills in when it is done.
    Take.objects.filter(pk=running.pk).update(
        state=TakeState.SUCCEEDED, result=finished_take.result.name
    )
    expect(page.locator(f"#cell-{running.code} video")).to_be_attached(timeout=20_000)
    # Too many (or too few) ticked: back on the stack with the reason.
    page.goto(f"{live_server.url}{reverse('clip_detail', args=[clip.code])}")
    page.get_by_label("Select v1").check()
    page.get_by_role("button", name="Play in a grid").click()
    expect(page.locator(".messages")).to_contain_text("Choose 2 to 4 takes of this clip")


def test_the_take_pages_review_control_sets_the_status_in_place(
    page: Page, live_server, bob, carol, finished_take, console_errors
):
    sign_in(page, live_server.url, bob.email)
    url = f"{live_server.url}{reverse('take_detail', args=[finished_take.code])}"
    page.goto(url)
    bar = page.locator("#review")
    expect(bar.locator("[data-review-badge]")).to_have_text("No review status")
    page.evaluate("() => { window.stayed = true; }")
    control = bar.get_by_role("group", name="Set the review status")
    control.get_by_role("button", name="Changes requested").click()
    expect(bar.locator("[data-review-badge]")).to_have_text("Changes requested")
    expect(control.get_by_role("button", name="Changes requested")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(control.get_by_role("button", name="None")).to_have_attribute("aria-pressed", "false")
    expect(bar).to_contain_text("Set by Bob")
    assert page.evaluate("() => window.stayed === true")
    finished_take.refresh_from_db()
    assert finished_take.review_status == ReviewStatus.CHANGES_REQUESTED
    for name, width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        shot(page, f"take-review-{name}")
    # A viewer reads it and has no control.
    page.context.clear_cookies()
    sign_in(page, live_server.url, carol.email)
    page.goto(url)
    expect(page.locator("#review [data-review-badge]")).to_have_text("Changes requested")
    expect(page.locator("#review")).to_contain_text("Set by Bob")
    expect(page.get_by_role("group", name="Set the review status")).to_have_count(0)
