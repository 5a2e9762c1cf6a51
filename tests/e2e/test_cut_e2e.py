"""A cut's render in the browser: it plays in the compare beside the source (both full length,
synced, frame-exact at the clip's 25 fps) at desktop, tablet and phone widths; a comment is
posted at a frame and found again from its marker. The render is real: two windows edited on
the local engine (once per worker, see `made`) and rendered by the worker's step, on a 9 s
sample."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from studio.cuts import renders, services
from studio.cuts.models import CutRender, RenderState
from studio.models import Comment, Project, TakeState
from studio.review import shares
from studio.takes.parameters import EditParameters
from tests import pipeline
from tests.conftest import client_for, upload_clip
from tests.cuts.rows import window_edited
from tests.e2e.conftest import COMPARE_READY, shot, sign_in, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FPS = 25  # samples["cut-25.mp4"]
TIMES = "() => [...document.querySelectorAll('[data-compare] video')].map(v => v.currentTime)"
PAUSED = "() => [...document.querySelectorAll('[data-compare] video')].every(v => v.paused)"
PLAYING = "() => [...document.querySelectorAll('[data-compare] video')].every(v => !v.paused)"
SIZES = {"desktop": (1440, 900), "tablet": (820, 1180), "phone": (390, 844)}


# What the local engine made of the two windows (with their handles), kept by the first test of
# this module that a worker runs: the later ones store the same files as the windows' finished
# takes (tests/cuts/rows.py) instead of rendering them again, and only the cut is rendered anew.
# Taking the windows through the engine is tested on its own (tests/cuts/test_cut_renders.py).
WINDOWS = ((1.0, 3.0), (5.0, 7.0))
_TAKE_RESULTS: dict[tuple[float, float], Path] = {}


@pytest.fixture
def made(team, alice, bob, samples, queue, monkeypatch, tmp_path_factory) -> CutRender:
    """A ready render of a 9 s 25 fps clip with two windows edited on the local engine."""
    project = Project.objects.create(team=team, name="Cuts", created_by=alice)
    clip = upload_clip(client_for(bob), project, samples["cut-25.mp4"], name="interview.mp4")
    cut = services.cut_create(clip=clip, author=bob, name="Clay version")
    if _TAKE_RESULTS:
        for (start, end), result in _TAKE_RESULTS.items():
            window_edited(cut, start, end, result, bob)
    else:
        windows = [services.window_add(cut=cut, start=a, end=b) for a, b in WINDOWS]
        takes = services.cut_takes_create(
            cut=cut, author=bob, parameters=EditParameters(prompt="clay, warm", resolution="720P")
        )
        pipeline.run(*takes)
        assert all(take.state == TakeState.SUCCEEDED for take in takes), [t.reason for t in takes]
        kept = tmp_path_factory.mktemp("cut-takes")
        for span, window, take in zip(WINDOWS, windows, takes, strict=True):
            services.window_choose(window=window, take=take)
            with take.result.open("rb") as stored:
                _TAKE_RESULTS[span] = kept / f"{span[0]:g}.mp4"
                _TAKE_RESULTS[span].write_bytes(stored.read())
    monkeypatch.setattr(renders, "_enqueue", lambda pk: None)  # run here, not by a worker
    render = renders.cut_render_request(cut=cut, author=bob)
    renders.cut_render_run(render.pk)
    render.refresh_from_db()
    assert render.state == RenderState.READY, render.reason
    return render


def open_render(page: Page, url: str) -> None:
    page.goto(url)
    wait_until(page, COMPARE_READY)
    wait_until(page, "() => !!document.querySelector('[data-comments][data-ready]')")
    page.evaluate(
        "() => document.querySelectorAll('[data-compare] video').forEach(v => v.muted = true)"
    )


def at_frame(page: Page, frame: int) -> None:
    """Both videos show `frame` of the clip (within half a frame of its middle)."""
    wait_until(page, PAUSED)
    middle = (frame + 0.5) / FPS
    wait_until(page, f"() => ({TIMES})().every(x => Math.abs(x - {middle}) < {0.5 / FPS})")
    for time in page.evaluate(TIMES):
        assert int(time * FPS) == frame, (time, frame)


def body_focus(page: Page) -> None:
    page.evaluate("() => document.activeElement?.blur()")


def in_sync_while_playing(page: Page) -> None:
    """Both videos play, and stay within two frames of each other while they do."""
    body_focus(page)
    page.keyboard.press("k")
    wait_until(page, PLAYING)
    wait_until(page, f"() => ({TIMES})()[0] > 1.0")  # past the first join, really playing
    for _ in range(5):
        source, cut = page.evaluate(TIMES)
        assert abs(source - cut) < 2 / FPS, (source, cut)
        page.wait_for_timeout(150)
    page.keyboard.press("k")
    wait_until(page, PAUSED)
    source, cut = page.evaluate(TIMES)
    assert source == pytest.approx(cut, abs=0.001)  # paused, they line up exactly


def test_a_render_plays_beside_the_source_and_takes_a_comment_at_a_frame(
    page: Page, live_server, bob, made, console_errors: list[str]
) -> None:
    url = live_server.url + reverse("render_detail", args=[made.cut.code, made.number])
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, bob.email)

    # From the cut's page, the render's link.
    page.goto(live_server.url + reverse("cut_detail", args=[made.cut.code]))
    shot(page, "cut-with-a-render")
    page.get_by_role("link", name="v1", exact=True).click()
    expect(page.get_by_role("heading", name="Clay version v1")).to_be_visible()
    open_render(page, url)
    lengths = page.evaluate(
        "() => [...document.querySelectorAll('[data-compare] video')].map(v => v.duration)"
    )
    assert all(abs(length - 9.0) < 0.1 for length in lengths), lengths  # both full length
    expect(page.get_by_role("link", name="Download interview-clay-version-v1.mp4")).to_be_visible()
    in_sync_while_playing(page)

    # Frame-exact: from the start, L is a second of the clip's 25 frames, "." one more.
    open_render(page, url)
    body_focus(page)
    page.keyboard.press("l")
    at_frame(page, 25)
    for _ in range(3):
        page.keyboard.press(".")
    at_frame(page, 28)

    # C opens the comment box at that frame; the comment lands on the render.
    page.locator(".compare-b video").hover()
    body_focus(page)
    page.keyboard.press("c")
    box = page.locator("[data-comment-form]")
    expect(box).to_be_visible()
    expect(box.get_by_label("Frame", exact=True)).to_have_value("28")
    expect(box.locator("[data-box-timecode]")).to_have_text("00:00:01:03")
    box.get_by_label("Comment", exact=True).fill("The join at the window's edge jumps")
    box.get_by_role("button", name="Post comment").click()
    expect(page.locator(".thread").filter(has_text="The join at the window's edge")).to_be_visible()
    comment = Comment.objects.get()
    assert (comment.render_id, comment.frame, comment.fps) == (made.pk, 28, 25.0)
    shot(page, "render-desktop")

    # Found again after a reload: its marker brings both videos back to frame 28.
    open_render(page, url)
    page.get_by_role("button", name="Comment by Bob at 00:00:01:03").click()
    at_frame(page, 28)


@pytest.mark.parametrize("size", ["tablet", "phone"])
def test_the_render_page_plays_in_sync_on_a_tablet_and_a_phone(
    page: Page, live_server, bob, made, size: str, console_errors: list[str]
) -> None:
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_server.url, bob.email)
    open_render(page, live_server.url + reverse("render_detail", args=[made.cut.code, 1]))
    # Nothing wider than the screen.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    in_sync_while_playing(page)
    shot(page, f"render-{size}")


def test_a_shared_render_plays_in_sync_for_a_guest_on_a_phone(
    page: Page, live_server, bob, made, console_errors: list[str]
) -> None:
    _, token = shares.share_create(
        render=made, author=bob, days=7, allow_download=True, show_prompt=True, allow_comments=True
    )
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/s/{token}/")
    wait_until(page, COMPARE_READY)
    page.evaluate(
        "() => document.querySelectorAll('[data-compare] video').forEach(v => v.muted = true)"
    )
    expect(page.locator("[data-compare] figcaption")).to_have_text(["Source", "Cut"])
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    in_sync_while_playing(page)
    shot(page, "render-shared-phone")
