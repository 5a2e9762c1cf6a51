"""Share links to a cut's render, as to a take: made from the render page by editors with a
password, an expiry, download and guest comments; the public page plays the cut beside the
whole source; revoked and expired links say so alike (docs/review.md "Share links")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.history import member_share_links
from studio.models import Activity, Comment, CutRender, RenderState, ShareLink
from studio.review import shares
from tests.cuts.rows import render_row

pytestmark = pytest.mark.django_db

GONE = "There is nothing here"  # the 404 page, as for a take's revoked or expired link


@pytest.fixture
def made(project, bob, samples) -> CutRender:
    return render_row(project, bob, samples)


def create_url(render: CutRender) -> str:
    return reverse("render_share_create", args=[render.cut.code, render.number])


def page_url(render: CutRender) -> str:
    return reverse("render_detail", args=[render.cut.code, render.number])


FORM = {
    "expires": "7",
    "password": "harbour lights",
    "allow_download": "on",
    "show_prompt": "on",
    "allow_comments": "on",
}


def test_an_editor_shares_a_render_and_sees_the_link_again(made, as_bob, bob):
    response = as_bob.post(create_url(made), FORM)
    assert response.status_code == 302 and response.url == page_url(made)
    link = ShareLink.objects.get()
    assert (link.render, link.take, link.created_by) == (made, None, bob)
    assert link.allow_download and link.allow_comments and link.password_hash
    assert link.expires_at - timezone.now() == pytest.approx(timedelta(days=7), abs=timedelta(1))
    page = as_bob.get(page_url(made)).content.decode()
    assert "New share link" in page and "/s/" in page
    assert "password · download · review: guests may comment" in page
    again = as_bob.get(page_url(made)).content.decode()
    assert "New share link" not in again and "/s/" in again  # shown again, not as new
    entry = Activity.objects.get(verb="shared")
    assert entry.summary == (
        "shared Clay version v1 — cut of interview.mp4 for review (guests may comment)"
    )
    assert entry.render == made
    # It counts among the links the member made (removing them offers to revoke it).
    assert list(member_share_links(made.cut.project.team, bob)) == [link]


def test_a_bad_form_keeps_the_render_page_with_the_reason(made, as_bob):
    response = as_bob.post(create_url(made), FORM | {"password": "short"})
    assert response.status_code == 400
    assert "Use at least 8 characters" in response.content.decode()
    assert not ShareLink.objects.exists()


def test_viewers_outsiders_and_unfinished_renders_cannot_be_shared(made, as_carol, as_dave, as_bob):
    assert as_carol.post(create_url(made), FORM).status_code == 403
    assert as_dave.post(create_url(made), FORM).status_code == 404
    assert as_bob.get(create_url(made)).status_code == 405
    made.state = RenderState.FAILED
    made.save(update_fields=["state"])
    refused = as_bob.post(create_url(made), FORM, follow=True)
    assert "Only finished renders can be shared." in refused.content.decode()
    assert not ShareLink.objects.exists()


def test_the_shared_page_plays_the_cut_beside_the_whole_source(made, bob):
    link, token = shares.share_create(
        render=made,
        author=bob,
        days=None,
        allow_download=True,
        show_prompt=True,
        password="harbour lights",
    )
    guest = Client()
    url = reverse("share_page", args=[token])
    locked = guest.get(url).content.decode()
    assert "Clay version" not in locked and "data-compare" not in locked
    media = reverse("share_media", args=[token, "result"])
    assert guest.get(media).status_code == 404  # nothing before the password
    assert guest.post(url, {"password": "wrong password"}).status_code == 401
    guest.post(url, {"password": "harbour lights"})
    page = guest.get(url).content.decode()
    assert "Clay version v1" in page and 'data-fps="25"' in page
    assert 'data-duration="9.000"' in page and "<figcaption>Source</figcaption>" in page
    assert reverse("share_media", args=[token, "source"]) in page
    assert "clay from 1 s" in page and "clay from 5 s" in page  # the prompts it used
    source = guest.get(reverse("share_media", args=[token, "source"]))
    assert b"".join(source.streaming_content) == made.cut.clip.source.open("rb").read()
    download = guest.get(media + "?download=1")
    assert download["Content-Disposition"] == 'attachment; filename="interview-clay-version-v1.mp4"'
    assert b"".join(download.streaming_content) == made.file.open("rb").read()
    link.refresh_from_db()
    assert link.views == 1


def test_download_off_serves_the_cut_inline_only(made, bob):
    _, token = shares.share_create(
        render=made, author=bob, days=1, allow_download=False, show_prompt=False
    )
    guest = Client()
    page = guest.get(reverse("share_page", args=[token])).content.decode()
    assert "Download the video" not in page and "clay from 1 s" not in page
    media = guest.get(reverse("share_media", args=[token, "result"]) + "?download=1")
    assert media.status_code == 200 and "attachment" not in media.get("Content-Disposition", "")


def test_guests_comment_on_a_shared_render_until_it_is_revoked(made, bob, as_bob):
    link, token = shares.share_create(
        render=made,
        author=bob,
        days=7,
        allow_download=False,
        show_prompt=True,
        allow_comments=True,
    )
    guest = Client()
    page = guest.get(reverse("share_page", args=[token])).content.decode()
    assert "data-comments" in page and "data-guest" in page
    url = reverse("share_comments", args=[token])
    posted = guest.post(url, {"guest_name": "Kim", "body": "Lovely join", "frame": "75"})
    assert posted.status_code == 201
    comment = Comment.objects.get()
    assert (comment.render, comment.share_link, comment.who) == (made, link, "Kim")
    assert (comment.frame, comment.fps) == (75, 25.0)
    reply = guest.post(
        reverse("share_comment_reply", args=[token, comment.code]),
        {"guest_name": "Kim", "body": "Also the sound"},
    )
    assert reply.status_code == 201 and comment.replies.get().render == made
    # The team sees it on the render's page, marked a guest's.
    team_page = as_bob.get(page_url(made)).content.decode()
    assert "Lovely join" in team_page and 'data-who="Kim (guest)"' in team_page

    as_bob.post(reverse("share_revoke", args=[link.code]))
    link.refresh_from_db()
    assert link.revoked_at is not None
    assert Activity.objects.filter(verb="revoked", render=made).exists()
    gone = guest.get(reverse("share_page", args=[token]))
    assert gone.status_code == 404 and GONE in gone.content.decode()
    closed = guest.post(url, {"guest_name": "Kim", "body": "More", "frame": "10"})
    assert closed.status_code == 404 and closed.json()["closed"] is True


def test_an_expired_render_link_says_the_same_as_a_revoked_one(made, bob):
    link, token = shares.share_create(
        render=made, author=bob, days=1, allow_download=True, show_prompt=True
    )
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    gone = Client().get(reverse("share_page", args=[token]))
    assert gone.status_code == 404 and GONE in gone.content.decode()


def test_only_the_teams_editors_revoke_a_render_link(made, bob, as_carol, as_dave, as_bob):
    link, _ = shares.share_create(
        render=made, author=bob, days=1, allow_download=False, show_prompt=True
    )
    revoke = reverse("share_revoke", args=[link.code])
    assert as_dave.post(revoke).status_code == 404
    assert as_carol.post(revoke).status_code == 403
    response = as_bob.post(revoke)
    assert response.status_code == 302 and response.url == page_url(made)


def test_a_share_link_is_to_exactly_one_thing(made, make_take):
    take = make_take()
    with transaction.atomic(), pytest.raises(IntegrityError):
        ShareLink.objects.create(take=take, render=made, token_hash="a" * 64)
    with transaction.atomic(), pytest.raises(IntegrityError):
        ShareLink.objects.create(token_hash="b" * 64)
