"""A person who types an absurd start into the edit form reads the allowed range, not a
300-digit echo of what they typed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from studio.models import Project, Take
from tests.conftest import client_for, upload_clip
from tests.e2e.conftest import shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_start_of_1e308_says_the_allowed_range(
    page: Page, live_server, team, alice, bob, samples
) -> None:
    project = Project.objects.create(team=team, name="Ferry ad", created_by=alice)
    clip = upload_clip(client_for(bob), project, samples["long.mp4"], name="ferry.mp4")
    sign_in(page, live_server.url, "bob@example.com")
    # No console check: the form comes back with a 400, which Chromium logs as an error.
    page.goto(f"{live_server.url}/c/{clip.code}/edit/")
    page.get_by_label("What should change?").fill("Turn the harbour into clay")
    page.get_by_label("Start at (seconds)").fill("1e308")
    page.get_by_role("button", name="Start the take").click()
    error = page.locator("#id_start_error")
    expect(error).to_have_text(
        "Start between 0 and 10.0 s: the clip is 12.0 s long and the part lasts at least 2 s."
    )
    expect(page.locator("#window-summary")).to_have_text(
        "Start between 0 and 10.0 s: the clip is 12.0 s long."
    )
    assert not re.search(r"\d{16,}|e\+\d", page.locator("main").inner_text())
    shot(page, "take-form-absurd-start")
    assert not Take.objects.exists()
