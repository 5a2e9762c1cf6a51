"""Who may join, and the administrator's page, as people meet them (docs/governance.md "Who may
join")."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page, expect

from accounts.models import Membership, Team, User
from accounts.services import invitation_create
from studio.models import Project
from tests.conftest import PASSWORD, clip_row, make_user
from tests.e2e.conftest import open_menu, shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = {"1440": (1440, 900), "1024": (1024, 768), "390": (390, 844)}


@pytest.fixture
def root(transactional_db) -> User:
    """The first account: the instance's administrator. Request it before alice and the rest."""
    return make_user("root@example.com", "Root")


@pytest.fixture
def no_smtp(settings):
    settings.MAILERS = {"default": {"BACKEND": "accounts.mail.NoMailBackend"}}


def at_every_width(page: Page, name: str) -> None:
    """Screenshots at a desktop, a laptop and a phone width; nothing wider than the screen."""
    for label, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width, label
        shot(page, f"{name}-{label}")
    page.set_viewport_size({"width": 1440, "height": 900})


def test_a_second_sign_up_without_an_invitation_is_refused_with_a_clear_message(
    browser: Browser, live_server, no_smtp, settings, console_errors
) -> None:
    first = browser.new_context()
    second = browser.new_context()
    try:
        # The first account on a fresh instance may sign up, and administers it.
        page = first.new_page()
        page.goto(live_server.url)
        page.get_by_role("link", name="Create the first account").click()
        page.get_by_label("E-mail").fill("founder@example.com")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Password again").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_text("Your account administers this Cutroom")).to_be_visible()
        assert User.objects.get(email="founder@example.com").is_superuser

        # The second person finds no sign-up offered, only how to get an invitation.
        other = second.new_page()
        other.goto(live_server.url)
        expect(other.get_by_role("link", name="Create an account")).to_have_count(0)
        expect(other.get_by_role("link", name="Sign up")).to_have_count(0)
        expect(other.locator("#landing-join")).to_contain_text("ask an owner of the team")
        other.get_by_role("link", name="How to join").click()
        expect(other.get_by_role("heading", level=1)).to_have_text("Sign-up is by invitation")
        expect(other.locator("#signup-closed")).to_contain_text("Ask an owner of the team")
        expect(other.get_by_label("E-mail")).to_have_count(0)
        at_every_width(other, "signup-closed")

        # A form opened while sign-up was open, sent after it closed: refused, and said so.
        settings.SIGNUP = "open"
        other.goto(f"{live_server.url}/accounts/signup/")
        other.get_by_label("E-mail").fill("second@example.com")
        other.get_by_label("Password", exact=True).fill(PASSWORD)
        other.get_by_label("Password again").fill(PASSWORD)
        settings.SIGNUP = "invite"
        other.get_by_role("button", name="Create account").click()
        expect(other.get_by_role("alert")).to_contain_text(
            "No account was made and no e-mail was sent: sign-up on this Cutroom is by "
            "invitation only."
        )
        expect(other.locator("#signup-closed")).to_be_visible()
        shot(other, "signup-refused")
        assert not User.objects.filter(email="second@example.com").exists()
        assert not mail.outbox
    finally:
        first.close()
        second.close()


def test_an_invitation_sign_up_succeeds_while_sign_up_is_closed(
    page: Page, live_server, alice, team, owner_membership, console_errors
) -> None:
    _, token = invitation_create(team=team, role="editor", created_by=alice)
    page.goto(f"{live_server.url}/accounts/signup/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign-up is by invitation")
    page.goto(f"{live_server.url}/invite/{token}/")
    page.get_by_role("link", name="Create an account").click()
    expect(page.locator("#signup-invitation")).to_contain_text("Northwind Films")
    page.get_by_label("E-mail").fill("gus@elsewhere.net")
    page.get_by_label("Your name").fill("Gus")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    link = next(line for line in mail.outbox[-1].body.splitlines() if "/signup/finish/" in line)
    page.goto(link.strip())
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Northwind Films")
    expect(page.get_by_text("You joined Northwind Films as editor.")).to_be_visible()
    assert Membership.objects.get(team=team, user__email="gus@elsewhere.net").role == "editor"


def test_an_administrator_suspends_a_team_and_its_member_sees_the_notice(
    browser: Browser, live_server, root, alice, bob, team, console_errors
) -> None:
    assert User.objects.get(pk=root.pk).is_staff and not User.objects.get(pk=alice.pk).is_staff
    project = Project.objects.create(team=team, name="Harbour film", created_by=alice)
    clip = clip_row(project)
    admin_context = browser.new_context()
    member_context = browser.new_context()
    try:
        admin = admin_context.new_page()
        sign_in(admin, live_server.url, "root@example.com")
        admin.get_by_role("link", name="Administration").click()
        expect(admin.get_by_role("heading", level=1)).to_have_text("Administration")
        card = admin.locator(f"#team-{team.code}")
        expect(card.locator("tr[data-member='bob@example.com']")).to_contain_text("Editor")
        at_every_width(admin, "administration")

        card.get_by_label("Reason").fill("The November invoice is unpaid")
        card.get_by_role("button", name="Suspend Northwind Films").click()
        expect(admin.get_by_role("status").first).to_contain_text(
            "Northwind Films is suspended: its queued takes wait"
        )
        card = admin.locator(f"#team-{team.code}")
        expect(card.get_by_text("suspended", exact=True)).to_be_visible()
        shot(admin, "administration-suspended")
        assert Team.objects.get(pk=team.pk).is_suspended

        member = member_context.new_page()
        sign_in(member, live_server.url, "bob@example.com")
        member.goto(f"{live_server.url}/t/{team.code}/")
        notice = member.locator("#team-suspended")
        expect(notice).to_contain_text("Northwind Films is suspended")
        expect(notice).to_contain_text("The November invoice is unpaid")
        expect(notice).to_contain_text("Nothing has been deleted")
        shot(member, "team-suspended")
        member.goto(f"{live_server.url}/c/{clip.code}/edit/")
        expect(member.locator("#team-suspended")).to_be_visible()
        expect(member.get_by_role("button", name="Start the take")).to_be_disabled()
        shot(member, "take-form-suspended")
        member.goto(f"{live_server.url}/t/{team.code}/activity/")
        expect(member.locator("li[data-verb='administered']")).to_contain_text(
            "Root suspended the team: The November invoice is unpaid"
        )

        card.get_by_role("button", name="Lift suspension of Northwind Films").click()
        expect(admin.get_by_role("status").first).to_contain_text("no longer suspended")
        member.goto(f"{live_server.url}/t/{team.code}/")
        expect(member.locator("#team-suspended")).to_have_count(0)
    finally:
        admin_context.close()
        member_context.close()


def test_the_administrator_opens_sign_up_from_the_page(
    browser: Browser, live_server, root, alice, console_errors
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        sign_in(page, live_server.url, "root@example.com")
        open_menu(page)
        page.get_by_role("link", name="Administration").click()
        page.get_by_label("Open to addresses at chosen domains").check()
        page.get_by_role("button", name="Save sign-up").click()
        expect(page.locator("#id_domains_error")).to_contain_text("at least one domain")
        page.get_by_role("textbox", name="Domains").fill("Example.com, studio.example.org")
        page.get_by_role("button", name="Save sign-up").click()
        expect(page.get_by_role("status").first).to_contain_text(
            "Sign-up is now open to addresses ending in @example.com or @studio.example.org"
        )
        expect(page).to_have_url(re.compile(r"/administration/#signup$"))
    finally:
        context.close()
    visitor = browser.new_page()
    try:
        visitor.goto(live_server.url)
        expect(visitor.get_by_role("link", name="Sign up")).to_be_visible()
        expect(visitor.locator("#landing-join")).to_contain_text("@example.com")
    finally:
        visitor.close()
