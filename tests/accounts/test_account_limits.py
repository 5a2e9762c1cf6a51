"""Limits on the account pages: reset mail per address and per e-mail, and sign-in failures
from one address across every account (django-axes only counts per account and address)."""

from __future__ import annotations

import re
import time

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def reset(client: Client, email: str) -> int:
    return client.post(reverse("password_reset"), {"email": email}).status_code


def test_reset_mail_to_one_address_is_throttled_politely(client, alice):
    """The audit sent 16 reset mails in one second; now three an hour reach one inbox."""
    statuses = [reset(client, "alice@example.com") for _ in range(16)]
    assert statuses == [302] * 3 + [429] * 13
    assert len(mail.outbox) == 3
    refused = client.post(reverse("password_reset"), {"email": "alice@example.com"})
    page = refused.content.decode()
    # "1 minute" when the window is about to end, "N minutes" otherwise.
    assert "Too many reset requests" in page and re.search(r"Try again in \d+ minutes?", page)
    assert 0 < int(refused["Retry-After"]) <= 3600
    # Other people's resets go on.
    assert reset(Client(REMOTE_ADDR="192.0.2.9"), "bob@example.com") == 302


def page(response, email: str) -> str:
    """The page without what differs by nature: the address typed, the CSRF token and the
    wait (django-ratelimit staggers each counter's window by a hash of its key, here the
    e-mail typed, whether or not it has an account)."""
    text = response.content.decode().replace(email, "")
    text = re.sub(r"Try again in \d+ minutes?", "", text)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)


def test_the_throttle_does_not_reveal_whether_an_account_exists(alice):
    answers = {}
    for email in ("alice@example.com", "nobody@example.com"):
        client = Client(REMOTE_ADDR="192.0.2.1" if "alice" in email else "192.0.2.2")
        responses = [client.post(reverse("password_reset"), {"email": email}) for _ in range(5)]
        answers[email] = [(r.status_code, r.get("Location"), page(r, email)) for r in responses]
    assert answers["alice@example.com"] == answers["nobody@example.com"]
    assert len(mail.outbox) == 3  # alice's mails; nobody has no account


def test_one_address_may_ask_for_only_a_few_resets(alice):
    client = Client(REMOTE_ADDR="192.0.2.1")
    statuses = [reset(client, f"person{n}@example.com") for n in range(11)]
    assert statuses == [302] * 10 + [429]
    assert reset(Client(REMOTE_ADDR="192.0.2.2"), "alice@example.com") == 302


def login(client: Client, email: str, password: str = "wrong") -> int:  # noqa: S107
    return client.post(reverse("login"), {"username": email, "password": password}).status_code


def test_one_address_cannot_try_a_password_on_every_account(alice, settings, monkeypatch):
    limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    attacker = Client(REMOTE_ADDR="198.51.100.7")
    # One guess per account stays below django-axes' per-account limit every time.
    statuses = [login(attacker, f"user{n}@example.com") for n in range(limit)]
    assert statuses == [200] * limit
    refused = attacker.post(
        reverse("login"), {"username": "alice@example.com", "password": PASSWORD}
    )
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "Too many failed sign-in attempts from your network" in page
    retry_after = int(refused["Retry-After"])
    assert 0 < retry_after <= settings.AXES_COOLOFF_TIME.total_seconds()
    # Everyone else signs in as usual.
    assert login(Client(REMOTE_ADDR="198.51.100.8"), "alice@example.com", PASSWORD) == 302
    # The pause ends with its window.
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + retry_after)
    assert login(attacker, "alice@example.com", PASSWORD) == 302


def test_successful_sign_ins_do_not_count(alice, settings):
    client = Client(REMOTE_ADDR="198.51.100.9")
    for _ in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT + 5):
        assert login(client, "alice@example.com", PASSWORD) == 302
        client.post(reverse("logout"))
