"""Comments at a frame (studio/review/comments.py): frames at the clip's own rate, drawings
that are checked, threads, mentions, review status, and exports read back with their
timecodes relative to the source clip."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pytest
from django.core import mail

from studio.core.errors import Refused
from studio.models import Activity, Comment, Mention, ReviewStatus
from studio.review import comments, exports, mentions
from tests.conftest import clip_row
from tests.review.mailq import run_inbox_mails

pytestmark = pytest.mark.django_db

BOX = [{"kind": "rect", "colour": "red", "points": [[0.1, 0.2], [0.5, 0.6]]}]


@pytest.fixture
def take(project, make_take):
    """A take of 1.5 s + 4 s of a 24 fps clip."""
    clip = clip_row(project, fps=24.0, duration=12.0)
    return make_take(clip=clip, prompt="Turn the ferry into clay", start_ms=1500, length_ms=4000)


def test_a_comment_records_its_frame_at_the_clips_rate_and_its_drawing(take, bob):
    comment = comments.comment_create(
        take=take, author=bob, body="Sky too dark", frame=12, side="after", drawing=BOX
    )
    assert comment.fps == 24.0 and comment.seconds == 0.5  # not 12/30
    assert comment.drawing == BOX and comment.side == "after"
    assert Activity.objects.filter(verb="commented", take=take).exists()


@pytest.mark.parametrize(
    ("drawing", "message"),
    [
        ([{"kind": "circle", "colour": "red", "points": [[0, 0], [1, 1]]}], "rectangles"),
        ([{"kind": "rect", "colour": "pink", "points": [[0, 0], [1, 1]]}], "colours"),
        ([{"kind": "rect", "colour": "red", "points": [[0, 0], [1.5, 1]]}], "on the picture"),
        ([{"kind": "rect", "colour": "red", "points": [[0, 0]]}], "points"),
        ([{"kind": "pen", "colour": "red", "points": [[0.5, 0.5]] * 401}], "points"),
        ([{"kind": "rect", "colour": "red", "points": [[True, 0], [1, 1]]}], "on the picture"),
        (BOX * 21, "at most 20"),
        ("<svg onload=alert(1)>", "cannot be read"),
    ],
)
def test_a_drawing_that_is_not_one_is_refused(take, bob, drawing, message):
    with pytest.raises(Refused, match=message):
        comments.comment_create(take=take, author=bob, body="x", frame=1, drawing=drawing)
    assert not Comment.objects.exists()


def test_frames_past_the_end_and_empty_or_long_bodies_are_refused(take, bob):
    with pytest.raises(Refused, match="past the end"):
        comments.comment_create(take=take, author=bob, body="x", frame=24 * 5)
    with pytest.raises(Refused, match="Write something"):
        comments.comment_create(take=take, author=bob, body="   ", frame=1)
    with pytest.raises(Refused, match="at most 2000"):
        comments.comment_create(take=take, author=bob, body="x" * 2001, frame=1)


def test_replies_sit_in_their_thread_and_resolve_goes_by_thread(take, bob, alice):
    first = comments.comment_create(take=take, author=bob, body="Too dark", frame=30)
    reply = comments.comment_create(take=take, author=alice, body="Agreed", parent=first)
    deeper = comments.comment_create(take=take, author=bob, body="Fixed", parent=reply)
    assert reply.frame is None and deeper.parent == first
    with pytest.raises(Refused):
        comments.comment_resolve(comment=reply, user=alice, resolved=True)
    comments.comment_resolve(comment=first, user=alice, resolved=True)
    [thread] = comments.comments_on(take=take)
    assert thread.resolved_by == alice and thread.reply_count == 2
    assert comments.comment_counts([take]) == {take.pk: (0, 1)}


def test_mentions_reach_the_named_member_once_and_never_the_author(take, bob, alice, carol):
    comment = comments.comment_create(
        take=take,
        author=bob,
        body="@alice and @Carol please look; @bob note to self; @alicex is nobody",
        frame=3,
    )
    assert {m.user for m in Mention.objects.filter(comment=comment)} == {alice, carol}
    assert [m.comment for m in mentions.mentions_for(alice)] == [comment]
    assert mentions.mentions_seen(user=alice) == 1
    assert mentions.mentions_for(alice).get().seen_at is not None


def test_mentions_are_mailed_by_the_worker_when_mail_is_configured(
    take, bob, alice, settings, django_capture_on_commit_callbacks
):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        comments.comment_create(take=take, author=bob, body="@alice look here", frame=3)
    assert mail.outbox == []  # never from the web request
    assert run_inbox_mails() == 1
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert mail.outbox[0].subject == "Bob mentioned you in Cutroom"
    assert "@alice look here" in mail.outbox[0].body


def test_only_the_author_edits_or_deletes_and_a_thread_keeps_its_place(take, bob, alice):
    first = comments.comment_create(take=take, author=bob, body="Too dark", frame=30)
    with pytest.raises(Refused, match="Only its author"):
        comments.comment_edit(comment=first, user=alice, body="hacked")
    comments.comment_edit(comment=first, user=bob, body="Too dark @alice")
    assert first.edited_at and Mention.objects.filter(user=alice).exists()
    comments.comment_create(take=take, author=alice, body="Agreed", parent=first)
    with pytest.raises(Refused):
        comments.comment_delete(comment=first, user=alice)
    comments.comment_delete(comment=first, user=bob)
    first.refresh_from_db()
    assert first.deleted_at and first.body == "" and not Mention.objects.exists()
    lone = comments.comment_create(take=take, author=bob, body="typo", frame=2)
    comments.comment_delete(comment=lone, user=bob)
    assert not Comment.objects.filter(pk=lone.pk).exists()


def test_guests_give_a_name_and_hidden_comments_are_left_out_for_guests(take, alice):
    with pytest.raises(Refused, match="Give your name"):
        comments.comment_create(take=take, guest_name="  ", body="nice", frame=1)
    guest = comments.comment_create(take=take, guest_name=" Client  Kim ", body="nice", frame=1)
    assert guest.guest_name == "Client Kim" and guest.is_guest and guest.who == "Client Kim"
    comments.comment_hide(comment=guest, user=alice, hidden=True)
    assert list(comments.comments_on(take=take, guests=True)) == []
    assert list(comments.comments_on(take=take)) == [guest]


def test_review_status_changes_go_in_the_history(take, alice):
    comments.take_review_set(take=take, status=ReviewStatus.APPROVED, user=alice)
    take.refresh_from_db()
    assert take.review_status == "approved" and take.review_changed_by == alice
    line = Activity.objects.get(verb="reviewed")
    assert "from no review status to approved" in line.summary
    with pytest.raises(Refused):
        comments.take_review_set(take=take, status="shipped", user=alice)


def _three(take, bob):
    comments.comment_create(take=take, author=bob, body="=HYPERLINK(evil)", frame=12)
    comments.comment_create(
        take=take, author=bob, body="Arrow here", frame=0, drawing=[
            {"kind": "arrow", "colour": "green", "points": [[0.1, 0.1], [0.2, 0.2]]}
        ]
    )  # fmt: skip
    comments.comment_create(take=take, guest_name="Kim", body="Two seconds in", frame=48)


def test_csv_export_reads_back_with_source_timecodes(take, bob):
    _three(take, bob)
    rows = list(csv.DictReader(io.StringIO(exports.comments_csv(take))))
    assert [r["source timecode"] for r in rows] == ["00:00:01:12", "00:00:02:00", "00:00:03:12"]
    assert [r["take frame"] for r in rows] == ["0", "12", "48"]
    assert rows[1]["comment"] == "'=HYPERLINK(evil)"  # never a formula
    assert rows[2]["author"] == "Kim (guest)" and rows[2]["guest"] == "yes"
    assert rows[0]["drawing colour"] == "green"


def test_edl_markers_read_back_with_source_timecodes(take, bob):
    _three(take, bob)
    edl = exports.comments_edl(take)
    assert edl.startswith("TITLE: Turn the ferry into clay\r\nFCM: NON-DROP FRAME")
    events = [line.split() for line in edl.splitlines() if line[:3].isdigit()]
    assert [(e[0], e[4], e[5]) for e in events] == [
        ("001", "00:00:01:12", "00:00:01:13"),
        ("002", "00:00:02:00", "00:00:02:01"),
        ("003", "00:00:03:12", "00:00:03:13"),
    ]
    notes = [line for line in edl.splitlines() if "|M:" in line]
    assert notes[0] == " |C:ResolveColorGreen |M:Bob: Arrow here |D:1"
    assert "|M:Kim (guest): Two seconds in" in notes[2]


def test_premiere_xml_markers_read_back_in_frames(take, bob):
    _three(take, bob)
    root = ET.fromstring(exports.comments_fcpxml(take).split("\n", 2)[2])  # noqa: S314
    assert root.find("sequence/rate/timebase").text == "24"
    found = [(m.find("name").text, int(m.find("in").text)) for m in root.iter("marker")]
    assert found == [("Bob", 36), ("Bob", 48), ("Kim (guest)", 84)]


def test_a_clip_without_a_frame_rate_says_which_one_it_used(project, bob):
    clip = clip_row(project, fps=None)
    comment = comments.comment_create(clip=clip, author=bob, body="x", frame=25)
    assert comment.fps == comments.FALLBACK_FPS and comment.side == "before"
    assert mail.outbox == []


def test_the_last_frame_is_the_one_before_the_end(take, bob):
    # 4 s at 24 fps: frames 0 to 95.
    assert comments.comment_create(take=take, author=bob, body="last", frame=95).frame == 95
    with pytest.raises(Refused, match="past the end"):
        comments.comment_create(take=take, author=bob, body="x", frame=96)


def test_every_change_moves_changed_at_so_open_pages_see_it(take, bob, carol):
    comment = comments.comment_create(take=take, author=bob, body="Too dark", frame=1)
    seen = []
    for change in (
        lambda: comments.comment_edit(comment=comment, user=bob, body="Far too dark"),
        lambda: comments.comment_resolve(comment=comment, user=bob, resolved=True),
        lambda: comments.comment_resolve(comment=comment, user=bob, resolved=False),
        lambda: comments.comment_hide(comment=comment, user=bob, hidden=True),
        lambda: comments.comment_hide(comment=comment, user=bob, hidden=False),
    ):
        before = Comment.objects.get(pk=comment.pk).changed_at
        change()
        seen.append(Comment.objects.get(pk=comment.pk).changed_at > before)
    assert all(seen)
    # A reply that goes moves its thread on; the thread's own deletion waited for it.
    reply = comments.comment_create(take=take, author=carol, body="Agreed", parent=comment)
    comments.comment_delete(comment=comment, user=bob)
    assert Comment.objects.get(pk=comment.pk).deleted_at is not None
    since = Comment.objects.get(pk=comment.pk).changed_at
    comments.comment_delete(comment=reply, user=carol)
    assert not Comment.objects.exists()  # the placeholder went with its last reply
    assert comments.comments_since(take=take, since=since).codes == []
