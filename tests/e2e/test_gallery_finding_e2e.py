"""Finding takes in a real browser (issue 23, item 7): cards with a picture, a version and the
clip's name at every width; selecting takes, setting their review status and downloading them
as a zip; on a phone the filters folded behind "Filters (N)" so the first card shows at once."""

from __future__ import annotations

import zipfile
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from playwright.sync_api import Page, expect

from studio.library.thumbnails import thumbnails_backfill
from studio.models import Clip, Lineage, MediaState, Project, ReviewStatus, Take
from tests.conftest import take_row
from tests.e2e.conftest import shot, sign_in
from tests.samples import make_image

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shelf(team, alice, bob) -> list[Take]:
    """Six untitled takes of two clips with the same prompt, each with its own bytes, newest
    first."""
    project = Project.objects.create(team=team, name="Harbour", created_by=alice)
    clips = []
    for name in ("pier.mp4", "lighthouse.mp4"):
        clip = Clip(project=project, original_name=name, state=MediaState.READY, duration=6)
        clip.source.save(f"e2e/{name}", ContentFile(b"v"), save=False)
        clip.poster.save(f"e2e/{name}.jpg", ContentFile(make_image(None, (960, 540), "JPEG")))
        clips.append(clip)
    thumbnails_backfill()
    now = timezone.now()
    takes = [
        take_row(
            project,
            clip=clips[n % 2],
            created_by=bob,
            prompt="Turn the harbour into clay",
            seed=1000 + n,
            created_at=now - timedelta(minutes=10 - n),
            result=f"video bytes of take {n}".encode() * 50,
        )
        for n in range(6)
    ]
    return takes[::-1]


@pytest.mark.parametrize("width", [1440, 1024, 390])
def test_cards_show_picture_version_and_clip(
    page: Page, live_server, team, shelf, width, console_errors
):
    page.set_viewport_size({"width": width, "height": 844 if width == 390 else 900})
    sign_in(page, live_server.url, "bob@example.com")
    project = shelf[0].project
    page.goto(f"{live_server.url}/t/{team.code}/gallery/?state=succeeded&project={project.code}")
    cards = page.locator("li.gallery-card")
    expect(cards).to_have_count(6)
    first = cards.first
    expect(first.locator(".thumb-version")).to_have_text(shelf[0].version_label)
    expect(first.locator(".name")).to_have_text(f"lighthouse.mp4 {shelf[0].version_label}")
    expect(first.get_by_role("link", name="lighthouse.mp4", exact=True)).to_be_visible()
    expect(cards.nth(1).locator(".name")).to_have_text(f"pier.mp4 {shelf[1].version_label}")
    loaded = "() => { const i = document.querySelector('li.gallery-card img');"
    assert page.evaluate(loaded + " return i.complete && i.naturalWidth > 0; }")
    toggle = page.get_by_role("button", name="Filters (2) active")
    filters = page.locator("#gallery-filters")
    if width == 390:
        # Folded: the first card is on the first screen, and the button opens the filters.
        expect(filters).to_be_hidden()
        assert first.bounding_box()["y"] < 844
        assert first.locator("img").bounding_box()["y"] < 844
        shot(page, "gallery-finding-390")
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(filters).to_be_visible()
        expect(page.get_by_label("Project")).to_have_value(project.code)
        expect(page.get_by_label("Sort by")).to_be_focused()
        shot(page, "gallery-finding-390-filters")
    else:
        expect(toggle).to_be_hidden()
        expect(filters).to_be_visible()
        shot(page, f"gallery-finding-{width}")


def test_select_three_set_review_status_and_download(
    page: Page, live_server, team, shelf, console_errors
):
    page.set_viewport_size({"width": 1024, "height": 800})
    sign_in(page, live_server.url, "bob@example.com")
    page.goto(f"{live_server.url}/t/{team.code}/gallery/")
    bar = page.locator("form[data-bulk]")
    download = bar.get_by_role("button", name="Download as zip")
    expect(download).to_be_disabled()  # nothing ticked yet
    chosen = shelf[:3]
    for take in chosen:
        page.get_by_label(f"Select {take.list_name}").check()
    expect(bar.locator("[data-bulk-count]")).to_have_text("3 selected")
    expect(bar).to_have_class("bulk-bar is-active")
    box = bar.bounding_box()  # kept in view at the bottom of the screen
    assert box["y"] > 0 and box["y"] + box["height"] <= 800
    shot(page, "gallery-finding-selected-1024")
    with page.expect_download() as fetched:
        download.click()
    saved = fetched.value
    assert saved.suggested_filename.startswith("cutroom-3-takes-")
    with zipfile.ZipFile(saved.path()) as packed:
        names = packed.namelist()
        assert names == [f"{t.download_stem}.mp4" for t in chosen]
        for name, take in zip(names, chosen, strict=True):
            assert packed.read(name) == take.result.open("rb").read()
    bar.get_by_label("Review status").select_option(label="Approved")
    bar.get_by_role("button", name="Set review status").click()
    expect(page.get_by_role("status").filter(has_text="3 takes set to Approved.")).to_be_visible()
    for take in chosen:
        card = page.locator(f"li.gallery-card[data-take='{take.code}']")
        expect(card.locator(".card-review")).to_contain_text("Approved")
    expect(page.locator("li.gallery-card .card-review")).to_have_count(3)
    assert Take.objects.filter(review_status=ReviewStatus.APPROVED).count() == 3
    # Select all on this page ticks every card in place, and clears them again.
    page.get_by_role("link", name="Select all on this page").click()
    expect(bar.locator("[data-bulk-count]")).to_have_text("6 selected")
    page.get_by_role("link", name="Clear the selection").click()
    expect(bar.locator("[data-bulk-count]")).to_have_text("Tick takes to act on several at once.")
    shot(page, "gallery-finding-approved-1024")
    # Two go to the trash together: their cards leave the gallery, the others stay.
    for take in chosen[:2]:
        page.get_by_label(f"Select {take.list_name}").check()
    bar.get_by_role("button", name="Move to trash").click()
    expect(page.get_by_role("status").filter(has_text="2 takes moved to the trash")).to_be_visible()
    expect(page.locator("li.gallery-card[data-take]")).to_have_count(4)
    for take in chosen[:2]:
        expect(page.locator(f"li.gallery-card[data-take='{take.code}']")).to_have_count(0)
    assert set(Take.objects.in_trash()) == set(chosen[:2])


def test_version_stack_and_take_page_compare_with_the_parent(
    page: Page, live_server, team, shelf, bob, console_errors
):
    """The clip's version stack shows each take's picture and number and what it changed from
    the take it came from; so does the take's own page."""
    parent = shelf[-1]  # pier.mp4 v1
    child = take_row(
        parent.project,
        clip=parent.clip,
        created_by=bob,
        prompt="Turn the harbour into wax",
        seed=parent.seed,
        run_of=parent,
        lineage=Lineage.REMIX,
    )
    sign_in(page, live_server.url, "bob@example.com")
    page.goto(f"{live_server.url}/c/{parent.clip.code}/")
    row = page.locator(f"tr#v-{child.code}")
    expect(row.locator(".version-label")).to_have_text(child.version_label)
    assert row.locator(".stack-thumb img").evaluate("i => i.complete && i.naturalWidth > 0")
    changes = row.get_by_role("list", name=f"What {child.version_label} changed from v1")
    expect(changes).to_contain_text("Turn the harbour into clay")
    expect(changes).to_contain_text("Turn the harbour into wax")
    expect(page.locator(f"tr#v-{parent.code} .stack-changes")).to_have_text("New take: no parent")
    shot(page, "version-stack-parent-1280")
    page.goto(f"{live_server.url}/k/{child.code}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"{child.version_label} Turn the harbour into wax"
    )
    found = page.locator("#from-parent")
    expect(found).to_contain_text("Remix of v1.")
    expect(found.locator(".change-after")).to_have_text("Turn the harbour into wax")
    expect(page.get_by_label("Other take").locator("option").first).to_contain_text("v")
    shot(page, "take-page-parent-1280")
