"""Verify anything in a real browser (issue 24): a member drops a signed video on the team's
verify page and reads its credentials back; anyone does the same on /verify/ with the file
input; a take's page loads its Content credentials panel after the page."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from studio.provenance.manifests import manifest_sign
from tests.e2e.conftest import shot, sign_in
from tests.provenance.test_manifests import a_take
from tests.samples import Samples

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": 1440, "phone": 390}
# A real drop: a DataTransfer holding the file, dispatched on the form (the drop zone).
DROP = """([data, name]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type: "video/mp4" }));
  return transfer;
}"""


@pytest.fixture
def signed(samples: Samples, tmp_path: Path) -> Path:
    dest = tmp_path / "harbour-take.mp4"
    manifest_sign(source=samples["half.mp4"], dest=dest, manifest=a_take(samples["half.mp4"]))
    return dest


def drop(page: Page, path: Path) -> None:
    data = base64.b64encode(path.read_bytes()).decode()
    transfer = page.evaluate_handle(DROP, [data, path.name])
    form = page.locator("form[data-verify][data-ready]")
    form.dispatch_event("dragenter", {"dataTransfer": transfer})
    expect(form).to_have_class("dropzone dragging")
    form.dispatch_event("drop", {"dataTransfer": transfer})


def read_back(page: Page, width: int) -> None:
    result = page.locator("#verify-result")
    expect(result).to_contain_text("Valid: the file is exactly as it was signed.")
    expect(result).to_contain_text("Made with AI (wan2.7-videoedit)")
    expect(result).to_contain_text("Signed by this Cutroom instance, not by a trusted authority.")
    expect(result).to_contain_text("street.mp4")
    expect(result).to_be_focused()  # the page continues at the result
    box, bar = result.bounding_box(), page.locator(".topbar").bounding_box()
    assert box and bar and box["x"] >= 0 and box["x"] + box["width"] <= width, box
    assert box["y"] >= bar["y"] + bar["height"], (box, bar)  # not under the sticky top bar
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= width, overflow


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_a_dropped_video_is_read_back_on_the_team_and_public_pages(
    page: Page,
    live_server: Any,
    carol: Any,
    team: Any,
    make_take: Any,
    signed: Path,
    width: int,
    console_errors: Any,
) -> None:
    name = {v: k for k, v in WIDTHS.items()}[width]
    page.set_viewport_size({"width": width, "height": 900})
    base = live_server.url
    take = make_take(provider="modellix", result=signed.read_bytes(), title="Clay harbour")
    # Anyone, signed out: choose the file with the input and press the button.
    page.goto(f"{base}/verify/")
    kept = page.get_by_text("Your file is read and deleted at once; nothing is kept.")
    expect(kept).to_be_visible()
    page.get_by_label("Drop a video here or choose one").set_input_files(str(signed))
    page.get_by_role("button", name="Read its credentials").click()
    read_back(page, width)
    expect(page.locator("#verify-result a")).to_have_count(0)  # nothing of the team's
    shot(page, f"verify-public-{name}")
    # A member of the team drops it on the team's page: the take that is this file is linked.
    sign_in(page, base, "carol@example.com")
    page.goto(f"{base}{reverse('team_verify', args=[team.code])}")
    drop(page, signed)
    read_back(page, width)
    link = page.locator("#verify-result").get_by_role("link", name="Clay harbour")
    expect(link).to_have_attribute("href", reverse("take_detail", args=[take.code]))
    shot(page, f"verify-team-{name}")
    if name != "desktop":
        return
    # The take's page: its Content credentials panel is read after the page.
    page.goto(f"{base}{reverse('take_detail', args=[take.code])}")
    panel = page.locator("#credentials-panel")
    expect(panel.locator('[data-credentials-state="valid"]')).to_be_visible()
    expect(panel).to_contain_text("Made with AI (wan2.7-videoedit)")
    panel.scroll_into_view_if_needed()
    shot(page, "take-credentials-panel")
