from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import Membership, Role, User
from tests.conftest import PASSWORD, last_link, sign_up

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def open_signup(settings):
    """These tests are about how signing up works; who may sign up (invitation only by
    default) is tests/accounts/test_signup_policy.py."""
    settings.SIGNUP = "open"


@pytest.fixture
def no_smtp(settings):
    settings.MAILERS = {"default": {"BACKEND": "accounts.mail.NoMailBackend"}}


def test_signup_creates_user_and_personal_team(client):
    response = client.post(reverse("signup"), {"email": "New.Person@Example.com", "name": "Nia"})
    assert response.url == reverse("signup_sent")
    assert not User.objects.filter(email="new.person@example.com").exists()  # not yet
    assert mail.outbox[0].to == ["new.person@example.com"]
    page = client.get(last_link("/signup/finish/")).content.decode()
    assert "new.person@example.com" in page and "Choose your password" in page
    response = client.post(
        last_link("/signup/finish/"), {"password1": PASSWORD, "password2": PASSWORD}
    )
    user = User.objects.get(email="new.person@example.com")
    assert user.name == "Nia" and user.check_password(PASSWORD)
    membership = Membership.objects.get(user=user)
    assert membership.role == Role.OWNER and membership.team.personal
    assert user.current_team == membership.team
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.get(reverse("home")).url == reverse("team_detail", args=[membership.team.code])


def test_signup_answers_the_same_whether_the_address_has_an_account(client, alice):
    """Only the mailbox learns which it was: a link to finish, or how to sign in."""
    answers = []
    for email in ("alice@example.com", "someone.new@example.com"):
        response = client.post(reverse("signup"), {"email": email, "name": "X"})
        page = client.get(response.url)
        answers.append((response.status_code, response.url, page.status_code, page.content))
    assert answers[0] == answers[1]
    existing, new = mail.outbox
    assert "/signup/finish/" not in existing.body and "already has one" in existing.body
    assert reverse("password_reset") in existing.body
    assert "/signup/finish/" in new.body
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD) and User.objects.count() == 1


def test_signup_link_works_once_and_not_when_forged_or_old(client, monkeypatch):
    client.post(reverse("signup"), {"email": "erin@example.com"})
    link = last_link("/signup/finish/")
    forged = link[:-6] + ("A" if link[-6] != "A" else "B") + link[-5:]
    assert client.get(forged).status_code == 404
    import time

    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 3 * 24 * 3600 + 60)
    old = client.get(link)
    assert old.status_code == 404 and "older than three days" in old.content.decode()
    monkeypatch.undo()
    data = {"password1": PASSWORD, "password2": PASSWORD}
    assert client.post(link, data).url == reverse("home")
    again = Client().post(link, data)
    assert again.url == reverse("login")
    assert User.objects.filter(email="erin@example.com").count() == 1


def test_signup_finish_errors_are_shown_next_to_fields(client):
    client.post(reverse("signup"), {"email": "x@example.com"})
    link = last_link("/signup/finish/")
    body = client.post(link, {"password1": "123", "password2": "456"}).content.decode()
    assert "The two passwords do not match" in body
    weak = client.post(link, {"password1": "12345678", "password2": "12345678"})
    assert "This password is too common" in weak.content.decode()
    assert not User.objects.filter(email="x@example.com").exists()


def test_signup_follows_safe_next_only(client):
    response = sign_up(client, "n@example.com", next_url="https://evil.example/")
    assert response.url == reverse("home")
    other = Client()
    response = sign_up(other, "m@example.com", next_url=reverse("account_settings"))
    assert response.url == reverse("account_settings")


# --- Without mail, sign-up is one step, and must say when an address is taken. ---


def test_without_mail_signup_is_one_step(client, no_smtp):
    response = client.post(
        reverse("signup"),
        {"email": "Solo@Example.com", "name": "Solo", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.url == reverse("home")
    assert User.objects.get(email="solo@example.com").check_password(PASSWORD)
    assert not mail.outbox


def test_without_mail_signup_errors_are_shown_next_to_fields(client, alice, no_smtp):
    response = client.post(
        reverse("signup"),
        {"email": "alice@example.com", "password1": "123", "password2": "456"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "An account with this e-mail already exists" in body
    assert "The two passwords do not match" in body
    assert 'id="id_email_error"' in body


def test_without_mail_one_address_may_try_only_a_few_sign_ups(client, no_smtp):
    """So the form cannot be used to test many addresses for accounts."""
    for n in range(10):
        assert client.post(reverse("signup"), {"email": f"p{n}@example.com"}).status_code == 200
    refused = client.post(reverse("signup"), {"email": "p10@example.com"})
    assert refused.status_code == 429 and "Too many sign-up attempts" in refused.content.decode()


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
