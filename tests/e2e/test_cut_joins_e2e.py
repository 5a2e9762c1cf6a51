"""A cut's render in a real browser: each join's two sides side by side, the joins to look at
first, at desktop, tablet and phone widths, with no console errors and nothing serious for axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from studio.cuts import renders, services
from studio.cuts.models import RenderState
from studio.models import TakeState
from studio.takes.parameters import EditParameters
from tests import pipeline
from tests.conftest import client_for, upload_clip
from tests.e2e.conftest import check_axe, shot, sign_in, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": (1440, 900), "tablet": (820, 1180), "phone": (390, 844)}
LOADED = (
    "() => [...document.querySelectorAll('.cut-join-sides img')].every(i => i.naturalWidth > 0)"
)


@pytest.fixture
def rendered(bob, project, samples, queue):
    """A 9 s clip with two windows edited on the local engine, rendered by the worker's step;
    its first join marked for review, as a bad seam would be."""
    clip = upload_clip(client_for(bob), project, samples["cut-25.mp4"], name="ferry.mp4")
    cut = services.cut_create(clip=clip, author=bob, name="Clay version")
    windows = [
        services.window_add(cut=cut, start=1.0, end=3.0),
        services.window_add(cut=cut, start=5.0, end=7.0),
    ]
    takes = services.cut_takes_create(
        cut=cut, author=bob, parameters=EditParameters(prompt="clay", resolution="720P")
    )
    pipeline.run(*takes, seconds=300)  # the local engine, on a shared machine
    assert all(take.state == TakeState.SUCCEEDED for take in takes)
    for window, take in zip(windows, takes, strict=True):
        services.window_choose(window=window, take=take)
    render = renders.cut_render_request(cut=cut, author=bob)
    renders.cut_render_run(render.pk)
    render.refresh_from_db()
    assert render.state == RenderState.READY, render.reason
    seams = [dict(seam) for seam in render.seams]
    seams[2]["flagged"] = True  # the in-point of window 2: shown first
    type(render).objects.filter(pk=render.pk).update(seams=seams)
    return cut


def open_joins(page: Page) -> None:
    page.get_by_text("Joins: 4, 1 to look at").click()
    wait_until(page, LOADED)


def test_the_joins_show_both_sides_flagged_first(
    page: Page, axe_context: BrowserContext, live_server, rendered, console_errors
) -> None:
    sign_in(page, live_server.url, "bob@example.com")
    for name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/x/{rendered.code}/")
        open_joins(page)
        joins = page.locator(".cut-join")
        expect(joins).to_have_count(4)
        expect(joins.first).to_contain_text("Join 3:")
        expect(joins.first).to_contain_text("look at this join")
        expect(joins.first.locator("img")).to_have_count(2)
        expect(
            page.get_by_alt_text("Join 3 (into window 2 at 0:05.00): the last frame before it")
        ).to_be_visible()
        expect(
            page.get_by_alt_text("Join 1 (into window 1 at 0:01.00): the first frame after it")
        ).to_be_visible()
        sides = joins.first.locator("img")
        before, after = sides.nth(0).bounding_box(), sides.nth(1).bounding_box()
        assert before and after and abs(before["y"] - after["y"]) < 2  # side by side
        assert after["x"] >= before["x"] + before["width"]
        joins.first.scroll_into_view_if_needed()
        shot(page, f"cut-joins-{name}")
    axe_page = axe_context.new_page()
    sign_in(axe_page, live_server.url, "bob@example.com")
    axe_page.goto(f"{live_server.url}/x/{rendered.code}/")
    open_joins(axe_page)
    check_axe(axe_page, "cut page with its joins open")
