"""Caching (issue 21, item 9): every page and download Cutroom makes is `private, no-store`
unless it says otherwise, so no browser or proxy keeps a copy of a private page; static files,
member media and share pages keep the caching they set themselves."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from studio.review import comments
from studio.review import shares as share_links
from tests.conftest import clip_row

pytestmark = pytest.mark.django_db

PRIVATE = "private, no-store"


@pytest.fixture
def take(project, make_take):
    take = make_take(clip=clip_row(project, fps=25.0, duration=10.0), length_ms=4000)
    comments.comment_create(take=take, author=take.created_by, body="Too dark", frame=3)
    return take


def private_urls(team, take) -> list[str]:
    return [
        reverse("team_usage", args=[team.code]),
        reverse("team_usage_csv", args=[team.code]),
        reverse("administration"),
        reverse("inbox"),
        reverse("inbox_settings"),
        reverse("take_detail", args=[take.code]),
        reverse("take_comments", args=[take.code]),
        reverse("take_comments_csv", args=[take.code]),
        reverse("take_comments_edl", args=[take.code]),
        reverse("take_comments_xml", args=[take.code]),
        reverse("team_gallery", args=[team.code]),
        reverse("team_activity", args=[team.code]),
    ]


def test_private_pages_and_exports_are_never_stored(as_alice, team, take):
    # alice is the first account, so she administers the instance too.
    for url in private_urls(team, take):
        response = as_alice.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == PRIVATE, url


def test_refusals_redirects_and_posts_are_not_stored_either(as_alice, as_dave, team, take):
    answers = [
        as_dave.get(reverse("team_usage", args=[team.code])),  # 404 to an outsider
        Client().get(reverse("inbox")),  # a redirect to sign in
        as_alice.get(reverse("home")),  # a redirect to alice's team
        as_alice.post(reverse("inbox_read_all")),
        as_alice.post(reverse("administration_signup"), {}),  # an administration form
        as_alice.post(reverse("administration_budget"), {"limit": "-0"}),
    ]
    for response in answers:
        assert response["Cache-Control"] == PRIVATE, response
    # Django's sign-in view says never_cache itself, which is as strict.
    login = Client().get(reverse("login"))["Cache-Control"]
    assert "private" in login and "no-store" in login


def test_media_share_pages_healthz_and_static_files_keep_their_own_caching(
    as_alice, take, bob, settings
):
    media = as_alice.get(reverse("media_file", args=["clip", take.clip.code, "source"]))
    assert media.status_code == 200 and media["Cache-Control"] == "private, max-age=3600"
    _, token = share_links.share_create(
        take=take, author=bob, days=7, allow_download=False, show_prompt=True
    )
    assert Client().get(reverse("share_page", args=[token]))["Cache-Control"] == PRIVATE
    assert Client().get(reverse("healthz"))["Cache-Control"].startswith("max-age=0")
    # WhiteNoise serves static files before any view runs, with its own headers.
    settings.WHITENOISE_USE_FINDERS = True
    static = Client().get("/static/js/base.js")
    assert static.status_code == 200
    assert "no-store" not in static["Cache-Control"] and "max-age" in static["Cache-Control"]
