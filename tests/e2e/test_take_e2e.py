"""Submit an edit in the browser and watch it finish live, with a real worker cluster."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from studio.models import Project, Take
from tests.conftest import client_for, upload_clip
from tests.e2e.conftest import shot, sign_in, uploads_ready, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clip(team, alice, bob, samples):
    project = Project.objects.create(team=team, name="Ferry ad", created_by=alice)
    return upload_clip(client_for(bob), project, samples["long.mp4"], name="ferry.mp4")


def test_submit_an_edit_and_watch_it_finish(
    page: Page, live_server, clip, qcluster, console_errors
):
    sign_in(page, live_server.url, "bob@example.com")
    page.goto(f"{live_server.url}/c/{clip.code}/")
    page.get_by_role("link", name="Edit this clip").click()
    expect(page.get_by_role("heading", name="New take")).to_be_visible()
    page.get_by_label("Start at (seconds)").fill("2")
    page.get_by_label("Length (seconds)").fill("3")
    page.get_by_label("What should change?").fill("Make it look like an old black and white film")
    expect(page.locator("#prompt-count")).to_have_text("45 / 5000 characters")
    page.get_by_label("Resolution").select_option("720P")
    expect(page.locator("#cost")).to_have_text("free (local engine) for 3.0 s at 720P")
    page.get_by_label("Seed (optional)").fill("42")
    shot(page, "take-form")
    page.get_by_role("button", name="Start the take").click()

    status = page.locator("#take-status")
    expect(status).to_be_visible()
    expect(page.locator("#take-state")).to_have_text("Done", timeout=90_000)
    result = page.locator("[data-compare] video[data-side=b]")
    expect(result).to_be_visible()
    expect(page.get_by_role("button", name="Notify me when done")).to_be_hidden()
    expect(status).to_contain_text("provider task local-")
    take = Take.objects.get()
    assert take.state == "succeeded" and take.seed == 42
    assert (take.result_width, take.result_height) == (1280, 720)
    assert take.events.count() == 6
    shot(page, "take-done")


def test_cost_estimate_reads_like_money(page: Page, live_server, clip, settings):
    """With a paid provider the live estimate is rounded to cents and marked as an estimate."""
    settings.STUDIO_PROVIDER = "modellix"
    sign_in(page, live_server.url, "bob@example.com")
    page.goto(f"{live_server.url}/c/{clip.code}/edit/")
    page.get_by_label("Length (seconds)").fill("3")
    page.get_by_label("Resolution").select_option("720P")
    expect(page.locator("#cost")).to_have_text("about 0.21 USD (estimate) for 3.0 s at 720P")
    page.get_by_label("Resolution").select_option("1080P")
    page.get_by_label("Length (seconds)").fill("10")
    expect(page.locator("#cost")).to_have_text("about 1.16 USD (estimate) for 10.0 s at 1080P")


def test_fresh_start_upload_edit_and_watch_the_take_play(
    page: Page, live_server, samples, qcluster, console_errors, settings
):
    """No API key, no mail server, no data: sign up (in one step, as there is no mail to
    confirm the address), upload, edit with the local engine, and play the take."""
    settings.MAILERS = {"default": {"BACKEND": "accounts.mail.NoMailBackend"}}
    page.goto(f"{live_server.url}/accounts/signup/")
    page.get_by_label("E-mail").fill("new@example.com")
    page.get_by_label("Your name").fill("Nora")
    page.get_by_label("Password", exact=True).fill("correct horse battery staple")
    page.get_by_label("Password again").fill("correct horse battery staple")
    page.get_by_role("button", name="Create account").click()
    page.get_by_label("Project name").fill("First film")
    page.get_by_role("button", name="Create project").click()
    uploads_ready(page)
    page.locator("#clip-file").set_input_files(str(samples["hevc-portrait.mov"]))
    card = page.locator("li.media-card[data-clip='hevc-portrait.mov']")
    expect(card).to_have_attribute("data-state", "ready", timeout=60_000)
    card.get_by_role("link").click()
    page.get_by_role("link", name="Edit this clip").click()
    page.get_by_label("Length (seconds)").fill("2")
    page.get_by_label("What should change?").fill("水彩 watercolor, warm sunset")
    page.get_by_label("Aspect ratio").select_option("1:1")
    page.get_by_label("Resolution").select_option("720P")
    page.get_by_role("button", name="Start the take").click()
    expect(page.locator("#take-state")).to_have_text("Done", timeout=90_000)
    expect(page.locator("#disclosure")).to_have_text("Edited with Cutroom's local engine, not AI")
    expect(page.locator("#take-status")).to_contain_text("watercolor")
    expect(page.locator("#take-status")).to_contain_text("Extended prompt")
    page.locator("video[data-side=b]").evaluate("(v) => { v.muted = true; v.play(); }")
    wait_until(
        page, "() => document.querySelector('[data-compare] video[data-side=b]').currentTime > 0.3"
    )
    take = Take.objects.get()
    assert (take.result_width, take.result_height) == (960, 960)
    assert take.engine_looks == ["watercolor", "warm"]
    shot(page, "fresh-start-take")
