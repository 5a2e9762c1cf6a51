"""Rate limits on public share links: fixed windows that end, the address the proxy setting
trusts, a per-link lock after wrong passwords, and the shared counter they are kept in."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import caches
from django.core.cache.backends import db as db_cache
from django.db import connection
from django.test import Client
from django.utils import timezone

from studio.review import shares

pytestmark = pytest.mark.django_db

PAGE_LIMIT = 60


class WallClock:
    """A controllable time.time (what django-ratelimit's windows follow): starts at the real
    time and moves only when told."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def production_caches(settings: Any, tmp_path: Any) -> None:
    """The caches studio/settings.py configures (the conftest swaps in local-memory ones)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
            "TIMEOUT": 300,
        },
        "ratelimit": {
            "BACKEND": "accounts.limits.AtomicDatabaseCache",
            "LOCATION": "cutroom_rate_limits",
        },
    }


@pytest.fixture
def wall_clock(monkeypatch: pytest.MonkeyPatch) -> WallClock:
    clock = WallClock()
    monkeypatch.setattr(time, "time", clock)
    return clock


def test_the_page_limit_is_a_fixed_minute_that_refused_requests_do_not_extend(
    client, production_caches, wall_clock
):
    statuses = [client.get(f"/s/unknown-{n}/").status_code for n in range(PAGE_LIMIT)]
    assert statuses == [404] * PAGE_LIMIT
    refused = client.get("/s/unknown/")
    assert refused.status_code == 429
    retry_after = int(refused["Retry-After"])
    assert 1 <= retry_after <= 60
    # Knocking on every second while the window lasts keeps getting 429 but does not
    # move its end.
    for _ in range(retry_after - 1):
        wall_clock.advance(1)
        assert client.get("/s/unknown/").status_code == 429
    wall_clock.advance(1)
    assert client.get("/s/unknown/").status_code == 404
    assert [client.get(f"/s/u-{n}/").status_code for n in range(PAGE_LIMIT - 1)] == [404] * (
        PAGE_LIMIT - 1
    )


def proxied(forwarded_for: str) -> Client:
    """A visitor reaching gunicorn through one reverse proxy at 10.0.0.1."""
    return Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for)


def test_visitors_behind_the_proxy_are_counted_apart_when_it_is_trusted(settings):
    settings.PROXY_COUNT = 1
    first, second = proxied("203.0.113.5"), proxied("203.0.113.6")
    for n in range(PAGE_LIMIT):
        first.get(f"/s/unknown-{n}/")
    assert first.get("/s/unknown/").status_code == 429
    assert second.get("/s/unknown/").status_code == 404
    # What the client wrote itself is to the left of what our proxy appended: ignored.
    assert proxied("198.51.100.9, 203.0.113.5").get("/s/unknown/").status_code == 429
    assert proxied("203.0.113.5, 203.0.113.7").get("/s/unknown/").status_code == 404


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(settings):
    settings.PROXY_COUNT = 0
    first, second = proxied("203.0.113.5"), proxied("203.0.113.6")
    for n in range(PAGE_LIMIT):
        first.get(f"/s/unknown-{n}/")
    assert second.get("/s/unknown/").status_code == 429


def test_sign_in_counts_failures_by_the_same_address(settings, alice):
    from axes.models import AccessAttempt

    settings.PROXY_COUNT = 1
    proxied("198.51.100.9, 203.0.113.5").post(
        "/accounts/login/", {"username": "alice@example.com", "password": "wrong"}
    )
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.5"]


@pytest.fixture
def protected(make_take, bob) -> tuple[Any, str]:
    take = make_take(result=b"video")
    return shares.share_create(
        take=take,
        author=bob,
        days=7,
        allow_download=False,
        show_prompt=False,
        password="open sesame",
    )


def test_a_link_refuses_passwords_after_ten_wrong_ones_from_anywhere(protected, wall_clock):
    link, token = protected
    viewer = Client(REMOTE_ADDR="192.0.2.200")
    viewer.post(f"/s/{token}/", {"password": "open sesame"})  # unlocked before the attack
    for n in range(10):
        attacker = Client(REMOTE_ADDR=f"192.0.2.{n + 1}")
        assert attacker.post(f"/s/{token}/", {"password": f"guess {n}"}).status_code == 401
    # From a new address, even the right password is refused while the lock holds.
    latecomer = Client(REMOTE_ADDR="192.0.2.100")
    locked = latecomer.post(f"/s/{token}/", {"password": "open sesame"})
    assert locked.status_code == 429
    page = locked.content.decode()
    # The lock ends with its fixed window, so it may have 1 minute or 15 left.
    assert "Too many wrong passwords" in page
    assert re.search(r"Try again in \d+ minutes?\.", page)
    assert int(locked["Retry-After"]) <= 15 * 60
    assert latecomer.get(f"/s/{token}/media/result").status_code == 404
    # Someone who unlocked the link before keeps watching.
    assert viewer.get(f"/s/{token}/").status_code == 200
    wall_clock.advance(int(locked["Retry-After"]))
    assert latecomer.post(f"/s/{token}/", {"password": "open sesame"}).status_code == 302
    assert latecomer.get(f"/s/{token}/media/result").status_code == 200


def test_wrong_passwords_on_one_link_do_not_lock_another(protected, bob):
    link, token = protected
    _, other = shares.share_create(
        take=link.take,
        author=bob,
        days=7,
        allow_download=False,
        show_prompt=False,
        password="open sesame",
    )
    for n in range(10):
        Client(REMOTE_ADDR=f"192.0.2.{n + 1}").post(f"/s/{token}/", {"password": "no"})
    assert Client().post(f"/s/{other}/", {"password": "open sesame"}).status_code == 302


# --- The counter store: Django's database cache with an atomic incr. ---


@pytest.fixture
def counters(production_caches) -> Any:
    cache = caches["ratelimit"]
    cache.clear()
    return cache


def _expiry(key: str) -> Any:
    cache = caches["ratelimit"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT expires FROM cutroom_rate_limits WHERE cache_key = %s",
            [cache.make_key(key)],
        )
        return cursor.fetchone()[0]


def test_incr_keeps_the_expiry_it_was_added_with(counters):
    assert counters.add("k", 0, timeout=60)
    before = _expiry("k")
    assert counters.incr("k") == 1 and counters.incr("k", 5) == 6
    assert _expiry("k") == before  # Django's incr re-sets it to the default timeout
    with pytest.raises(ValueError):
        counters.incr("missing")


def test_incr_of_an_expired_counter_is_missing(counters, monkeypatch):
    counters.add("short", 0, timeout=1)
    later = timezone.now() + timedelta(seconds=2)
    monkeypatch.setattr(db_cache, "tz_now", lambda: later)  # the clock the cache expires by
    with pytest.raises(ValueError):
        counters.incr("short")
    assert counters.add("short", 0, timeout=60)  # a new window starts from zero


@pytest.mark.django_db(transaction=True)
def test_concurrent_increments_are_all_counted(production_caches):
    """Each thread has its own database connection, as gunicorn's workers do."""
    cache = caches["ratelimit"]
    cache.clear()
    cache.add("hits", 0, timeout=60)
    threads, per_thread = 6, 25
    errors: list[BaseException] = []

    def work() -> None:
        from django.db import connections

        try:
            for _ in range(per_thread):
                caches["ratelimit"].incr("hits")
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors
    assert cache.get("hits") == threads * per_thread
