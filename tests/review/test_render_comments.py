"""Comments at a frame on a cut's render, as on a take: the panel on the render page, frames at
the source clip's rate, drawings, replies, live updates, mentions ("For you" opens the render
page at the comment), exports, and who may do what."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from studio.models import Comment, CutRender, Mention, Notification
from studio.review import comments
from tests.cuts.rows import render_row

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
BOX = [{"kind": "arrow", "colour": "red", "points": [[0.2, 0.2], [0.6, 0.5]]}]


@pytest.fixture
def made(project, bob, samples) -> CutRender:
    return render_row(project, bob, samples)


def args(render: CutRender) -> list[object]:
    return [render.cut.code, render.number]


def test_the_render_page_has_the_panel_in_the_sources_frames(made, as_carol):
    page = as_carol.get(reverse("render_detail", args=args(made))).content.decode()
    assert 'id="comments"' in page and 'data-subject="render"' in page
    assert 'data-fps="25"' in page and 'data-sides="after before"' in page
    assert 'max="224"' in page  # the last of the render's 225 frames
    assert reverse("render_comments", args=args(made)) in page
    assert reverse("render_comments_edl", args=args(made)) in page
    assert "@Alice, @Bob, @Carol" in page


def test_a_viewer_comments_at_a_frame_with_a_drawing_and_a_member_replies(
    made, as_carol, as_bob, carol, bob
):
    url = reverse("render_comment_create", args=args(made))
    response = as_carol.post(
        url, {"body": "The join jumps", "frame": "76", "drawing": json.dumps(BOX)}, **JSON
    )
    assert response.status_code == 201
    thread = response.json()["threads"][0]
    comment = Comment.objects.get(code=thread["code"])
    assert (comment.render, comment.take, comment.clip) == (made, None, None)
    assert (comment.author, comment.frame, comment.fps, comment.side) == (carol, 76, 25.0, "after")
    assert comment.drawing == BOX and thread["comment"]["timecode"] == "00:00:03:01"

    reply = as_bob.post(reverse("comment_reply", args=[comment.code]), {"body": "Fixed"}, **JSON)
    assert reply.status_code == 201 and comment.replies.get().render == made
    # Resolving is an editor's; the page without JavaScript comes back to the comment.
    resolved = as_bob.post(reverse("comment_resolve", args=[comment.code]))
    page = reverse("render_detail", args=args(made))
    assert resolved.status_code == 302
    assert resolved.url == f"{page}?c={comment.code}#c-{comment.code}"
    comment.refresh_from_db()
    assert comment.resolved_by == bob
    # The team history says where.
    assert made.cut.project.team.activity.filter(
        verb="commented", summary__contains="Clay version v1 (a cut of interview.mp4)"
    ).exists()


def test_a_frame_past_the_renders_end_is_refused(made, as_bob):
    url = reverse("render_comment_create", args=args(made))
    response = as_bob.post(url, {"body": "After the end", "frame": "225"}, **JSON)
    assert response.status_code == 400
    assert response.json()["error"] == "That frame is past the end of the video."
    assert not Comment.objects.exists()


def test_an_open_render_page_polls_what_changed(made, as_alice, bob, carol):
    first = comments.comment_create(render=made, author=bob, body="First", frame=10)
    Comment.objects.filter(pk=first.pk).update(changed_at=timezone.now() - timedelta(minutes=5))
    poll = reverse("render_comments", args=args(made))
    seen = as_alice.get(poll).json()
    assert [t["code"] for t in seen["threads"]] == [first.code]
    second = comments.comment_create(render=made, author=carol, body="Second", frame=5)
    later = as_alice.get(poll, {"since": seen["cursor"]}).json()
    assert [t["code"] for t in later["threads"]] == [second.code]
    assert later["codes"] == [second.code, first.code]


def test_a_mention_on_a_render_opens_the_render_page_at_the_comment(made, as_bob, as_carol, carol):
    url = reverse("render_comment_create", args=args(made))
    as_bob.post(url, {"body": "@Carol look at this join", "frame": "75"}, **JSON)
    comment = Comment.objects.get()
    assert Mention.objects.filter(user=carol, comment=comment).exists()
    page = as_carol.get(reverse("inbox")).content.decode()
    link = f"{reverse('render_detail', args=args(made))}?c={comment.code}#c-{comment.code}"
    assert "Clay version v1 — cut of interview.mp4" in page
    assert "at 00:00:03:00" in page
    item = Notification.objects.get(recipient=carol)
    assert as_carol.get(reverse("inbox_open", args=[item.code]))["Location"] == link
    opened = as_carol.get(link.split("#")[0]).content.decode()
    assert f'data-focus="{comment.code}"' in opened
    assert Mention.objects.get(user=carol).seen_at is not None


def test_exports_give_the_clips_timecodes(made, as_carol, bob):
    comments.comment_create(render=made, author=bob, body="Too dark", frame=76)
    csv_response = as_carol.get(reverse("render_comments_csv", args=args(made)))
    disposition = csv_response["Content-Disposition"]
    assert disposition == 'attachment; filename="interview-clay-version-v1-comments.csv"'
    rows = list(csv.DictReader(io.StringIO(csv_response.content.decode())))
    # A render is the clip's whole timeline: frame 76 at 25 fps is 3.04 s into the clip.
    assert rows[0]["source timecode"] == "00:00:03:01" and rows[0]["cut frame"] == "76"
    edl = as_carol.get(reverse("render_comments_edl", args=args(made))).content.decode()
    assert "TITLE: Clay version v1" in edl and "|M:Bob: Too dark" in edl
    xml = as_carol.get(reverse("render_comments_xml", args=args(made))).content.decode()
    assert "<in>76</in>" in xml and "<duration>225</duration>" in xml


def test_outsiders_get_404_from_a_renders_comments(made, as_dave, bob):
    comment = comments.comment_create(render=made, author=bob, body="Mine", frame=1)
    for name in ("render_comments", "render_comments_csv"):
        assert as_dave.get(reverse(name, args=args(made))).status_code == 404
    create = reverse("render_comment_create", args=args(made))
    assert as_dave.post(create, {"body": "x", "frame": "1"}).status_code == 404
    assert (
        as_dave.post(reverse("comment_reply", args=[comment.code]), {"body": "x"}).status_code
        == 404
    )
    assert Comment.objects.count() == 1


def test_a_comment_is_on_exactly_one_thing(made):
    clip = made.cut.clip
    with transaction.atomic(), pytest.raises(IntegrityError):
        Comment.objects.create(render=made, clip=clip, body="two subjects", frame=0, fps=25)
    with transaction.atomic(), pytest.raises(IntegrityError):
        Comment.objects.create(body="no subject", frame=0, fps=25)
    with pytest.raises(ValueError, match="one take, clip or render"):
        comments.comment_create(render=made, clip=clip, author=None, body="x", frame=0)
