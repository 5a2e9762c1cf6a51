"""Content credentials missing, in a real browser (issue 24): when signing a result failed, its
take page says so in words with the reason, an editor presses "Sign again", the page says it is
being signed and then, when the worker is done (the real task), that it is signed, without a
reload; a viewer on a phone sees the notice and no button."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from studio import tasks
from studio.models import InputClip, Take
from studio.provenance.manifests import manifest_read
from studio.provenance.state import CredentialsState
from tests.conftest import take_row
from tests.cuts.rows import stored_clip
from tests.e2e.conftest import shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

REASON = (
    "The scratch folder (/var/cutroom/uploads-tmp) is full: free space there, then press "
    "“Sign again”."
)


@pytest.fixture
def finished_take(project: Any, bob: Any, samples: Any) -> Take:
    """A finished take whose input and result are a small real video, stored as rows (the
    upload and the engine are their own tests')."""
    video = samples["tiny.mp4"]
    data = video.read_bytes()
    clip = stored_clip(project, video, sha256=hashlib.sha256(data).hexdigest())
    item = InputClip(
        clip=clip,
        start_ms=0,
        length_ms=3000,
        width=160,
        height=120,
        duration=3.0,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    item.file.save(f"inputs/{project.code}/tiny.mp4", ContentFile(data), save=False)
    item.save()
    return take_row(
        project,
        clip=clip,
        input_clip=item,
        result=data,
        created_by=bob,
        title="Clay harbour",
        result_width=160,
        result_height=120,
    )


def inside(page: Page, width: int) -> None:
    box = page.locator(".credentials-missing").bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, box


def test_credentials_missing_is_said_and_sign_again_fixes_it(
    page: Page,
    browser: Browser,
    live_server: Any,
    finished_take: Any,
    bob: Any,
    carol: Any,
    console_errors: Any,
) -> None:
    Take.objects.filter(pk=finished_take.pk).update(
        credentials=CredentialsState.MISSING, credentials_reason=REASON
    )
    base, url = live_server.url, reverse("take_detail", args=[finished_take.code])
    # A viewer, on a phone: the notice in words, no button.
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    sign_in(phone, base, "carol@example.com")
    phone.goto(base + url)
    expect(phone.locator(".credentials-missing")).to_contain_text(
        f"Content credentials missing: {REASON}"
    )
    expect(phone.get_by_role("button", name="Sign again")).to_have_count(0)
    inside(phone, 390)
    shot(phone, "credentials-missing-viewer-390")
    phone.close()
    # An editor, on a desktop: Sign again, then the page follows the worker.
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, base, "bob@example.com")
    page.goto(base + url)
    notice = page.locator(".credentials-missing")
    expect(notice).to_contain_text(f"Content credentials missing: {REASON}")
    inside(page, 1440)
    shot(page, "credentials-missing-editor-1440")
    page.get_by_role("button", name="Sign again").click()
    expect(page.locator("#credentials-signing")).to_contain_text("Signing the result again")
    expect(page.get_by_role("button", name="Sign again")).to_have_count(0)
    shot(page, "credentials-signing-1440")
    tasks.sign_take(finished_take.pk)  # the worker's task, as django-q2 would run it
    expect(page.locator("#credentials-signed")).to_contain_text("Signed again", timeout=15_000)
    expect(notice).to_have_count(0)
    shot(page, "credentials-signed-again-1440")
    finished_take.refresh_from_db()
    read = manifest_read(Path(finished_take.result.path))
    assert read is not None and read.valid
