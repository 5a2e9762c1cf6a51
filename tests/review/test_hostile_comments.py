"""Comments that try to break things (issue 21, item 7): frames that are not what a person
means, drawings nested past anything the player draws, a guest @naming members, and control
characters that must not make an export unreadable. Every export is read back with a real
parser."""

from __future__ import annotations

import csv
import io
import json
import xml.dom.minidom
import xml.etree.ElementTree as ET

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from studio.models import Activity, Comment, Mention
from studio.review import comments, exports, mentions
from studio.review import shares as share_links
from tests.conftest import clip_row
from tests.review.mailq import run_inbox_mails

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
BOX = [{"kind": "rect", "colour": "red", "points": [[0.1, 0.2], [0.5, 0.6]]}]
# What XML 1.0 cannot carry, and what a terminal or spreadsheet would act on.
HOSTILE = "Too\x00 dark\x1b[31m here\x0b and\x07 there\ufffe\uffff\x7f."


@pytest.fixture
def take(project, make_take):
    """A finished take of 4 s of a 25 fps clip (frames 0 to 99)."""
    return make_take(clip=clip_row(project, fps=25.0, duration=10.0), length_ms=4000)


@pytest.fixture
def review_url(take, bob):
    _, token = share_links.share_create(
        take=take, author=bob, days=7, allow_download=False, show_prompt=True, allow_comments=True
    )
    return reverse("share_comments", args=[token])


def guest_post(url, **fields):
    data = {"guest_name": "Kim", "body": "Warmer sky here", "frame": "50", "side": "after"}
    return Client().post(url, data | fields, REMOTE_ADDR="203.0.113.9")


def member_post(client, take, **fields):
    data = {"body": "The sky is too dark", "frame": "30", "side": "after"} | fields
    return client.post(reverse("take_comment_create", args=[take.code]), data, **JSON)


# -- frames ----------------------------------------------------------------------------------
NOT_A_FRAME = [
    "²",  # "²".isdigit() is True, and int("²") raises
    "١٢",  # Arabic-Indic digits: int() reads 12, nobody typed a frame number
    "１２",  # full-width
    "-1",
    "1_0",
    "12.0",
    "1e1",
    "0x10",
    "+5",
]


@pytest.mark.parametrize("frame", NOT_A_FRAME)
def test_a_guest_frame_that_is_not_plain_digits_is_refused_with_a_reason(review_url, frame):
    answer = guest_post(review_url, frame=frame)
    assert answer.status_code == 400
    assert "digits 0 to 9" in answer.json()["error"]
    assert not Comment.objects.exists()


@pytest.mark.parametrize("frame", NOT_A_FRAME)
def test_a_member_frame_that_is_not_plain_digits_is_refused_with_a_reason(as_bob, take, frame):
    answer = member_post(as_bob, take, frame=frame)
    assert answer.status_code == 400
    assert "digits 0 to 9" in answer.json()["error"]
    assert not Comment.objects.exists()


@pytest.mark.parametrize("frame", ["9" * 11, "9" * 40, str(2**31)])
def test_huge_frames_are_past_the_end_even_on_a_clip_of_unknown_length(as_bob, project, frame):
    clip = clip_row(project, fps=25.0, duration=None)  # no end to check against
    url = reverse("clip_comment_create", args=[clip.code])
    answer = as_bob.post(url, {"body": "x", "frame": frame}, **JSON)
    assert answer.status_code == 400 and "past the end" in answer.json()["error"]
    assert not Comment.objects.exists()


def test_plain_frames_still_work_for_guests_and_members(review_url, as_bob, take):
    assert guest_post(review_url, frame="0").status_code == 201
    assert member_post(as_bob, take, frame="099").status_code == 201
    assert member_post(as_bob, take, frame=" 12 ").status_code == 201  # typed with spaces
    assert sorted(Comment.objects.values_list("frame", flat=True)) == [0, 12, 99]


# -- drawings --------------------------------------------------------------------------------
NESTED = [
    "[" * 19_000,
    "[" * 5_000 + "]" * 5_000,
    '{"a":' * 3_000 + "1" + "}" * 3_000,
    json.dumps([{"kind": "rect", "colour": "red", "points": [[[[[0.1]]]], [0.5, 0.6]]}]),
]


@pytest.mark.parametrize("drawing", NESTED)
def test_a_guest_drawing_nested_deeper_than_a_drawing_is_refused(review_url, drawing):
    answer = guest_post(review_url, drawing=drawing)
    assert answer.status_code == 400
    assert "This drawing cannot be read" in answer.json()["error"]
    assert not Comment.objects.exists()


@pytest.mark.parametrize("drawing", [*NESTED, "[" * 90_000])
def test_a_member_drawing_nested_deeper_than_a_drawing_is_refused(as_bob, take, drawing):
    answer = member_post(as_bob, take, drawing=drawing)
    assert answer.status_code == 400
    assert "This drawing cannot be read" in answer.json()["error"]
    assert not Comment.objects.exists()


def test_a_nested_drawing_without_javascript_comes_back_with_the_reason(as_bob, take):
    url = reverse("take_comment_create", args=[take.code])
    answer = as_bob.post(url, {"body": "x", "frame": "3", "drawing": "[" * 20_000}, follow=True)
    assert answer.status_code == 200 and "This drawing cannot be read" in answer.text
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    "drawing",
    [
        '[{"kind": "rect", "colour": "red", "points": [[NaN, 0.1], [0.5, 0.6]]}]',
        '[{"kind": "rect", "colour": "red", "points": [[1e999, 0.1], [0.5, 0.6]]}]',
        '[{"kind": "rect", "colour": "red", "points": [[' + "1" * 5000 + ", 0], [0, 0]]}]",
        '{"kind": "rect"}',
    ],
)
def test_drawings_with_numbers_off_the_picture_are_refused(review_url, drawing):
    answer = guest_post(review_url, drawing=drawing)
    assert answer.status_code == 400 and answer.json()["ok"] is False
    assert not Comment.objects.exists()


def test_a_drawing_as_the_player_draws_it_is_kept(review_url):
    pen = {"kind": "pen", "colour": "white", "points": [[0.1, 0.1], [0.2, 0.25], [0.3, 0.3]]}
    assert guest_post(review_url, drawing=json.dumps([*BOX, pen])).status_code == 201
    assert Comment.objects.get().drawing == [*BOX, pen]


# -- mentions --------------------------------------------------------------------------------
def test_a_guest_mentions_nobody_and_nobody_is_mailed(
    review_url, take, alice, bob, carol, settings, django_capture_on_commit_callbacks
):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        made = guest_post(review_url, body="@alice @Bob and @carol@example.com: approve this")
    assert made.status_code == 201
    thread = Comment.objects.get()
    reply_url = review_url.replace("/comments/", f"/comments/{thread.code}/reply/")
    with django_capture_on_commit_callbacks(execute=True):
        assert guest_post(reply_url, body="@alice please").status_code == 201
    # The @ stays as the guest wrote it, as plain text; nobody is named, listed or mailed.
    assert thread.body.startswith("@alice @Bob")
    run_inbox_mails()
    assert not Mention.objects.exists() and mail.outbox == []
    assert list(mentions.mentions_for(alice)) == []
    # A member's words still mention, in the guest's thread too.
    with django_capture_on_commit_callbacks(execute=True):
        comments.comment_create(take=take, author=bob, body="@alice have a look", parent=thread)
    assert [m.user for m in Mention.objects.all()] == [alice]
    run_inbox_mails()
    assert [m.subject for m in mail.outbox] == ["Bob mentioned you in Cutroom"]
    # A mention an older version made from a guest's comment no longer shows for anyone.
    Mention.objects.create(comment=thread, user=carol)
    assert list(mentions.mentions_for(carol)) == []


# -- exports ---------------------------------------------------------------------------------
@pytest.fixture
def hostile(take, bob, review_url, as_bob):
    """A member's comment and a guest's, each written through its endpoint with control
    characters, a guest's reply, and an older row whose words were stored raw."""
    assert member_post(as_bob, take, body=HOSTILE, frame="10").status_code == 201
    assert guest_post(review_url, guest_name="Kim\x1b[2J", body=HOSTILE, frame="20").status_code
    first = Comment.objects.get(frame=10)
    reply_url = review_url.replace("/comments/", f"/comments/{first.code}/reply/")
    assert guest_post(reply_url, guest_name="Lee", body="Agreed\x0c!").status_code == 201
    raw = comments.comment_create(take=take, author=bob, body="placeholder", frame=30)
    # PostgreSQL keeps no NUL in text; the rest is stored as it came.
    Comment.objects.filter(pk=raw.pk).update(body=HOSTILE.replace("\x00", ""))
    return take


def _clean(text: str) -> bool:
    return not any(ord(c) < 32 and c not in "\t\n\r" or c in "\x7f\ufffe\uffff" for c in text)


def test_the_fcp_xml_parses_with_control_characters_and_marks_guests(hostile):
    text = exports.comments_fcpxml(hostile)
    root = ET.fromstring(text)  # noqa: S314 (our own output)
    xml.dom.minidom.parseString(text.encode())  # noqa: S318
    markers = [(m.findtext("name"), m.findtext("comment")) for m in root.iter("marker")]
    assert [name for name, _ in markers] == ["Bob", "Kim[2J (guest)", "Bob"]
    assert all(body == "Too dark[31m here and there." for _, body in markers)
    assert _clean(text)


def test_the_csv_reads_back_with_guests_marked_and_no_control_characters(hostile):
    text = exports.comments_csv(hostile)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["author"], r["guest"]) for r in rows] == [
        ("Bob", "no"),
        ("Kim[2J (guest)", "yes"),
        ("Bob", "no"),
    ]
    assert rows[0]["replies"] == "Lee (guest): Agreed!"
    assert {r["comment"] for r in rows} == {"Too dark[31m here and there."}
    assert _clean(text)


def test_the_edl_reads_line_by_line_with_guests_marked(hostile):
    lines = exports.comments_edl(hostile).split("\r\n")
    assert all(_clean(line) and "\n" not in line and "\r" not in line for line in lines)
    events = [line.split() for line in lines if line[:3].isdigit()]
    assert [e[0] for e in events] == ["001", "002", "003"]
    notes = [line for line in lines if "|M:" in line]
    assert len(notes) == 3
    assert notes[1] == " |C:ResolveColorBlue |M:Kim[2J (guest): Too dark[31m here and there. |D:1"


def test_the_exports_download_and_parse_for_a_member(hostile, as_carol):
    xml_answer = as_carol.get(reverse("take_comments_xml", args=[hostile.code]))
    assert xml_answer.status_code == 200
    root = ET.fromstring(xml_answer.content)  # noqa: S314
    assert "Kim[2J (guest)" in [m.findtext("name") for m in root.iter("marker")]
    csv_answer = as_carol.get(reverse("take_comments_csv", args=[hostile.code]))
    assert len(list(csv.reader(io.StringIO(csv_answer.content.decode())))) == 4


def test_printable_drops_what_xml_and_terminals_cannot_take():
    from studio.core.text import printable

    assert printable("a\x00b\x1bc\x0bd\ud800e\udfff\ufffef\uffffg\th\ni\x85j") == "abcdefg\th\nij"
    assert printable("Crème brûlée 🎬 中文\r\n") == "Crème brûlée 🎬 中文\r\n"


def test_guest_names_are_marked_in_the_history_too(review_url):
    guest_post(review_url, guest_name="Alice")
    assert "(guest Alice)" in Activity.objects.get(verb="commented").summary


# -- cursors ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "since", ["0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]
)
def test_a_cursor_at_the_ends_of_the_calendar_gets_everything(as_bob, bob, take, review_url, since):
    comments.comment_create(take=take, author=bob, body="x", frame=1)
    member = as_bob.get(reverse("take_comments", args=[take.code]), {"since": since})
    guest = Client().get(review_url, {"since": since})
    for answer in (member, guest):
        assert answer.status_code == 200 and len(answer.json()["threads"]) == 1
