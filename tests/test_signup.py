from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Membership, Role, User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_signup_creates_user_and_personal_team(client):
    response = client.post(
        reverse("signup"),
        {
            "email": "New.Person@Example.com",
            "name": "Nia",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    user = User.objects.get(email="new.person@example.com")
    membership = Membership.objects.get(user=user)
    assert membership.role == Role.OWNER and membership.team.personal
    assert user.current_team == membership.team
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.get(reverse("home")).url == reverse("team_detail", args=[membership.team.code])


def test_signup_errors_are_shown_next_to_fields(client, alice):
    response = client.post(
        reverse("signup"),
        {"email": "alice@example.com", "password1": "123", "password2": "456"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "An account with this e-mail already exists" in body
    assert "The two passwords do not match" in body
    assert 'id="id_email_error"' in body


def test_signup_rejects_weak_password(client):
    response = client.post(
        reverse("signup"),
        {"email": "x@example.com", "password1": "12345678", "password2": "12345678"},
    )
    assert "This password is too common" in response.content.decode()
    assert not User.objects.filter(email="x@example.com").exists()


def test_signup_follows_safe_next_only(client):
    data = {"email": "n@example.com", "password1": PASSWORD, "password2": PASSWORD}
    response = client.post(reverse("signup") + "?next=https://evil.example/", data)
    assert response.url == reverse("home")


def test_login_is_case_insensitive_and_logout_needs_post(client, alice):
    response = client.post(
        reverse("login"), {"username": "ALICE@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("logout")).status_code == 405
    client.post(reverse("logout"))
    assert client.get(reverse("account_settings")).status_code == 302


def test_wrong_password_message(client, alice):
    response = client.post(reverse("login"), {"username": "alice@example.com", "password": "nope"})
    assert "do not match an account" in response.content.decode()


def test_lockout_after_repeated_failures(client, alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "alice@example.com", "password": "wrong"})
    # Even the right password is refused while the lock holds.
    response = client.post(
        reverse("login"), {"username": "alice@example.com", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    # Another account from the same address is not locked.
    User.objects.create_user("other@example.com", PASSWORD)
    response = client.post(
        reverse("login"), {"username": "other@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302


def test_password_reset_sends_mail_and_link_works(client, alice):
    client.post(reverse("password_reset"), {"email": "alice@example.com"})
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/reset/" in line)
    path = link.split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path, follow=True)
    assert response.status_code == 200
    new = "another long passphrase 42"
    response = client.post(
        response.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}
    )
    assert response.url == reverse("password_reset_complete")
    alice.refresh_from_db()
    assert alice.check_password(new)


def test_password_change(as_alice, alice):
    new = "a different passphrase 7"
    response = as_alice.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.url == reverse("password_change_done")
    alice.refresh_from_db()
    assert alice.check_password(new)


def test_account_settings_saves_name(as_alice, alice):
    as_alice.post(reverse("account_settings"), {"name": "  Alice Liddell "})
    alice.refresh_from_db()
    assert alice.name == "Alice Liddell"
