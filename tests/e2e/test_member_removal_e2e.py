"""An owner removes a member who made share links: the confirmation lists the links and asks
whether to keep or revoke them; a member who leaves keeps theirs, listed for the owner."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page, expect

from studio.models import Clip, MediaState, Project, Take, TakeState
from studio.review import shares
from tests.e2e.conftest import shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def shared_take(project: Project, author, title: str) -> str:
    clip = Clip.objects.create(project=project, original_name="harbour.mp4", state=MediaState.READY)
    take = Take.objects.create(
        project=project,
        clip=clip,
        created_by=author,
        prompt=title.lower(),
        title=title,
        seed=1,
        length_ms=3000,
        provider="local",
        state=TakeState.SUCCEEDED,
    )
    _, token = shares.share_create(
        take=take, author=author, days=7, allow_download=False, show_prompt=True
    )
    return reverse("share_page", args=[token])


def opens(url: str) -> bool:
    return Client().get(url).status_code == 200


def test_owner_removes_a_member_and_revokes_their_links(
    page: Page, live_server, alice, bob, carol, team, console_errors
) -> None:
    project = Project.objects.create(team=team, name="Harbour film", created_by=alice)
    links = [shared_take(project, bob, "Clay harbour"), shared_take(project, bob, "Winter harbour")]
    sign_in(page, live_server.url, "alice@example.com")
    page.goto(f"{live_server.url}/t/{team.code}/members/")
    page.get_by_role("link", name="Remove Bob").click()
    card = page.locator("#remove-member")
    expect(card.get_by_role("heading")).to_have_text("Remove Bob from Northwind Films?")
    expect(card).to_contain_text("Bob made 2 share links that still work")
    expect(card.get_by_role("link", name="Clay harbour")).to_be_visible()
    expect(card.get_by_role("link", name="Winter harbour")).to_be_visible()
    shot(page, "member-removal-confirmation")
    # The choice is required: the browser asks for it before anything is sent.
    card.get_by_role("button", name="Remove Bob").click()
    expect(page.locator("#remove-member")).to_be_visible()
    assert all(opens(url) for url in links)
    card.get_by_label("Revoke them now").check()
    card.get_by_role("button", name="Remove Bob").click()
    expect(page.locator(".messages")).to_contain_text("the 2 share links they made stopped working")
    expect(page.locator('tr[data-member="bob@example.com"]')).to_have_count(0)
    assert not any(opens(url) for url in links)
    page.goto(f"{live_server.url}/t/{team.code}/activity/")
    expect(page.locator(".feed li").first).to_contain_text(
        "Alice removed Bob and revoked the 2 share links they made"
    )


def test_member_leaves_and_the_owner_revokes_their_link_later(
    browser, live_server, alice, bob, team, console_errors
) -> None:
    project = Project.objects.create(team=team, name="Harbour film", created_by=alice)
    link = shared_take(project, bob, "Clay harbour")
    bobs = browser.new_page()
    sign_in(bobs, live_server.url, "bob@example.com")
    bobs.goto(f"{live_server.url}/t/{team.code}/members/")
    bobs.once("dialog", lambda dialog: dialog.accept())
    bobs.get_by_role("button", name="Leave this team").click()
    expect(bobs.locator("body")).to_contain_text(
        "The share link you made still works; the team's owners can revoke them."
    )
    assert opens(link)
    owners = browser.new_page()
    sign_in(owners, live_server.url, "alice@example.com")
    owners.goto(f"{live_server.url}/t/{team.code}/members/")
    section = owners.locator("#former-links")
    expect(section).to_contain_text("made by Bob")
    shot(owners, "members-former-links")
    section.get_by_role("button", name="Revoke the link to Clay harbour").click()
    expect(owners.locator("body")).to_contain_text("1 share link stopped working.")
    expect(owners.locator("#former-links")).to_have_count(0)
    assert not opens(link)
