"""The take gallery in a real browser: starring in place, grid-sized posters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from playwright.sync_api import Page, expect

from studio.library.thumbnails import thumbnails_backfill
from studio.models import Clip, MediaState, Project, Take, TakeStar, TakeState
from tests.e2e.conftest import shot, sign_in
from tests.samples import make_image

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def many_takes(team, alice, bob) -> list[Take]:
    project = Project.objects.create(team=team, name="Stars", created_by=alice)
    clip = Clip(project=project, original_name="pier.mp4", state=MediaState.READY, duration=6)
    clip.source.save("e2e/pier.mp4", ContentFile(b"v"), save=False)
    clip.poster.save("e2e/poster.jpg", ContentFile(make_image(None, (960, 540), "JPEG")))
    thumbnails_backfill()
    now = timezone.now()
    return Take.objects.bulk_create(
        Take(
            project=project,
            clip=clip,
            created_by=bob,
            prompt=f"look number {n}",
            seed=n,
            length_ms=3000,
            provider="local",
            state=TakeState.SUCCEEDED,
            created_at=now - timedelta(minutes=n),
        )
        for n in range(20)
    )


def test_star_in_place_keeps_the_scroll_position(
    page: Page, live_server, bob, team, many_takes, console_errors
):
    sign_in(page, live_server.url, "bob@example.com")
    page.goto(f"{live_server.url}/t/{team.code}/gallery/")
    take = many_takes[-1]
    card = page.locator(f"li.gallery-card[data-take='{take.code}']")
    card.scroll_into_view_if_needed()
    scrolled = page.evaluate("() => window.scrollY")
    assert scrolled > 200
    # A reload would drop this marker.
    page.evaluate("() => { window.cutroomMarker = 'same page'; }")
    card.get_by_role("button", name="Add to favourites").click()
    star = card.get_by_role("button", name="Remove from favourites")
    expect(star).to_have_attribute("aria-pressed", "true")
    expect(star).to_have_text("★")
    assert page.evaluate("() => window.cutroomMarker") == "same page"
    assert page.evaluate("() => window.scrollY") == scrolled
    assert TakeStar.objects.filter(take=take, user=bob).exists()
    shot(page, "gallery-starred-in-place")
    # And off again, in place too.
    star.click()
    expect(card.get_by_role("button", name="Add to favourites")).to_have_attribute(
        "aria-pressed", "false"
    )
    assert not TakeStar.objects.filter(take=take, user=bob).exists()
    card.get_by_role("button", name="Add to favourites").click()
    expect(card.get_by_role("button", name="Remove from favourites")).to_be_visible()
    assert page.evaluate("() => window.scrollY") == scrolled
    page.reload()
    expect(
        page.locator(f"li.gallery-card[data-take='{take.code}']").get_by_role(
            "button", name="Remove from favourites"
        )
    ).to_have_attribute("aria-pressed", "true")


@pytest.mark.parametrize("width", [1440, 390])
def test_grids_load_thumbnails_without_jumping(
    page: Page, live_server, bob, team, many_takes, width, console_errors
):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_server.url, "bob@example.com")
    page.goto(f"{live_server.url}/t/{team.code}/gallery/")
    first = page.locator("li.gallery-card img").first
    expect(first).to_have_attribute("src", f"/media/clip/{many_takes[0].clip.code}/poster_thumb")
    expect(first).to_have_attribute("loading", "lazy")
    box = first.bounding_box()
    assert box["width"] / box["height"] == pytest.approx(16 / 9, rel=0.02)
    assert page.evaluate("() => document.querySelector('li.gallery-card img').naturalWidth") == 480
    shot(page, f"gallery-thumbs-{width}")
    page.goto(f"{live_server.url}/p/{many_takes[0].project.code}/")
    poster = page.locator("li.media-card img.media-thumb")
    expect(poster).to_have_attribute("width", "480")
    box = poster.bounding_box()
    assert box["width"] / box["height"] == pytest.approx(16 / 9, rel=0.02)
    page.goto(f"{live_server.url}/t/{team.code}/")
    poster = page.locator("img.project-poster")
    expect(poster).to_have_attribute("height", "270")
    box = poster.bounding_box()
    assert box["width"] / box["height"] == pytest.approx(16 / 9, rel=0.02)
    shot(page, f"team-thumbs-{width}")
