"""Submit an edit in the browser and watch it finish live, with a real worker cluster."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page, expect

from studio import services
from studio.models import Clip, Project, Take
from tests.e2e.conftest import shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clip(team, alice, bob, samples):
    project = Project.objects.create(team=team, name="Ferry ad", created_by=alice)
    client = Client()
    client.force_login(bob, backend="django.contrib.auth.backends.ModelBackend")
    path = samples["long.mp4"]
    data = {
        "file": SimpleUploadedFile("ferry.mp4", path.read_bytes()),
        "upload_key": str(uuid.uuid4()),
    }
    response = client.post(
        reverse("clip_upload", args=[project.code]), data, HTTP_ACCEPT="application/json"
    )
    clip = Clip.objects.get(code=response.json()["code"])
    services.clip_process(clip_id=clip.pk)
    clip.refresh_from_db()
    return clip


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
    expect(page.locator("#cost")).to_have_text("about 0.21 USD for 3.0 s at 720P")
    page.get_by_label("Seed (optional)").fill("42")
    shot(page, "take-form")
    page.get_by_role("button", name="Start the take").click()

    status = page.locator("#take-status")
    expect(status).to_be_visible()
    expect(page.locator("#take-state")).to_have_text("Done", timeout=90_000)
    result = page.locator("#take-result")
    expect(result).to_be_visible()
    expect(page.get_by_role("button", name="Notify me when done")).to_be_hidden()
    expect(status).to_contain_text("provider task local-")
    take = Take.objects.get()
    assert take.state == "succeeded" and take.seed == 42
    assert (take.result_width, take.result_height) == (1280, 720)
    assert take.events.count() == 6
    shot(page, "take-done")
