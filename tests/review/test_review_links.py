"""Review links: a share link that allows comments lets guests comment at a frame under a
name; limits, escaping, hiding and revocation (docs/review.md "Review links")."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from studio.models import Comment, ShareLink
from studio.review import comments
from studio.review import share_views as shares
from studio.review import shares as share_links
from tests.conftest import clip_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def take(project, make_take):
    """A finished take of 4 s of a 25 fps clip."""
    return make_take(clip=clip_row(project, fps=25.0, duration=10.0), length_ms=4000)


def link_for(take, bob, **options):
    options = {"allow_download": False, "show_prompt": True} | options
    link, token = share_links.share_create(take=take, author=bob, days=7, **options)
    return link, reverse("share_comments", args=[token]), token


def post(client, url, **fields):
    data = {"guest_name": "Kim", "body": "Warmer sky here", "frame": "50", "side": "after"}
    return client.post(url, data | fields, REMOTE_ADDR="203.0.113.9")


def threads(client, url):
    """The threads a guest's page gets on its first look."""
    answer = client.get(url)
    assert answer.status_code == 200 and answer.json()["ok"]
    return answer.json()["threads"]


def test_a_guest_comments_at_a_frame_with_a_drawing_and_the_team_sees_it(take, bob, alice):
    link, url, _ = link_for(take, bob, allow_comments=True)
    drawing = [{"kind": "arrow", "colour": "yellow", "points": [[0.2, 0.2], [0.4, 0.5]]}]
    answer = post(Client(), url, drawing=json.dumps(drawing))
    assert answer.status_code == 201
    comment = Comment.objects.get()
    assert comment.is_guest and comment.who == "Kim" and comment.share_link == link
    assert comment.frame == 50 and comment.fps == 25.0 and comment.drawing == drawing
    # The answer is the comment panel's update: the new thread, rendered for a guest.
    made = answer.json()
    assert made["ok"] and made["codes"] == [comment.code] and made["note"] == "Comment posted."
    assert 'data-who="Kim (guest)"' in made["threads"][0]["html"]
    listed = threads(Client(), url)
    assert [t["comment"]["who"] for t in listed] == ["Kim"] and listed[0]["comment"]["guest"]
    assert [c.who for c in comments.comments_on(take=take)] == ["Kim"]


def test_a_plain_share_link_takes_no_comments(take, bob):
    _, url, _ = link_for(take, bob)
    assert post(Client(), url).status_code == 404
    assert Client().get(url).json() == {"ok": False, "closed": True, "error": shares.CLOSED}
    assert not Comment.objects.exists()


def test_revoking_the_link_stops_commenting_at_once(take, bob):
    link, url, token = link_for(take, bob, allow_comments=True)
    guest = Client()
    assert post(guest, url).status_code == 201
    share_links.share_revoke(link=link, actor=bob)
    # The open page's next post and poll learn it: a message, and `closed` stops the poll.
    refused = post(guest, url)
    assert refused.status_code == 404 and refused.json()["closed"] is True
    assert "no longer takes comments" in refused.json()["error"]
    assert guest.get(url).status_code == 404
    first = Comment.objects.get()
    reply_url = reverse("share_comment_reply", args=[token, first.code])
    assert post(guest, reply_url).json()["closed"] is True
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
        ({"guest_name": ""}, "Give your name"),
        ({"guest_name": "x" * 61}, "at most 60"),
        ({"guest_name": "x" * 10_000}, "at most 60"),
        ({"body": "x" * 2001}, "at most 2000"),
        ({"frame": ""}, "Pause the video"),
        ({"frame": "99999"}, "past the end"),
        ({"drawing": "not json"}, "cannot be read"),
        ({"drawing": "[" + "1," * 20_000 + "1]"}, "too large"),
        ({"body": "x" * 100_000}, "at most 2000"),
    ],
)
def test_guest_comments_are_size_limited_with_a_reason(take, bob, fields, message):
    _, url, _ = link_for(take, bob, allow_comments=True)
    answer = post(Client(), url, **fields)
    assert answer.status_code == 400 and message in answer.json()["error"]
    assert answer.json()["ok"] is False
    assert not Comment.objects.exists()


def test_guest_comments_are_rate_limited_per_address(take, bob):
    _, url, _ = link_for(take, bob, allow_comments=True)
    guest = Client()
    codes = [post(guest, url, body=f"note {n}").status_code for n in range(12)]
    assert codes == [201] * 10 + [429] * 2
    assert Comment.objects.count() == 10
    other = Client()
    fields = {"guest_name": "Lee", "body": "hi", "frame": "1"}
    assert other.post(url, fields, REMOTE_ADDR="198.51.100.2").status_code == 201


def test_guest_words_are_escaped_on_every_page_the_team_uses(take, bob, as_bob):
    _, url, _ = link_for(take, bob, allow_comments=True)
    post(Client(), url, guest_name="<b>Kim</b>", body="<script>alert(1)</script> @Bob")
    pages = [
        as_bob.get(reverse("team_activity", args=[take.project.team.code])),
        as_bob.get(reverse("take_detail", args=[take.code])),
        as_bob.get(reverse("inbox")),
    ]
    for page in pages:
        assert page.status_code == 200
        assert b"<script>alert(1)" not in page.content and b"<b>Kim</b>" not in page.content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in pages[1].content
    # The guest's words reach the inbox of whom they concern, as text.
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in pages[2].content
    [thread] = threads(Client(), url)
    assert thread["comment"]["body"] == "<script>alert(1)</script> @Bob"
    assert "<script>alert(1)" not in thread["html"] and "<b>Kim</b>" not in thread["html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in thread["html"]


def test_a_hidden_guest_comment_disappears_for_guests_but_not_for_the_team(take, bob, alice):
    _, url, _ = link_for(take, bob, allow_comments=True)
    post(Client(), url, body="spam spam")
    guest = Client()
    cursor = guest.get(url).json()["cursor"]
    comments.comment_hide(comment=Comment.objects.get(), user=alice, hidden=True)
    # The guest page's next look (from its cursor) no longer lists the thread.
    later = guest.get(url, {"since": cursor}).json()
    assert later["codes"] == [] and later["threads"] == []
    assert threads(guest, url) == []
    assert len(list(comments.comments_on(take=take))) == 1


def test_replies_from_a_guest_join_the_thread(take, bob):
    _, url, token = link_for(take, bob, allow_comments=True)
    first = comments.comment_create(take=take, author=bob, body="Is this better?", frame=10)
    reply_url = reverse("share_comment_reply", args=[token, first.code])
    answer = post(Client(), reply_url, body="Yes!")
    assert answer.status_code == 201 and answer.json()["note"] == "Reply posted."
    assert answer.json()["threads"][0]["code"] == first.code
    [thread] = threads(Client(), url)
    assert [r["body"] for r in thread["replies"]] == ["Yes!"]
    assert thread["comment"]["who"] == "Bob"


def test_the_share_form_makes_a_review_link(take, as_bob):
    as_bob.post(
        reverse("share_create", args=[take.code]),
        {"expires": "7", "show_prompt": "on", "allow_comments": "on"},
    )
    assert ShareLink.objects.get().allow_comments


def test_the_review_page_has_the_comment_panel_in_guest_mode(take, bob, alice):
    link, url, token = link_for(take, bob, allow_comments=True, show_prompt=False)
    member = comments.comment_create(take=take, author=alice, body="Sky first", frame=5)
    guest = Client()
    page = guest.get(reverse("share_page", args=[token]))
    html = page.content.decode()
    assert page.status_code == 200 and "data-comments" in html and "data-guest" in html
    assert f'data-poll-url="{url}"' in html and f'action="{url}"' in html
    reply_url = reverse("share_comment_reply", args=[token, member.code])
    assert f'action="{reply_url}"' in html and "Sky first" in html
    # Guests comment and reply; nothing else.
    for action in (">Hide<", ">Resolve<", ">Edit<", ">Delete<", "comments.csv", "/comments/"):
        assert action not in html.replace(url, "").replace(reply_url, "")
    assert take.prompt not in html  # show_prompt off: the panel gives nothing of it away
    assert page["Cache-Control"] == "private, no-store" and page["Referrer-Policy"] == "same-origin"
    assert "script-src 'self'" in page["Content-Security-Policy"]
    # The name is asked once: after a comment the page (and every reply form) starts with it.
    assert 'name="guest_name" value=""' in html
    post(guest, url, guest_name="Kim Lee")
    again = guest.get(reverse("share_page", args=[token])).content.decode()
    assert again.count('name="guest_name" value="Kim Lee"') == 3  # the box and two threads


def test_a_plain_or_locked_share_page_has_no_comment_panel(take, bob, alice):
    comments.comment_create(take=take, author=alice, body="Internal note", frame=5)
    _, _, plain = link_for(take, bob)
    page = Client().get(reverse("share_page", args=[plain])).content.decode()
    assert "data-comments" not in page and "Internal note" not in page
    _, _, locked = link_for(take, bob, allow_comments=True, password="open sesame 1")
    guest = Client()
    page = guest.get(reverse("share_page", args=[locked])).content.decode()
    assert "data-comments" not in page and "Internal note" not in page
    guest.post(reverse("share_page", args=[locked]), {"password": "open sesame 1"})
    page = guest.get(reverse("share_page", args=[locked])).content.decode()
    assert "data-comments" in page and "Internal note" in page


def test_guests_never_see_hidden_comments_or_other_takes(take, bob, alice, make_take):
    _, url, token = link_for(take, bob, allow_comments=True)
    hidden = comments.comment_create(take=take, author=alice, body="Budget talk", frame=5)
    comments.comment_hide(comment=hidden, user=alice, hidden=True)
    shown = comments.comment_create(take=take, author=alice, body="Shown", frame=6)
    secret = comments.comment_create(take=take, author=alice, body="Hush", parent=shown)
    comments.comment_hide(comment=secret, user=alice, hidden=True)
    other = make_take(clip=take.clip, prompt="other", seed=2, length_ms=4000)
    comments.comment_create(take=other, author=alice, body="Elsewhere", frame=1)
    page = Client().get(reverse("share_page", args=[token]), {"c": hidden.code}).content.decode()
    assert "Budget talk" not in page and "Hush" not in page and "Elsewhere" not in page
    assert f'data-focus="{hidden.code}"' not in page
    data = Client().get(url).json()
    assert data["codes"] == [shown.code]
    assert "Hush" not in json.dumps(data) and "Elsewhere" not in json.dumps(data)
    # Nor can a guest reply to a hidden thread, or to one on another take.
    for code in (hidden.code, Comment.objects.get(body="Elsewhere").code):
        answer = post(Client(), reverse("share_comment_reply", args=[token, code]))
        assert answer.status_code == 400 and "not on this page" in answer.json()["error"]
    assert Client().get(reverse("share_comment_reply", args=[token, shown.code])).status_code == 405


def test_comment_answers_keep_the_share_pages_headers(take, bob):
    _, url, _ = link_for(take, bob, allow_comments=True)
    for answer in (Client().get(url), post(Client(), url), post(Client(), url, body="")):
        assert answer["Cache-Control"] == "private, no-store"
        assert answer["Referrer-Policy"] == "same-origin"
        assert answer["X-Robots-Tag"] == "noindex, nofollow"


def test_the_team_sees_a_guest_comment_marked_live(take, bob, as_bob):
    _, url, _ = link_for(take, bob, allow_comments=True)
    cursor = as_bob.get(reverse("take_comments", args=[take.code])).json()["cursor"]
    post(Client(), url, guest_name="Kim", body="Warmer")
    update = as_bob.get(reverse("take_comments", args=[take.code]), {"since": cursor}).json()
    [thread] = update["threads"]
    assert 'data-who="Kim (guest)"' in thread["html"] and "badge-guest" in thread["html"]
    assert ">Hide</button>" in thread["html"]  # an editor may hide it


def test_a_guests_page_polls_within_a_limit(take, bob):
    _, url, _ = link_for(take, bob, allow_comments=True)
    guest = Client()
    codes = [guest.get(url).status_code for _ in range(shares.POLL_RATE[0] + 1)]
    assert codes[:-1] == [200] * shares.POLL_RATE[0] and codes[-1] == 429
