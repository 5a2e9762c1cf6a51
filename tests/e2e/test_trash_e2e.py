"""Deleting a clip as a person meets it: a dialog that says what it affects (by keyboard), the
take whose source is gone while it waits in the trash, and the trash page bringing it back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from studio.models import Clip, Take
from studio.review.shares import share_create
from tests.e2e.conftest import shot, sign_in
from tests.e2e.test_take_page_e2e import second_take

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("name", "width", "height"), [("desktop", 1440, 900), ("phone", 390, 844)])
def test_a_deleted_clip_says_what_it_affects_and_comes_back_from_the_trash(
    page: Page, live_server, bob, finished_take, name, width, height, console_errors
):
    clip = finished_take.clip
    other = second_take(finished_take)
    share_create(take=finished_take, author=bob, days=None, allow_download=False, show_prompt=True)
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_server.url, "bob@example.com")
    page.goto(f"{live_server.url}/c/{clip.code}/")

    # A version on the stack: its own confirmation, fetched into a dialog.
    stack_delete = page.get_by_role("link", name=re.compile(r"^Delete v2\s?…$"))
    stack_delete.click()
    take_dialog = page.get_by_role("dialog", name="Delete v2?")
    expect(take_dialog).to_contain_text("0 comments are hidden with it")
    expect(take_dialog.get_by_role("button", name="Cancel")).to_be_focused()
    shot(page, f"trash-stack-dialog-{name}")
    page.keyboard.press("Escape")
    expect(take_dialog).to_be_hidden()
    expect(stack_delete).to_be_focused()

    opener = page.get_by_role("link", name="Delete clip…")
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Delete harbour.mp4?")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".delete-impact")).to_contain_text("2 takes of this clip go to the trash")
    expect(dialog.locator(".delete-impact")).to_contain_text("1 share link stops working")
    expect(dialog).to_contain_text("trash for 30 days")
    cancel = dialog.get_by_role("button", name="Cancel")
    move = dialog.get_by_role("button", name="Move to trash")
    expect(cancel).to_be_focused()  # the safe choice first
    page.keyboard.press("Tab")
    expect(move).to_be_focused()
    page.keyboard.press("Tab")  # focus stays in the dialog
    expect(cancel).to_be_focused()
    shot(page, f"trash-clip-dialog-{name}")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()

    page.keyboard.press("Enter")
    expect(cancel).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(move).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text("harbour.mp4 is in the trash with its takes.")).to_be_visible()
    assert Clip.objects.get(pk=clip.pk).is_trashed

    # Its take, reached by an old link: its source is gone, said in words, nothing to run.
    page.goto(f"{live_server.url}/k/{finished_take.code}/")
    expect(page.locator("#take-trashed")).to_contain_text("This take is in the trash.")
    expect(page.locator("#source-gone")).to_have_text(
        re.compile(r"^The source clip was deleted on \d+ \w+ \d{4} by Bob; the edited take is kept")
    )
    expect(page.locator("#source-gone-player video")).to_be_visible()
    expect(page.get_by_role("button", name="Run again")).to_have_count(0)
    expect(page.get_by_role("link", name="Remix")).to_have_count(0)
    expect(page.locator("[data-compare]")).to_have_count(0)
    shot(page, f"trash-take-source-gone-{name}")

    page.get_by_role("link", name="Restore its clip from the trash").click()
    row = page.locator(f'[data-trash="clip-{clip.code}"]')
    expect(row).to_contain_text("with 2 takes")
    expect(row).to_contain_text("Bob")
    shot(page, f"trash-page-{name}")
    row.get_by_role("button", name="Restore harbour.mp4").click()
    expect(page.get_by_text("harbour.mp4 is back, with 2 takes.")).to_be_visible()
    stack = page.locator("#clip-takes")
    expect(stack.locator(f'[data-take="{finished_take.code}"]')).to_be_visible()
    expect(stack.locator(f'[data-take="{other.code}"]')).to_be_visible()
    assert not Take.objects.filter(trashed_at__isnull=False).exists()
