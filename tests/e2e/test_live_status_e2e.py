"""Work that finishes in the background shows up on its own, with a real worker cluster: the
side-by-side export on the take page and an upload's row on the project page (issue 23, item 6).

No page is reloaded: a marker set on each page must survive until the result is seen. Two pages
watch at once, one at 1440 px and one at 390 px, so one cluster and one export serve both widths
(the export is the slow part: a two-second take keeps it short)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import BrowserContext, Page, expect

from studio.models import Clip, MediaState, Project, Take
from tests.conftest import client_for, upload_clip
from tests.e2e.conftest import finish_take, make_take, shot, sign_in, uploads_ready

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WIDTHS = {1440: 900, 390: 844}
SAME_PAGE = "window.stillTheSamePage === true"


@pytest.fixture
def short_take(team, alice, bob, samples, tmp_path):
    """A finished take of two seconds, the shortest there is (its side-by-side is quick)."""
    project = Project.objects.create(team=team, name="Harbour", created_by=alice)
    clip = upload_clip(client_for(bob), project, samples["tiny.mp4"], name="harbour.mp4")
    take = make_take(project, clip, bob, prompt="cool winter", start_ms=0, length_ms=2000)
    return finish_take(take, tmp_path)


def pages(context: BrowserContext, url: str) -> dict[int, Page]:
    """The same page open at each width, marked so that a reload would show."""
    opened = {}
    for width, height in WIDTHS.items():
        page = context.new_page()
        page.set_viewport_size({"width": width, "height": height})
        page.goto(url)
        page.evaluate("window.stillTheSamePage = true")
        opened[width] = page
    return opened


def test_export_and_upload_update_without_a_reload(
    page: Page, live_server, bob, short_take, samples, qcluster, console_errors
):
    base = live_server.url
    sign_in(page, base, bob.email)
    take_url = f"{base}{reverse('take_detail', args=[short_take.code])}"
    page.goto(take_url)
    page.get_by_role("button", name="Export side-by-side").click()
    expect(page.get_by_text("Making the side-by-side video")).to_be_visible()
    expect(page.get_by_text("reload", exact=False)).to_have_count(0)
    watching = pages(page.context, take_url)
    for width, each in watching.items():
        download = each.get_by_role("link", name="Download side-by-side")
        expect(download).to_be_visible(timeout=60_000)
        assert each.evaluate(SAME_PAGE)
        expect(each.locator(".take-export-live")).to_have_attribute("aria-live", "polite")
        assert each.evaluate("document.activeElement === document.body")  # focus stays put
        box = download.bounding_box()
        assert box is not None and box["x"] + box["width"] <= width
        shot(each, f"take-export-ready-{width}")
    href = watching[390].get_by_role("link", name="Download side-by-side").get_attribute("href")
    answer = page.request.get(f"{base}{href}")
    assert answer.ok and answer.headers["content-type"] == "video/mp4"
    assert len(answer.body()) > 10_000
    assert Take.objects.get(pk=short_take.pk).export_state == "ready"

    # An upload's row goes from checking to Ready by itself, at each width.
    project_url = f"{base}{reverse('project_detail', args=[short_take.project.code])}"
    files: dict[int, Path] = {1440: samples["h264.mp4"], 390: samples["silent.mp4"]}
    uploading = pages(page.context, project_url)
    for width, each in uploading.items():
        uploads_ready(each)
        each.locator("#clip-file").set_input_files(str(files[width]))
    for width, each in uploading.items():
        name = files[width].name
        row = each.locator(f"li.upload-row[data-upload='{name}']")
        expect(row.locator(".status")).to_have_text("Ready", timeout=60_000)
        assert each.evaluate(SAME_PAGE)
        clip = Clip.objects.get(original_name=name)
        assert clip.state == MediaState.READY
        expect(row.get_by_role("link", name=f"Open {name}")).to_have_attribute(
            "href", reverse("clip_detail", args=[clip.code])
        )
        expect(each.locator("[data-upload-note]").first).to_have_text(f"{name}: Ready")
        box = row.bounding_box()
        assert box is not None and box["x"] + box["width"] <= width
        row.scroll_into_view_if_needed()
        shot(each, f"upload-ready-{width}")


def test_a_render_that_finishes_while_open_shows_itself(
    page: Page, live_server, bob, project, samples, console_errors
):
    from studio.models import CutRender, RenderState
    from tests.cuts.rows import render_row

    made = render_row(project, bob, samples)
    CutRender.objects.filter(pk=made.pk).update(state=RenderState.RENDERING)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server.url, bob.email)
    page.goto(f"{live_server.url}{reverse('render_detail', args=[made.cut.code, made.number])}")
    expect(page.get_by_text("This render is not finished yet")).to_be_visible()
    expect(page.get_by_role("heading", name="Share")).to_have_count(0)
    page.evaluate("window.stillTheSamePage = true")
    CutRender.objects.filter(pk=made.pk).update(state=RenderState.READY)  # as the worker would
    expect(page.locator("#render-status [data-compare]")).to_be_visible(timeout=15_000)
    expect(page.get_by_role("heading", name="Share")).to_be_visible()
    expect(page.get_by_role("button", name="Create share link")).to_be_enabled()
    assert page.evaluate(SAME_PAGE)
    shot(page, "render-ready-live-390")
