"""Uploading, preparing and watching clips in a real browser, with a real worker cluster."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from studio.models import Clip, MediaState, Project
from tests.e2e.conftest import shot, sign_in, uploads_ready, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DROP_FILE = """
([b64, name, type]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type }));
  return transfer;
}
"""


@pytest.fixture
def project(team, alice):
    return Project.objects.create(team=team, name="Harbour promo", created_by=alice)


def drop(page: Page, selector: str, path: Path, name: str, kind: str) -> None:
    payload = base64.b64encode(path.read_bytes()).decode()
    transfer = page.evaluate_handle(DROP_FILE, [payload, name, kind])
    page.dispatch_event(selector, "dragenter", {"dataTransfer": transfer})
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def throttle_uploads(page: Page, bytes_per_second: int) -> None:
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    session.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": bytes_per_second,
        },
    )


def test_drop_hevc_clip_watch_progress_then_play_and_seek(
    page: Page, live_server, bob, project, samples, qcluster, console_errors
):
    sign_in(page, live_server.url, "bob@example.com")
    page.goto(f"{live_server.url}/p/{project.code}/")
    uploads_ready(page)
    throttle_uploads(page, 60 * 1024)
    drop(
        page,
        "form[action$='/clips/']",
        samples["hevc-portrait.mov"],
        "IMG_0042.MOV",
        "video/quicktime",
    )
    row = page.locator("li.upload-row[data-upload='IMG_0042.MOV']")
    expect(row.locator("progress")).to_be_visible()
    expect(row.locator(".status")).to_contain_text(re.compile(r"\d+% · [\d.]+ KB/s"))
    shot(page, "upload-progress")
    # Uploaded: the row follows the clip on the server by itself.
    expect(row.locator(".status")).to_contain_text(
        re.compile(r"checking the video|Preparing the preview|Ready"), timeout=30_000
    )
    throttle_uploads(page, -1)

    card = page.locator("li.media-card[data-clip='IMG_0042.MOV']")
    expect(card).to_be_visible()
    expect(card).to_have_attribute("data-state", "ready", timeout=60_000)
    expect(card).to_contain_text("240×320 · HEVC")
    shot(page, "project-with-clip")

    card.get_by_role("link").click()
    video = page.locator("#clip-video")
    expect(video).to_be_visible()
    assert "/proxy" in video.get_attribute("src")
    ranged: list[int] = []
    page.on("response", lambda r: ranged.append(r.status) if "/media/clip/" in r.url else None)
    wait_until(page, "() => document.querySelector('#clip-video').readyState >= 1")
    duration = page.evaluate("document.querySelector('#clip-video').duration")
    assert duration == pytest.approx(3.0, abs=0.2)
    landed = page.evaluate(
        """(target) => new Promise((resolve) => {
             const v = document.querySelector('#clip-video');
             v.addEventListener('seeked', () => resolve(v.currentTime), { once: true });
             v.currentTime = target;
           })""",
        duration / 2,
    )
    assert landed == pytest.approx(duration / 2, abs=0.1)
    page.evaluate(
        "() => { const v = document.querySelector('#clip-video'); v.muted = true; v.play(); }"
    )
    wait_until(page, f"() => document.querySelector('#clip-video').currentTime > {landed + 0.2}")
    assert 206 in ranged
    shot(page, "clip-playing")


def test_rejected_file_shows_its_reason(page: Page, live_server, bob, project, samples, qcluster):
    sign_in(page, live_server.url, "bob@example.com")
    page.goto(f"{live_server.url}/p/{project.code}/")
    uploads_ready(page)
    # Plainly not a video: refused at once, next to the upload.
    page.locator("#clip-file").set_input_files(str(samples["image.mp4"]))
    row = page.locator("li.upload-row[data-upload='image.mp4']")
    expect(row.get_by_role("alert")).to_have_text(
        "image.mp4: This file is a PNG image, not a video Cutroom can use."
    )
    # Looks like a video but is cut short: the worker finds out and the card says why.
    page.locator("#clip-file").set_input_files(str(samples["truncated.mp4"]))
    card = page.locator("li.media-card[data-clip='truncated.mp4']")
    expect(card).to_have_attribute("data-state", "rejected", timeout=60_000)
    expect(card.get_by_role("alert")).to_contain_text("The file is incomplete")
    shot(page, "rejected-upload")
    card.get_by_role("button", name="Dismiss").click()
    expect(card).to_have_count(0)
    assert not Clip.objects.exists()


def test_cancel_an_upload(page: Page, live_server, bob, project, samples):
    sign_in(page, live_server.url, "bob@example.com")
    page.goto(f"{live_server.url}/p/{project.code}/")
    uploads_ready(page)
    throttle_uploads(page, 20 * 1024)
    page.locator("#clip-file").set_input_files(str(samples["long.mp4"]))
    row = page.locator("li.upload-row[data-upload='long.mp4']")
    expect(row.locator(".status")).to_contain_text("%")
    row.get_by_role("button", name="Cancel").click()
    expect(row.locator(".status")).to_have_text("Upload canceled. Nothing was saved.")
    assert Clip.objects.filter(state=MediaState.RECEIVED).count() == 0


def test_too_big_is_refused_before_sending(
    page: Page, live_server, bob, project, samples, settings
):
    settings.MAX_UPLOAD_BYTES = 50_000
    sign_in(page, live_server.url, "bob@example.com")
    page.goto(f"{live_server.url}/p/{project.code}/")
    uploads_ready(page)
    page.locator("#clip-file").set_input_files(str(samples["long.mp4"]))
    alert = page.locator("li.upload-row[data-upload='long.mp4']").get_by_role("alert")
    expect(alert).to_contain_text("over the 48.8 KB limit; nothing was uploaded.")


def test_viewer_sees_no_upload_controls(page: Page, live_server, carol, project):
    sign_in(page, live_server.url, "carol@example.com")
    page.goto(f"{live_server.url}/p/{project.code}/")
    expect(page.get_by_role("heading", name="Clips")).to_be_visible()
    expect(page.locator("form[data-upload]")).to_have_count(0)
    expect(page.get_by_role("button", name="Archive")).to_have_count(0)


def test_project_page_on_a_phone(page: Page, live_server, bob, project, console_errors):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server.url, "bob@example.com")
    page.goto(f"{live_server.url}/p/{project.code}/")
    uploads_ready(page)
    expect(page.get_by_label("Drop videos here or choose files")).to_be_attached()
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390  # nothing overflows sideways
    shot(page, "project-phone")


def test_a_clip_too_short_to_edit_is_said_so_at_upload(
    page: Page, live_server, bob, project, samples, qcluster, console_errors
):
    sign_in(page, live_server.url, "bob@example.com")
    page.goto(f"{live_server.url}/p/{project.code}/")
    uploads_ready(page)
    page.locator("#clip-file").set_input_files(str(samples["half.mp4"]))
    card = page.locator("li.media-card[data-clip='half.mp4']")
    expect(card).to_have_attribute("data-state", "ready", timeout=60_000)
    # The card says at once that this clip cannot be edited, and why, in real numbers.
    expect(card.locator("[data-edit-problem]")).to_contain_text(
        "0.5 seconds long, too short to edit"
    )
    expect(card).not_to_contain_text("0.0 s")
    card.get_by_role("link", name="half.mp4").click()
    expect(page.locator("#clip-edit-problem")).to_contain_text("at least 2 seconds")
    expect(page.get_by_role("link", name="Edit this clip")).to_have_count(0)
    expect(page.locator("#clip-video")).to_be_visible()  # still watchable
    expect(page.get_by_text("0.50 s", exact=True)).to_be_visible()
    shot(page, "clip-too-short")
