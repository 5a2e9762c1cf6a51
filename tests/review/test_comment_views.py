"""The comment panel's endpoints (studio/review/comment_views.py): who may do what, JSON for the
page's script and redirects for plain forms, CSRF, size limits, escaping, live updates since a
cursor, "For you" and the marker exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from studio.models import Comment, InputClip, Mention, Notification, Take
from tests.conftest import clip_row

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
BOX = [{"kind": "rect", "colour": "yellow", "points": [[0.1, 0.2], [0.5, 0.6]]}]


@pytest.fixture
def clip(project):
    return clip_row(project, fps=25.0, duration=12.0)


@pytest.fixture
def take(clip, make_take):
    """A finished take of 2 s + 4 s of a 25 fps clip (its files are never read here)."""
    part = InputClip.objects.create(
        clip=clip,
        start_ms=2000,
        length_ms=4000,
        file="rows/input.mp4",
        width=640,
        height=360,
        duration=4.0,
        size=1,
        sha256="0" * 64,
    )
    return make_take(
        clip=clip, prompt="Turn the ferry into clay", start_ms=2000, length_ms=4000, input_clip=part
    )


def post_comment(client: Client, take: Take, json_: bool = True, **fields: Any) -> Any:
    data = {"body": "The sky is too dark", "frame": "30", "side": "after"} | fields
    extra = JSON if json_ else {}
    return client.post(reverse("take_comment_create", args=[take.code]), data, **extra)


def a_comment(take: Take, author: Any, body: str = "Too dark here", **fields: Any) -> Comment:
    from studio.review import comments

    return comments.comment_create(
        take=take, author=author, body=body, frame=fields.pop("frame", 30), **fields
    )


# -- commenting ------------------------------------------------------------------------------
def test_the_take_page_has_the_panel_at_the_clips_frame_rate(as_alice, take, bob):
    a_comment(take, bob, drawing=BOX)
    page = as_alice.get(reverse("take_detail", args=[take.code])).content.decode()
    assert 'id="comments"' in page and 'data-fps="25"' in page
    assert 'data-compare data-mode="side" data-duration="4.000" data-fps="25"' in page
    assert "Too dark here" in page and "00:00:01:05" in page  # frame 30 at 25 fps
    assert reverse("take_comments_edl", args=[take.code]) in page
    assert "@Alice, @Bob" in page  # who can be mentioned


def test_a_viewer_comments_at_a_frame_with_a_drawing_and_replies(as_carol, take, carol):
    response = post_comment(as_carol, take, drawing=json.dumps(BOX))
    assert response.status_code == 201
    data = response.json()
    thread = data["threads"][0]
    comment = Comment.objects.get(code=thread["code"])
    assert (comment.author, comment.frame, comment.fps, comment.side) == (carol, 30, 25.0, "after")
    assert comment.drawing == BOX and comment.seconds == 1.2  # 30/25, not 30/30
    assert thread["comment"]["timecode"] == "00:00:01:05" and thread["comment"]["mine"]
    assert 'data-frame="30"' in thread["html"] and "The sky is too dark" in thread["html"]
    assert data["codes"] == [comment.code]

    reply = as_carol.post(
        reverse("comment_reply", args=[comment.code]), {"body": "Also the sea"}, **JSON
    )
    assert reply.status_code == 201
    assert reply.json()["threads"][0]["code"] == comment.code  # the whole thread comes back
    assert comment.replies.get().body == "Also the sea"
    assert "Also the sea" in reply.json()["threads"][0]["html"]


def test_without_javascript_the_form_posts_and_comes_back_to_the_comment(as_bob, take):
    response = post_comment(as_bob, take, json_=False)
    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response.url == f"/k/{take.code}/?c={comment.code}#c-{comment.code}"
    refused = post_comment(as_bob, take, json_=False, body="")
    assert refused.status_code == 302 and refused.url.endswith("#comments")
    page = as_bob.get(refused.url)
    assert "Write something to comment." in page.content.decode()


def test_a_clip_page_takes_comments_too(as_carol, clip):
    url = reverse("clip_comment_create", args=[clip.code])
    response = as_carol.post(url, {"body": "Nice light", "frame": "50"}, **JSON)
    assert response.status_code == 201
    comment = Comment.objects.get()
    assert comment.clip == clip and comment.side == "before" and comment.seconds == 2.0
    page = as_carol.get(reverse("clip_detail", args=[clip.code])).content.decode()
    assert "Nice light" in page and 'data-video="#clip-video"' in page
    poll = as_carol.get(reverse("clip_comments", args=[clip.code])).json()
    assert poll["codes"] == [comment.code]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"body": "x" * 2001}, "at most 2000 characters"),
        ({"body": "x" * 20_001}, "too long"),
        ({"frame": ""}, "Pause the video"),
        ({"frame": "100"}, "past the end"),  # 4 s at 25 fps end at frame 100
        ({"drawing": "not json"}, "cannot be read"),
        ({"drawing": json.dumps(BOX * 21)}, "at most 20 shapes"),
        ({"drawing": json.dumps(BOX) + " " * 100_000}, "too big"),
        (
            {
                "drawing": json.dumps(
                    [{"kind": "rect", "colour": "pink", "points": [[0, 0], [1, 1]]}]
                )
            },
            "colours",
        ),
    ],
)
def test_what_is_too_long_too_big_or_not_a_comment_is_refused(as_bob, take, fields, message):
    response = post_comment(as_bob, take, **fields)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not Comment.objects.exists()


def test_posts_need_the_csrf_token(bob, take):
    client = Client(enforce_csrf_checks=True)
    client.force_login(bob, backend="django.contrib.auth.backends.ModelBackend")
    assert post_comment(client, take).status_code == 403
    client.get(reverse("take_detail", args=[take.code]))
    token = client.cookies["csrftoken"].value
    response = post_comment(client, take, csrfmiddlewaretoken=token)
    assert response.status_code == 201


def test_a_body_with_a_script_is_shown_as_text(as_alice, take, bob):
    evil = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
    a_comment(take, bob, body=evil)
    page = as_alice.get(reverse("take_detail", args=[take.code])).content.decode()
    assert "<script>window.pwned" not in page and "<img src=x" not in page
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt;&lt;img src=x" in page
    html = as_alice.get(reverse("take_comments", args=[take.code])).json()["threads"][0]["html"]
    assert "<script>" not in html and "&lt;script&gt;" in html


# -- who may do what -------------------------------------------------------------------------
def test_editors_and_owners_resolve_reopen_hide_and_unhide_viewers_do_not(
    as_bob, as_carol, as_alice, take, carol
):
    comment = a_comment(take, carol)
    resolve = reverse("comment_resolve", args=[comment.code])
    hide = reverse("comment_hide", args=[comment.code])
    assert as_carol.post(resolve, {"resolved": "1"}, **JSON).status_code == 403
    assert as_carol.post(hide, {"hidden": "1"}, **JSON).status_code == 403

    done = as_bob.post(resolve, {"resolved": "1"}, **JSON).json()
    assert done["threads"][0]["comment"]["resolved"] and "Reopen" in done["threads"][0]["html"]
    assert as_alice.post(resolve, {"resolved": "0"}, **JSON).json()["note"] == "Reopened."
    comment.refresh_from_db()
    assert comment.resolved_at is None

    as_bob.post(hide, {"hidden": "1"}, **JSON)
    page = as_carol.get(reverse("take_detail", args=[take.code])).content.decode()
    assert "Hidden from the page by Bob" in page  # the team sees it, as hidden
    as_alice.post(hide, {"hidden": "0"}, **JSON)
    comment.refresh_from_db()
    assert comment.hidden_at is None


def test_only_the_author_edits_or_deletes_a_comment(as_bob, as_carol, take, carol):
    comment = a_comment(take, carol)
    edit = reverse("comment_edit", args=[comment.code])
    delete = reverse("comment_delete", args=[comment.code])
    assert as_bob.post(edit, {"body": "Mine now"}, **JSON).status_code == 403
    assert as_bob.post(delete, **JSON).status_code == 403
    assert as_bob.post(edit, {"body": "Mine now"}).status_code == 302  # and a message

    edited = as_carol.post(edit, {"body": "Far too dark"}, **JSON).json()
    assert edited["threads"][0]["comment"]["edited"]
    assert "Far too dark" in edited["threads"][0]["html"]
    gone = as_carol.post(delete, **JSON).json()
    assert gone["threads"] == [] and gone["codes"] == []
    assert not Comment.objects.exists()


def test_a_deleted_comment_with_replies_keeps_its_place_until_the_last_reply_goes(
    as_bob, as_carol, take, carol, bob
):
    comment = a_comment(take, carol)
    reply = a_comment(take, bob, body="Agreed", parent=comment)
    left = as_carol.post(reverse("comment_delete", args=[comment.code]), **JSON).json()
    assert "This comment was deleted." in left["threads"][0]["html"]
    after = as_bob.post(reverse("comment_delete", args=[reply.code]), **JSON).json()
    assert after["codes"] == [] and not Comment.objects.exists()


def test_an_outsider_gets_404_from_every_endpoint(as_dave, take, clip, carol):
    comment = a_comment(take, carol)
    posts = [
        reverse("take_comment_create", args=[take.code]),
        reverse("clip_comment_create", args=[clip.code]),
        *(reverse(f"comment_{n}", args=[comment.code]) for n in ("reply", "edit", "delete")),
        *(reverse(f"comment_{n}", args=[comment.code]) for n in ("resolve", "hide")),
    ]
    gets = [
        reverse("take_comments", args=[take.code]),
        reverse("clip_comments", args=[clip.code]),
        *(reverse(f"take_comments_{f}", args=[take.code]) for f in ("csv", "edl", "xml")),
    ]
    for url in posts:
        assert as_dave.post(url, {"body": "hi", "frame": "1"}, **JSON).status_code == 404, url
    for url in gets:
        assert as_dave.get(url).status_code == 404, url
    assert Comment.objects.count() == 1


def test_wrong_methods_get_405(as_bob, take):
    assert as_bob.get(reverse("take_comment_create", args=[take.code])).status_code == 405
    assert as_bob.post(reverse("take_comments", args=[take.code])).status_code == 405


# -- live updates ------------------------------------------------------------------------------
def test_an_open_page_gets_only_what_changed_since_its_cursor(as_alice, take, bob, carol):
    old = a_comment(take, bob, body="Old one", frame=10)
    Comment.objects.filter(pk=old.pk).update(changed_at=timezone.now() - timedelta(minutes=5))
    poll = reverse("take_comments", args=[take.code])
    first = as_alice.get(poll).json()
    assert [t["code"] for t in first["threads"]] == [old.code]

    new = a_comment(take, carol, body="New one", frame=5)
    later = as_alice.get(poll, {"since": first["cursor"]}).json()
    assert [t["code"] for t in later["threads"]] == [new.code]
    assert later["codes"] == [new.code, old.code]  # in frame order

    # A reply, an edit, resolving: each brings its thread again, whole.
    Comment.objects.filter(pk=new.pk).update(changed_at=timezone.now() - timedelta(minutes=5))
    a_comment(take, alice_of(take), body="Fixed in v2", parent=old)
    again = as_alice.get(poll, {"since": later["cursor"]}).json()
    assert [t["code"] for t in again["threads"]] == [old.code]
    assert "Fixed in v2" in again["threads"][0]["html"]

    # A deleted thread is missing from the codes.
    new.delete()
    assert as_alice.get(poll, {"since": again["cursor"]}).json()["codes"] == [old.code]


def alice_of(take: Take) -> Any:
    return take.project.created_by


def test_a_bad_cursor_gets_everything(as_alice, take, bob):
    a_comment(take, bob)
    poll = reverse("take_comments", args=[take.code])
    assert len(as_alice.get(poll, {"since": "yesterday"}).json()["threads"]) == 1


# -- mentions --------------------------------------------------------------------------------
def test_a_mention_shows_in_the_inbox_with_a_count_until_opened(as_bob, as_carol, take, carol):
    post_comment(as_bob, take, body="@Carol is this dark enough?")
    comment = Comment.objects.get()
    assert Mention.objects.filter(user=carol, comment=comment).exists()
    home = as_carol.get(reverse("team_list")).content.decode()
    assert 'data-inbox>Inbox <span class="badge badge-count">1' in home
    assert '<span class="visually-hidden"> unread</span>' in home

    page = as_carol.get(reverse("inbox")).content.decode()
    assert "Bob mentioned you on" in page and "is this dark enough?" in page
    assert "Unread" in page
    # The link on the page goes through the inbox (which marks it read) to the comment.
    item = Notification.objects.get(recipient=carol)
    assert reverse("inbox_open", args=[item.code]) in page
    link = f"/k/{take.code}/?c={comment.code}#c-{comment.code}"

    opened = as_carol.get(link.split("#")[0]).content.decode()
    assert f'data-focus="{comment.code}"' in opened
    assert Mention.objects.get(user=carol).seen_at is not None
    assert Notification.objects.get(recipient=carol).read_at is not None
    assert "badge-count" not in as_carol.get(reverse("team_list")).content.decode()


def test_mark_all_read(as_bob, as_carol, take, carol):
    post_comment(as_bob, take, body="@carol one")
    post_comment(as_bob, take, body="@carol@example.com two", frame="40")
    assert Notification.objects.filter(recipient=carol, read_at=None).count() == 2
    assert as_carol.post(reverse("inbox_read_all")).status_code == 302
    assert not Notification.objects.filter(recipient=carol, read_at=None).exists()


def test_the_inbox_lists_only_the_persons_own_items(as_dave, as_bob, take):
    post_comment(as_bob, take, body="@Carol look")
    page = as_dave.get(reverse("inbox")).content.decode()
    assert "Your inbox is empty" in page and "look" not in page


# -- exports ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("csv", "text/csv; charset=utf-8"),
        ("edl", "text/plain; charset=utf-8"),
        ("xml", "application/xml; charset=utf-8"),
    ],
)
def test_exports_download_with_a_safe_name(as_carol, take, bob, fmt, content_type):
    take.title = 'Clay "ferry"; v2/../x'
    take.save(update_fields=["title"])
    a_comment(take, bob)
    response = as_carol.get(reverse(f"take_comments_{fmt}", args=[take.code]))
    assert response.status_code == 200 and response["Content-Type"] == content_type
    disposition = response["Content-Disposition"]
    # Named after the take's clip, version, window and seed, like its video (not its title).
    stem = f"ferry_v{take.version}_00-02-00_00-06-00_s{take.seed}"
    assert disposition == f'attachment; filename="{stem}-comments.{fmt}"'


def test_the_csv_and_edl_give_source_timecodes(as_carol, take, bob):
    a_comment(take, bob, body="Too dark", frame=30)
    rows = list(csv.DictReader(io.StringIO(as_carol.get(f"/k/{take.code}/comments.csv").text)))
    # The take starts 2 s into the clip; frame 30 at 25 fps is 1.2 s into the take.
    assert rows[0]["source timecode"] == "00:00:03:05" and rows[0]["source seconds"] == "3.200"
    edl = as_carol.get(f"/k/{take.code}/comments.edl").text
    assert "00:00:03:05 00:00:03:06" in edl and "|M:Bob: Too dark" in edl


def test_beside_another_take_comments_go_on_this_take_only(as_bob, take, make_take):
    other = make_take(
        clip=take.clip,
        created_by=None,
        prompt="Warm sunset",
        seed=2,
        start_ms=2000,
        length_ms=4000,
        input_clip=take.input_clip,
    )
    plain = as_bob.get(reverse("take_detail", args=[take.code])).content.decode()
    assert 'data-sides="after before"' in plain and 'value="before" data-box-side' in plain
    page = as_bob.get(reverse("take_detail", args=[take.code]), {"with": other.code})
    html = page.content.decode()
    assert 'data-sides="after"' in html and 'value="before"' not in html
