"""/healthz tells anyone whether the studio is healthy (ok and the HTTP status), and only staff
and callers on this machine (the load balancer's local check, `make run`) what is inside: worker
counts, heartbeat times, queue length, provider, free space."""

from __future__ import annotations

import pytest
from django.urls import reverse

from studio.ops import health
from tests.conftest import client_for, scheduler_lease

pytestmark = pytest.mark.django_db
OUTSIDE = "203.0.113.9"
DETAILS = {"database", "worker", "scheduler", "queue", "provider", "disk", "storage"}


def get(client, **meta):
    return client.get(reverse("healthz"), **meta)


@pytest.mark.parametrize("beat", [False, True])
def test_anonymous_callers_get_the_status_only(client, beat):
    if beat:
        health.beat()
        scheduler_lease()
    response = get(client, REMOTE_ADDR=OUTSIDE)
    assert response.status_code == (200 if beat else 503)
    assert response.json() == {"ok": beat}
    assert response["Cache-Control"].startswith("max-age=0")


def test_members_who_are_not_staff_get_the_status_only(bob):
    health.beat()
    scheduler_lease()
    response = get(client_for(bob), REMOTE_ADDR=OUTSIDE)
    assert response.json() == {"ok": True}


def test_staff_get_the_details_from_anywhere(bob):
    bob.is_staff = True
    bob.save(update_fields=["is_staff"])
    health.beat()
    data = get(client_for(bob), REMOTE_ADDR=OUTSIDE).json()
    assert set(data) >= DETAILS and data["worker"]["alive"] == 1


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.53", "::1", "::ffff:127.0.0.1"])
def test_callers_on_this_machine_get_the_details(client, address):
    data = get(client, REMOTE_ADDR=address).json()
    assert set(data) >= DETAILS and data["worker"]["error"] == "no worker is running"


def test_behind_a_proxy_the_forwarded_address_decides(client, settings):
    settings.PROXY_COUNT = 1
    # The proxy runs on this machine; what counts is the address it says it saw.
    assert set(get(client, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=OUTSIDE).json()) == {"ok"}
    # A visitor who sends their own X-Forwarded-For: the proxy appends the real address.
    forged = get(client, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=f"127.0.0.1, {OUTSIDE}")
    assert set(forged.json()) == {"ok"}
    # A check made on this machine straight to gunicorn, past the proxy.
    assert set(get(client, REMOTE_ADDR="127.0.0.1").json()) >= DETAILS


def test_without_a_proxy_a_forwarded_header_is_ignored(client, settings):
    settings.PROXY_COUNT = 0
    response = get(client, REMOTE_ADDR=OUTSIDE, HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert response.json() == {"ok": False}
