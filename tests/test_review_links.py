"""Review links: a share link that allows comments lets guests comment at a frame under a
name; limits, escaping, hiding and revocation (README "Review links")."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from studio.models import Comment, Project, ShareLink, Take, TakeState
from studio.services import comments, history
from tests.conftest import clip_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def take(team, alice, bob):
    project = Project.objects.create(team=team, name="Ferry", created_by=alice)
    clip = clip_row(project, fps=25.0, duration=10.0)
    return Take.objects.create(
        project=project,
        clip=clip,
        created_by=bob,
        prompt="clay",
        seed=1,
        length_ms=4000,
        provider="local",
        state=TakeState.SUCCEEDED,
    )


def link_for(take, bob, **options):
    link, token = history.share_create(
        take=take, author=bob, days=7, allow_download=False, show_prompt=True, **options
    )
    return link, reverse("share_comments", args=[token]), token


def post(client, url, **fields):
    data = {"name": "Kim (client)", "body": "Warmer sky here", "frame": "50", "side": "after"}
    return client.post(url, data | fields, REMOTE_ADDR="203.0.113.9")


def test_a_guest_comments_at_a_frame_with_a_drawing_and_the_team_sees_it(take, bob, alice):
    link, url, _ = link_for(take, bob, allow_comments=True)
    drawing = [{"kind": "arrow", "colour": "yellow", "points": [[0.2, 0.2], [0.4, 0.5]]}]
    answer = post(Client(), url, drawing=json.dumps(drawing))
    assert answer.status_code == 201
    comment = Comment.objects.get()
    assert comment.is_guest and comment.who == "Kim (client)" and comment.share_link == link
    assert comment.frame == 50 and comment.fps == 25.0 and comment.drawing == drawing
    listed = Client().get(url).json()["comments"]
    assert [c["who"] for c in listed] == ["Kim (client)"] and listed[0]["guest"] is True
    assert [c.who for c in comments.comments_on(take=take)] == ["Kim (client)"]


def test_a_plain_share_link_takes_no_comments(take, bob):
    _, url, _ = link_for(take, bob)
    assert post(Client(), url).status_code == 404
    assert Client().get(url).status_code == 404
    assert not Comment.objects.exists()


def test_revoking_the_link_stops_commenting_at_once(take, bob):
    link, url, _ = link_for(take, bob, allow_comments=True)
    guest = Client()
    assert post(guest, url).status_code == 201
    history.share_revoke(link=link, actor=bob)
    assert post(guest, url).status_code == 404
    assert guest.get(url).status_code == 404
    assert Comment.objects.count() == 1


def test_a_password_link_takes_comments_only_once_unlocked(take, bob):
    _, url, token = link_for(take, bob, allow_comments=True, password="open sesame 1")
    guest = Client()
    assert post(guest, url).status_code == 404
    guest.post(reverse("share_page", args=[token]), {"password": "open sesame 1"})
    assert post(guest, url).status_code == 201


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "Give your name"),
        ({"name": "x" * 61}, "at most 60"),
        ({"body": "x" * 2001}, "at most 2000"),
        ({"frame": ""}, "Pause the video"),
        ({"frame": "99999"}, "past the end"),
        ({"drawing": "not json"}, "cannot be read"),
        ({"drawing": "[" + "1," * 20_000 + "1]"}, "too large"),
        ({"parent": "nope"}, "not on this page"),
    ],
)
def test_guest_comments_are_size_limited_with_a_reason(take, bob, fields, message):
    _, url, _ = link_for(take, bob, allow_comments=True)
    answer = post(Client(), url, **fields)
    assert answer.status_code == 400 and message in answer.json()["error"]
    assert not Comment.objects.exists()


def test_guest_comments_are_rate_limited_per_address(take, bob):
    _, url, _ = link_for(take, bob, allow_comments=True)
    guest = Client()
    codes = [post(guest, url, body=f"note {n}").status_code for n in range(12)]
    assert codes == [201] * 10 + [429] * 2
    assert Comment.objects.count() == 10
    other = Client()
    fields = {"name": "Lee", "body": "hi", "frame": "1"}
    assert other.post(url, fields, REMOTE_ADDR="198.51.100.2").status_code == 201


def test_guest_words_are_escaped_on_every_page_the_team_uses(take, bob, as_bob):
    _, url, _ = link_for(take, bob, allow_comments=True)
    post(Client(), url, name="<b>Kim</b>", body="<script>alert(1)</script>")
    page = as_bob.get(reverse("team_activity", args=[take.project.team.code]))
    assert page.status_code == 200
    assert b"<script>alert(1)" not in page.content and b"<b>Kim</b>" not in page.content
    data = Client().get(url).json()["comments"][0]
    assert data["body"] == "<script>alert(1)</script>"  # JSON text, inserted as text by scripts


def test_a_hidden_guest_comment_disappears_for_guests_but_not_for_the_team(take, bob, alice):
    _, url, _ = link_for(take, bob, allow_comments=True)
    post(Client(), url, body="spam spam")
    comments.comment_hide(comment=Comment.objects.get(), user=alice, hidden=True)
    assert Client().get(url).json()["comments"] == []
    assert len(list(comments.comments_on(take=take))) == 1


def test_replies_from_a_guest_join_the_thread(take, bob):
    _, url, _ = link_for(take, bob, allow_comments=True)
    first = comments.comment_create(take=take, author=bob, body="Is this better?", frame=10)
    assert post(Client(), url, parent=first.code, body="Yes!").status_code == 201
    [thread] = Client().get(url).json()["comments"]
    assert [r["body"] for r in thread["replies"]] == ["Yes!"]


def test_the_share_form_makes_a_review_link(take, as_bob):
    as_bob.post(
        reverse("share_create", args=[take.code]),
        {"expires": "7", "show_prompt": "on", "allow_comments": "on"},
    )
    assert ShareLink.objects.get().allow_comments
