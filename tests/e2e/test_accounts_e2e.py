"""What a person sees while signing up, signing in, inviting and joining."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page, expect

from accounts.models import Membership, Role
from studio.models import Project
from tests.conftest import PASSWORD, last_link
from tests.e2e.conftest import shot, sign_in, sign_out

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sign_up_lands_in_personal_team(page: Page, live_server, console_errors) -> None:
    """The first account on a fresh instance: it may sign up whatever the mode, and administers."""
    page.goto(live_server.url)
    shot(page, "landing")
    page.get_by_role("link", name="Create the first account").click()
    expect(page.locator("#signup-first")).to_contain_text("first account on this Cutroom")
    page.get_by_label("E-mail").fill("nina@example.com")
    page.get_by_label("Your name").fill("Nina")
    page.get_by_role("button", name="Continue").click()
    # The same answer whether or not the address has an account: the mail tells which.
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    shot(page, "signup-sent")
    page.goto(live_server.url + last_link("/signup/finish/"))
    expect(page.get_by_text("nina@example.com")).to_be_visible()
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Password again").fill("short")
    page.get_by_role("button", name="Create account").click()
    # The error is shown next to the field.
    expect(page.locator("#id_password1_error")).to_contain_text("too short")
    shot(page, "signup-error")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nina's studio")
    expect(page.get_by_label("Team")).to_have_value(re.compile(r".+"))
    expect(page.get_by_text("Welcome to Cutroom")).to_be_visible()
    expect(page.get_by_text("Your account administers this Cutroom")).to_be_visible()
    expect(page.get_by_role("link", name="Administration", include_hidden=True)).to_be_attached()
    shot(page, "team-home")


def test_sign_up_for_an_address_with_an_account_says_the_same(
    page: Page, live_server, alice, settings
) -> None:
    settings.SIGNUP = "open"  # who may sign up is tests/e2e/test_governance_e2e.py
    page.goto(f"{live_server.url}/accounts/signup/")
    page.get_by_label("E-mail").fill("alice@example.com")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    assert "already has one" in mail.outbox[-1].body


def test_sign_out_and_back_in(page: Page, live_server, alice, console_errors) -> None:
    sign_in(page, live_server.url, "alice@example.com")
    expect(page.get_by_role("heading", level=1)).to_have_text("Alice's studio")
    sign_out(page)
    # Sign-up is by invitation (the default): the bar offers no sign-up, but how to join.
    expect(page.get_by_role("link", name="Sign up")).to_have_count(0)
    expect(page.get_by_role("link", name="How to join")).to_be_visible()
    page.get_by_label("E-mail").fill("alice@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alice's studio")


def test_repeated_wrong_password_locks_out(page: Page, live_server, alice, settings) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        page.get_by_label("E-mail").fill("alice@example.com")
        page.get_by_label("Password").fill("not my password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("do not match an account")
    page.get_by_label("E-mail").fill("alice@example.com")
    page.get_by_label("Password").fill("not my password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#lockout")).to_contain_text("Too many failed sign-in attempts")
    expect(page.locator("#lockout")).to_contain_text("15 minutes")
    shot(page, "lockout")
    # The right password does not get through while the lock holds.
    page.get_by_label("E-mail").fill("alice@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#lockout")).to_be_visible()


def test_invite_flow_two_browsers(browser: Browser, live_server, alice, team, owner_membership):
    """Sign-up is by invitation (the default): the invitation lets its holder in."""
    owner = browser.new_context()
    guest = browser.new_context()
    try:
        page = owner.new_page()
        sign_in(page, live_server.url, "alice@example.com")
        page.get_by_label("Team").select_option(label="Northwind Films")
        expect(page.get_by_role("heading", level=1)).to_have_text("Northwind Films")
        page.get_by_role("link", name="Members").first.click()
        page.get_by_label("Role", exact=True).select_option("viewer")
        page.get_by_label("Note (who is it for?)").fill("Gus from sound")
        page.get_by_role("button", name="Create invitation link").click()
        link = page.get_by_label("Invitation link").input_value()
        assert "/invite/" in link
        shot(page, "members-invite")

        other = guest.new_page()
        other.goto(link)
        expect(other.get_by_role("heading", level=1)).to_have_text("Join Northwind Films")
        other.get_by_role("link", name="Create an account").click()
        # The sign-up form says that it accepts the invitation too: no separate joining step.
        expect(other.locator("#signup-invitation")).to_contain_text("Northwind Films")
        expect(other.locator("#signup-invitation")).to_contain_text("viewer")
        other.get_by_label("E-mail").fill("gus@example.com")
        other.get_by_label("Your name").fill("Gus")
        shot(other, "signup-from-invitation")
        other.get_by_role("button", name="Continue").click()
        expect(other.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
        other.goto(live_server.url + last_link("/signup/finish/"))
        expect(other.locator("#signup-invitation")).to_contain_text("Northwind Films")
        other.get_by_label("Password", exact=True).fill(PASSWORD)
        other.get_by_label("Password again").fill(PASSWORD)
        other.get_by_role("button", name="Create account").click()
        expect(other.get_by_role("heading", level=1)).to_have_text("Northwind Films")
        expect(other.get_by_text("You joined Northwind Films as viewer.")).to_be_visible()
        expect(other.get_by_role("button", name="Join team")).to_have_count(0)
        expect(other.get_by_label("Team")).to_have_value(team.code)
        assert Membership.objects.get(user__email="gus@example.com", team=team).role == Role.VIEWER

        # The used link does not work a second time, for anyone.
        third = browser.new_context()
        late = third.new_page()
        late.goto(link)
        expect(late.get_by_role("alert")).to_contain_text("already been used")
        third.close()

        page.reload()
        expect(page.locator("tr[data-member='gus@example.com']")).to_contain_text("Gus")
        expect(page.get_by_label("Role of gus@example.com")).to_have_value("viewer")
        expect(page.get_by_text("used by gus@example.com")).to_be_visible()
    finally:
        owner.close()
        guest.close()


def test_viewer_does_not_see_editor_controls(browser: Browser, live_server, bob, carol, team):
    Project.objects.create(team=team, name="Spring ad")
    for email, can_edit in (("bob@example.com", True), ("carol@example.com", False)):
        context = browser.new_context()
        page = context.new_page()
        sign_in(page, live_server.url, email)
        page.goto(f"{live_server.url}/t/{team.code}/")
        new_project = page.get_by_role("button", name="Create project")
        expect(new_project).to_have_count(1 if can_edit else 0)
        page.get_by_role("link", name="Spring ad").click()
        expect(page.get_by_role("link", name="Edit details")).to_have_count(1 if can_edit else 0)
        shot(page, f"project-as-{email.split('@')[0]}")
        context.close()


def test_owner_changes_role_and_last_owner_is_kept(page: Page, live_server, alice, bob, team):
    sign_in(page, live_server.url, "alice@example.com")
    page.goto(f"{live_server.url}/t/{team.code}/members/")
    page.get_by_label("Role of bob@example.com").select_option("viewer")
    page.locator("tr[data-member='bob@example.com']").get_by_role(
        "button", name="Change role"
    ).click()
    expect(page.get_by_text("Bob is now viewer.")).to_be_visible()
    page.get_by_label("Role of alice@example.com").select_option("editor")
    page.locator("tr[data-member='alice@example.com']").get_by_role(
        "button", name="Change role"
    ).click()
    expect(page.get_by_role("status")).to_contain_text("at least one owner")
    shot(page, "members-owner")


def test_sign_up_from_a_withdrawn_invitation_still_makes_the_account(
    browser: Browser, live_server, alice, team, owner_membership, settings
):
    """With sign-up open; invitation only, it makes no account
    (tests/accounts/test_signup_policy.py)."""
    settings.SIGNUP = "open"
    from accounts.models import Invitation
    from accounts.services import invitation_create, invitation_revoke

    invitation, token = invitation_create(team=team, role="editor", created_by=alice)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/invite/{token}/")
        page.get_by_role("link", name="Create an account").click()
        expect(page.locator("#signup-invitation")).to_contain_text("Northwind Films")
        page.get_by_label("E-mail").fill("hal@example.com")
        page.get_by_role("button", name="Continue").click()
        page.goto(live_server.url + last_link("/signup/finish/"))
        # The owner withdraws the link while the person is choosing a password.
        invitation_revoke(invitation=Invitation.objects.get(pk=invitation.pk))
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Password again").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_text("Your account was created, but you could not join")).to_be_visible()
        expect(page.get_by_text("withdrawn by the team's owner")).to_be_visible()
        expect(page.get_by_role("heading", level=1)).to_have_text("hal's studio")
        assert not Membership.objects.filter(user__email="hal@example.com", team=team).exists()
        shot(page, "signup-from-withdrawn-invitation")
    finally:
        context.close()
