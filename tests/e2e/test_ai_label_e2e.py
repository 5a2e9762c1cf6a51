"""The visible AI label on downloads in a real browser (issue 24): an owner turns the team's
option on, the take page says in words that the labelled download is being made, updates itself
once the worker has made it, and the download carries the label in its corner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import pytest
from django.urls import reverse
from PIL import ImageChops, ImageStat
from playwright.sync_api import Page, expect

from studio.media.label import label_box
from studio.takes import labelled
from tests.e2e.conftest import shot, sign_in
from tests.samples import make_video

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": 1440, "phone": 390}


def first_grey(path: Path) -> Any:
    with av.open(str(path)) as container:
        return next(container.decode(video=0)).to_image().convert("L")


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_an_owner_turns_labels_on_and_downloads_the_labelled_take(
    page: Page, live_server: Any, finished_take: Any, team: Any, width: int, console_errors: Any
) -> None:
    take = finished_take
    take.provider = "modellix"  # recorded as the model's: the page reads what made it
    take.save(update_fields=["provider"])
    # A short result keeps the worker's part (burning and signing) quick.
    make_video(Path(take.result.path), seconds=0.5, width=320, height=180)
    name = {v: k for k, v in WIDTHS.items()}[width]
    page.set_viewport_size({"width": width, "height": 900})
    base = live_server.url
    sign_in(page, base, "alice@example.com")
    page.goto(base + reverse("team_settings", args=[team.code]))
    page.get_by_label("Burn a visible AI-generated label").check()
    page.get_by_role("button", name="Save content credential settings").click()
    expect(page.locator(".messages")).to_contain_text("Content credential settings saved.")

    page.goto(base + reverse("take_detail", args=[take.code]))
    part = page.locator("#take-labelled")
    expect(part).to_contain_text("Making the download with the “AI-generated” label")
    expect(page.get_by_role("link", name="Download the result")).to_have_count(0)
    shot(page, f"ai-label-take-making-{name}")
    labelled.take_label(take_id=take.pk)  # what the worker does
    # The page follows without a reload (live.js) and says what the download is.
    link = page.get_by_role("link", name="Download the result")
    expect(link).to_be_visible()
    expect(part).to_contain_text("with the “AI-generated” label")
    expect(
        page.get_by_role("link", name="Download the original, without the label")
    ).to_be_visible()
    box = link.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width
    shot(page, f"ai-label-take-ready-{name}")
    with page.expect_download() as info:
        link.click()
    got = Path(info.value.path())
    result = first_grey(Path(take.result.path))
    corner = label_box(*result.size)
    changed = ImageStat.Stat(
        ImageChops.difference(result.crop(corner), first_grey(got).crop(corner))
    )
    assert changed.mean[0] > 25
