"""Share links copied again (issue 23, item 5): the token is kept sealed, never in clear; the one
who made a link and the team's owners see its address, other editors only revoke it; links made
before tokens were kept (or under an earlier SECRET_KEY) are made again in one step."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from studio.models import ShareLink, Take
from studio.review import shares
from tests.conftest import client_for, join, make_user

pytestmark = pytest.mark.django_db

FORM = {"expires": "7", "password": "harbour lights", "allow_download": "on", "show_prompt": "on"}


@pytest.fixture
def take(make_take) -> Take:
    return make_take()


def made_by_bob(as_bob: Client, take: Take) -> tuple[ShareLink, str]:
    """A link bob makes on the take page; its address as the next page shows it."""
    as_bob.post(reverse("share_create", args=[take.code]), FORM)
    link = ShareLink.objects.get(revoked_at=None)
    page = as_bob.get(reverse("take_detail", args=[take.code])).content.decode()
    return link, shown_url(page, link)


def shown_url(page: str, link: ShareLink) -> str:
    found = re.search(rf'id="share-url-{link.code}" type="text" readonly value="([^"]+)"', page)
    return found.group(1) if found else ""


def test_the_token_is_sealed_at_rest_and_the_hash_still_finds_it(as_bob, client, take):
    link, url = made_by_bob(as_bob, take)
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert len(token) >= 40
    with connection.cursor() as cursor:  # the row as a database leak would give it
        table = ShareLink._meta.db_table
        cursor.execute(f"SELECT * FROM {table} WHERE code = %s", [link.code])  # noqa: S608
        row = " ".join(str(value) for value in cursor.fetchone())
    assert token not in row
    assert link.token_hash == shares.token_digest(token) and link.token_sealed
    assert shares.share_find(token) == link
    assert client.get(url).status_code == 200
    # Shown again on every visit, not once.
    again = as_bob.get(reverse("take_detail", args=[take.code])).content.decode()
    assert shown_url(again, link) == url
    assert "New share link" not in again


def test_who_sees_the_address(as_bob, as_alice, as_carol, as_dave, team, take):
    link, url = made_by_bob(as_bob, take)
    page_url = reverse("take_detail", args=[take.code])
    assert shown_url(as_alice.get(page_url).content.decode(), link) == url  # an owner
    erin = make_user("erin@example.com", "Erin")
    join(erin, team, Role.EDITOR)
    other_editor = client_for(erin).get(page_url).content.decode()
    assert url not in other_editor and shown_url(other_editor, link) == ""
    assert "Only Bob and the team's owners can copy this link." in other_editor
    assert "Revoke" in other_editor  # as before: any editor may revoke
    assert url not in as_carol.get(page_url).content.decode()  # a viewer sees no links
    assert as_dave.get(page_url).status_code == 404


def old_link(take: Take, author, **fields) -> ShareLink:
    """A link as made before tokens were kept: a hash and nothing to show."""
    now = timezone.now()
    defaults = {
        "take": take,
        "token_hash": shares.token_digest("an old token of forty-three characters......"),
        "created_by": author,
        "created_at": now - timedelta(days=2),
        "expires_at": now + timedelta(days=28),
        "allow_download": True,
        "allow_comments": True,
        "show_prompt": False,
        "password_hash": make_password("harbour lights"),
    }
    return ShareLink.objects.create(**defaults | fields)


def test_an_old_link_is_made_again_like_itself(as_bob, client, bob, take):
    old = old_link(take, bob)
    old_token = "an old token of forty-three characters......"
    assert client.get(f"/s/{old_token}/").status_code == 200  # the password page: it works
    page = as_bob.get(reverse("take_detail", args=[take.code])).content.decode()
    assert "Made before links could be shown again" in page
    assert "Make a new link like this one" in page
    response = as_bob.post(reverse("share_renew", args=[old.code]))
    assert response.status_code == 302
    old.refresh_from_db()
    assert old.revoked_at is not None
    assert client.get(f"/s/{old_token}/").status_code == 404  # stops at once
    new = ShareLink.objects.get(revoked_at=None)
    assert (new.take, new.created_by, new.allow_download, new.allow_comments) == (
        take,
        bob,
        True,
        True,
    )
    assert new.show_prompt is False and new.password_hash == old.password_hash
    assert new.expires_at - new.created_at == pytest.approx(timedelta(days=30), abs=timedelta(1))
    after = as_bob.get(response.url).content.decode()
    url = shown_url(after, new)
    assert url and "New share link" in after
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert shares.share_find(token) == new
    assert shares.share_password_ok(new, "harbour lights")


def test_a_link_sealed_under_another_secret_key_says_so(as_bob, bob, take, settings):
    link, url = made_by_bob(as_bob, take)
    settings.SECRET_KEY = "another key, rotated since: " + "k" * 40
    signed_in_again = client_for(bob)  # sessions signed with the old key are over too
    page = signed_in_again.get(reverse("take_detail", args=[take.code])).content.decode()
    assert url not in page
    assert "Made before this server's secret key changed" in page
    assert shares.share_find(url.rstrip("/").rsplit("/", 1)[1]) == link  # it still works


def test_who_may_make_an_old_link_again(as_alice, as_carol, as_dave, team, bob, take):
    old = old_link(take, bob)
    renew = reverse("share_renew", args=[old.code])
    erin = make_user("erin@example.com", "Erin")
    join(erin, team, Role.EDITOR)
    page = client_for(erin).get(reverse("take_detail", args=[take.code])).content.decode()
    assert "Make a new link like this one" not in page
    assert client_for(erin).post(renew).status_code == 403
    assert as_carol.post(renew).status_code == 403
    assert as_dave.post(renew).status_code == 404
    assert as_alice.get(renew).status_code == 405
    assert ShareLink.objects.get().revoked_at is None
    assert as_alice.post(renew).status_code == 302  # an owner may
    assert ShareLink.objects.filter(revoked_at=None).get().created_by.email == "alice@example.com"
