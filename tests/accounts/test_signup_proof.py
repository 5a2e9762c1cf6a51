"""Domain sign-up proves the address (docs/governance.md "Who may join"): by the mailed link,
and without mail the administration page will not turn it on, and sign-ups it lets through
anyway (STUDIO_SIGNUP=domain, or mail gone later) wait for an administrator's approval."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import Instance, Membership, Team, User
from tests.conftest import PASSWORD, client_for, last_link, make_user

pytestmark = pytest.mark.django_db

PASSWORDS = {"password1": PASSWORD, "password2": PASSWORD}


@pytest.fixture
def no_smtp(settings: Any) -> None:
    settings.MAILERS = {"default": {"BACKEND": "accounts.mail.NoMailBackend"}}


@pytest.fixture
def root(db: Any) -> User:
    return make_user("root@example.com", "Root")  # the first account: it administers


@pytest.fixture
def as_root(root: User) -> Client:
    return client_for(root)


@pytest.fixture
def domain_from_environment(settings: Any, root: User) -> None:
    settings.SIGNUP, settings.SIGNUP_DOMAINS = "domain", ["example.com"]


def text(response: Any) -> str:
    return response.content.decode()


def at_once(client: Client, email: str) -> Any:
    return client.post(reverse("signup"), {"email": email, "name": "Ceo", **PASSWORDS})


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_domain_mode_cannot_be_turned_on_without_mail(as_root, no_smtp):
    response = as_root.post(
        reverse("administration_signup"), {"mode": "domain", "domains": "example.com"}
    )
    assert response.status_code == 400
    page = text(response)
    assert "cannot send e-mail" in page and "STUDIO_EMAIL_HOST" in page
    assert "Nothing was changed" in page
    assert Instance.get().signup == ""  # still the environment's (invitation only)
    # The other modes need no mail.
    open_ = as_root.post(reverse("administration_signup"), {"mode": "open", "domains": ""})
    assert open_.status_code == 302 and Instance.get().signup == "open"


def test_with_mail_domain_mode_can_be_turned_on(as_root):
    response = as_root.post(
        reverse("administration_signup"), {"mode": "domain", "domains": "example.com"}
    )
    assert response.status_code == 302 and Instance.get().signup == "domain"


def test_with_mail_a_domain_signup_is_signed_in_only_from_the_link(client, domain_from_environment):
    response = client.post(reverse("signup"), {"email": "ceo@example.com", "name": "Ceo"})
    assert response.url == reverse("signup_sent")
    assert not signed_in(client) and not User.objects.filter(email="ceo@example.com").exists()
    # Even someone who sends the one-step form's fields gets only the mailed step.
    at_once(client, "ceo@example.com")
    assert not signed_in(client) and not User.objects.filter(email="ceo@example.com").exists()
    finished = client.post(last_link("/signup/finish/"), PASSWORDS)
    assert finished.status_code == 302 and signed_in(client)
    ceo = User.objects.get(email="ceo@example.com")
    assert ceo.is_active and ceo.email_confirmed_at is not None
    assert Team.objects.filter(memberships__user=ceo, personal=True).count() == 1


def test_without_mail_a_domain_signup_waits_for_approval(client, domain_from_environment, no_smtp):
    page = text(client.get(reverse("signup")))
    assert "wait for an administrator's approval" in page
    response = at_once(client, "ceo@example.com")
    assert response.status_code == 200
    assert "waits for an administrator's approval" in text(response)
    assert not signed_in(client)
    ceo = User.objects.get(email="ceo@example.com")
    assert not ceo.is_active and ceo.awaiting_approval_since is not None
    assert not Membership.objects.filter(user=ceo).exists()  # no team, nothing to spend
    # Signing in says why it does not work yet (and only to who knows the password).
    login = client.post(reverse("login"), {"username": "ceo@example.com", "password": PASSWORD})
    assert "waits for an administrator" in text(login) and not signed_in(client)
    wrong = client.post(reverse("login"), {"username": "ceo@example.com", "password": "nope-123"})
    assert "waits for" not in text(wrong)
    # The real owner of the address learns what to do.
    again = text(at_once(Client(), "ceo@example.com"))
    assert "already waits for an administrator" in again and "frees the address" in again
    assert User.objects.filter(email="ceo@example.com").count() == 1


def test_the_administrator_approves_a_held_account(
    client, as_root, domain_from_environment, no_smtp
):
    at_once(client, "ceo@example.com")
    admin_page = text(as_root.get(reverse("administration")))
    assert 'id="held"' in admin_page and "ceo@example.com" in admin_page
    assert "No mail can be sent" in admin_page
    response = as_root.post(reverse("administration_held_approve"), {"email": "ceo@example.com"})
    assert response.status_code == 302
    ceo = User.objects.get(email="ceo@example.com")
    assert ceo.is_active and ceo.awaiting_approval_since is None
    assert Team.objects.filter(memberships__user=ceo, personal=True).count() == 1
    login = client.post(reverse("login"), {"username": "ceo@example.com", "password": PASSWORD})
    assert login.status_code == 302 and signed_in(client)


def test_the_administrator_refuses_a_held_account(
    client, as_root, domain_from_environment, no_smtp
):
    at_once(client, "ceo@example.com")
    response = as_root.post(reverse("administration_held_refuse"), {"email": "ceo@example.com"})
    assert response.status_code == 302
    assert not User.objects.filter(email="ceo@example.com").exists()
    # The address is free again for its real owner.
    assert "waits for" in text(at_once(Client(), "ceo@example.com"))


def test_only_administrators_approve(root, as_alice, domain_from_environment, no_smtp, client):
    at_once(client, "ceo@example.com")
    for name in ("administration_held_approve", "administration_held_refuse"):
        assert as_alice.post(reverse(name), {"email": "ceo@example.com"}).status_code == 404
    assert not User.objects.get(email="ceo@example.com").is_active


def test_an_invitation_without_mail_is_not_held(client, root, team, alice, no_smtp, settings):
    from accounts.services import invitation_create

    settings.SIGNUP, settings.SIGNUP_DOMAINS = "domain", ["example.com"]
    _, token = invitation_create(team=team, role="editor", created_by=alice)
    response = client.post(
        reverse("signup") + f"?next={reverse('invite_accept', args=[token])}",
        {"email": "gus@example.com", "name": "Gus", **PASSWORDS},
    )
    assert response.url == reverse("team_detail", args=[team.code]) and signed_in(client)
    assert User.objects.get(email="gus@example.com").is_active
    assert not mail.outbox
