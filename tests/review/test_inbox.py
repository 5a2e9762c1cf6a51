"""The inbox: who hears of what (never the actor), once; the settings; the instant mail and the
daily digest; the page, marking read and the top bar's count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Membership
from studio import tasks
from studio.cuts.models import RenderState
from studio.models import (
    Comment,
    CutRender,
    Email,
    InboxDigest,
    InboxSetting,
    Kind,
    Mention,
    Notification,
    ReviewStatus,
    TakeState,
    Trigger,
)
from studio.review import comments, inbox
from studio.review import shares as share_links
from tests.cuts.rows import render_row
from tests.review.mailq import queued_inbox_mails, run_inbox_mails

MAIL = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


@pytest.fixture
def take(project, make_take):
    return make_take(TakeState.SUCCEEDED, prompt="Turn the ferry into clay")


@pytest.fixture
def mail_on(settings):
    settings.MAILERS = MAIL


def items(user=None, **filters):
    rows = Notification.objects.filter(**filters)
    if user is not None:
        rows = rows.filter(recipient=user)
    return sorted((n.recipient.email.split("@")[0], n.kind) for n in rows)


# -- who hears of what -------------------------------------------------------------------------
def test_a_comment_reaches_the_takes_maker_and_earlier_commenters_never_its_author(
    take, alice, bob, carol
):
    comments.comment_create(take=take, author=carol, body="Sky too dark", frame=3)
    assert items() == [("bob", Kind.COMMENT)]  # bob made the take; carol wrote it
    first = Notification.objects.get()
    assert first.actor == carol and first.text == "Sky too dark" and first.comment is not None
    # A reply by bob: carol commented there, so she hears of it; bob does not.
    comments.comment_create(take=take, author=bob, body="Fixed in v2", parent=first.comment)
    assert items() == [("bob", Kind.COMMENT), ("carol", Kind.COMMENT)]
    # alice names carol and bob: a mention (not also a comment) for each; none for alice.
    comments.comment_create(take=take, author=alice, body="@Carol @Bob agreed", frame=5)
    assert items() == [
        ("bob", Kind.COMMENT),
        ("bob", Kind.MENTION),
        ("carol", Kind.COMMENT),
        ("carol", Kind.MENTION),
    ]
    first.refresh_from_db()
    assert inbox.headline(first) == "Carol commented on “Turn the ferry into clay” at 00:00:00:03"


def test_a_comment_on_a_cut_render_reaches_whoever_rendered_it(project, bob, carol, samples):
    made = render_row(project, bob, samples)
    comments.comment_create(render=made, author=carol, body="The join at 3 s jumps", frame=75)
    [item] = Notification.objects.all()
    assert (item.recipient, item.kind, item.render) == (bob, Kind.COMMENT, made)
    assert (
        inbox.headline(item)
        == "Carol commented on Clay version v1 — cut of interview.mp4 at 00:00:03:00"
    )
    assert inbox.target_url(item).startswith(reverse("render_detail", args=[made.cut.code, 1]))


def test_a_guest_comment_reaches_who_shared_the_link_and_the_maker(take, alice, bob):
    link, _ = share_links.share_create(
        take=take,
        author=alice,
        days=7,
        allow_download=False,
        show_prompt=True,
        allow_comments=True,
    )
    comments.comment_create(
        take=take, guest_name="Kim", share_link=link, body="Warmer sky @alice", frame=3
    )
    assert items() == [("alice", Kind.GUEST_COMMENT), ("bob", Kind.COMMENT)]
    shared = Notification.objects.get(recipient=alice)
    assert shared.who == "Kim (guest)" and shared.share_link == link
    assert inbox.headline(shared).startswith("Kim (guest) commented through your link on")
    assert not Mention.objects.exists()  # a guest's @ still names nobody


def test_someone_who_left_the_team_hears_nothing_more(take, bob, carol):
    Membership.objects.filter(user=bob).delete()
    comments.comment_create(take=take, author=carol, body="Still there?", frame=3)
    assert items() == []


def test_a_review_decision_reaches_the_maker_not_the_reviewer(take, alice, bob):
    comments.take_review_set(take=take, status=ReviewStatus.APPROVED, user=alice)
    [item] = Notification.objects.all()
    assert (item.recipient, item.kind, item.actor) == (bob, Kind.REVIEW, alice)
    assert inbox.headline(item) == "Alice set your take “Turn the ferry into clay” to approved"
    comments.take_review_set(take=take, status=ReviewStatus.NEEDS_REVIEW, user=bob)  # his own
    assert Notification.objects.count() == 1


@pytest.mark.parametrize(
    ("state", "trigger", "kind"),
    [
        (TakeState.DOWNLOADING, Trigger.SAVED, Kind.FINISHED),
        (TakeState.RUNNING, Trigger.PROVIDER_FAILED, Kind.FAILED),
        (TakeState.SUBMITTING, Trigger.SEND_UNCERTAIN, Kind.UNCERTAIN),
    ],
)
def test_a_takes_last_state_reaches_its_maker_once(make_take, bob, state, trigger, kind):
    made = make_take(state)
    assert made.fire(trigger, "the step")
    assert made.fire(trigger, "the same step again") is False  # a retried task moves nothing
    [item] = Notification.objects.all()
    assert (item.recipient, item.kind, item.take, item.actor) == (bob, kind, made, None)
    assert inbox.target_url(item) == reverse("take_detail", args=[made.code])


def test_a_render_finishing_or_failing_reaches_whoever_rendered_it(project, bob, samples):
    made = render_row(project, bob, samples)
    CutRender.objects.filter(pk=made.pk).update(state=RenderState.QUEUED)
    claimed = CutRender.claim(made.pk, timedelta(minutes=5))
    assert claimed is not None and claimed.finish(RenderState.FAILED, "The disk is full.")
    assert claimed.finish(RenderState.FAILED, "again") is False
    [item] = Notification.objects.all()
    assert (item.recipient, item.kind, item.text) == (bob, Kind.FAILED, "The disk is full.")


def test_the_same_event_twice_makes_one_notification(take, bob, carol):
    comment = comments.comment_create(take=take, author=carol, body="Once", frame=3)
    inbox.notify_comment(comment=comment, team=take.project.team, mentioned=[])  # a retry
    assert Notification.objects.count() == 1


# -- settings ----------------------------------------------------------------------------------
def test_settings_turn_a_kind_off_or_to_mail_only(take, bob, carol, as_bob):
    page = as_bob.get(reverse("inbox_settings")).content.decode()
    assert "Mentions of me" in page and 'value="instant" selected' in page
    form = {f"{k}-inbox": "on" for k in Kind.values} | {f"{k}-email": "off" for k in Kind.values}
    form.pop("comment-inbox")  # comments on my work: not in the inbox, not mailed
    form.pop("review-inbox")
    form["review-email"] = "instant"  # review decisions: mailed only
    answer = as_bob.post(reverse("inbox_settings"), form)
    assert answer.status_code == 302
    assert dict(InboxSetting.objects.filter(user=bob).values_list("kind", "email")) == {
        "mention": Email.OFF,
        "comment": Email.OFF,
        "review": Email.INSTANT,
        "failed": Email.OFF,
        "uncertain": Email.OFF,
        "guest_comment": Email.OFF,
    }
    comments.comment_create(take=take, author=carol, body="Nobody hears this", frame=3)
    comments.take_review_set(take=take, status=ReviewStatus.APPROVED, user=carol)
    [review] = Notification.objects.all()
    assert review.kind == Kind.REVIEW and review.in_inbox is False
    assert "Nobody hears this" not in as_bob.get(reverse("inbox")).content.decode()
    bad = as_bob.post(reverse("inbox_settings"), form | {"mention-email": "hourly"})
    assert "Choose no e-mail, e-mail at once or a daily digest." in bad.content.decode()


# -- mail ----------------------------------------------------------------------------------------
def test_instant_mail_is_sent_by_the_worker_once(
    make_take, bob, mail_on, django_capture_on_commit_callbacks
):
    running = make_take(TakeState.RUNNING, prompt="Turn the ferry into clay")
    with django_capture_on_commit_callbacks(execute=True):
        running.fire(Trigger.PROVIDER_FAILED, "provider said no")
    assert mail.outbox == [] and len(queued_inbox_mails()) == 1
    keys = queued_inbox_mails()[0]
    assert run_inbox_mails() == 1
    tasks.inbox_mail(keys)  # delivered twice by django-q2: no second mail
    [sent] = mail.outbox
    assert sent.to == ["bob@example.com"]
    assert sent.subject == "Cutroom: Your take “Turn the ferry into clay” did not finish"
    assert f"/k/{running.code}/" in sent.body


def test_nothing_is_queued_or_mailed_without_mail_settings(
    take, bob, carol, settings, django_capture_on_commit_callbacks
):
    settings.MAILERS = {"default": {"BACKEND": "accounts.mail.NoMailBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        comments.comment_create(take=take, author=carol, body="@Bob look", frame=3)
    assert queued_inbox_mails() == [] and Notification.objects.count() == 1
    assert inbox.inbox_mail([Notification.objects.get().key]) == 0
    assert inbox.inbox_digests_send() == 0 and mail.outbox == []


def test_the_daily_digest_goes_once_a_day_with_what_is_unread(take, bob, carol, mail_on, clock):
    comments.comment_create(take=take, author=carol, body="First note", frame=3)
    comments.comment_create(take=take, author=carol, body="Second note", frame=4)
    Notification.objects.filter(text="Second note").update(read_at=clock.now)
    assert inbox.inbox_digests_send() == 1
    assert inbox.inbox_digests_send() == 0  # the hour after: already sent today
    [digest] = mail.outbox
    assert digest.to == ["bob@example.com"] and digest.subject == "Cutroom: 1 unread in your inbox"
    assert "First note" in digest.body and "Second note" not in digest.body
    assert InboxDigest.objects.get(user=bob).items == 1
    # The next day: only what came since the last digest.
    clock.advance(24 * 3600)
    assert inbox.inbox_digests_send() == 0
    comments.comment_create(take=take, author=carol, body="Third note", frame=5)
    assert inbox.inbox_digests_send() == 1
    assert "Third note" in mail.outbox[1].body and "First note" not in mail.outbox[1].body


# -- the page ------------------------------------------------------------------------------------
def test_the_page_marks_read_filters_and_counts_in_the_top_bar(take, bob, carol, as_bob):
    comments.comment_create(take=take, author=carol, body="A note on the sky", frame=3)
    comments.take_review_set(take=take, status=ReviewStatus.APPROVED, user=carol)
    home = as_bob.get(reverse("team_list")).content.decode()
    count = '<span class="badge badge-count">2<span class="visually-hidden"> unread</span>'
    assert f"data-inbox>Inbox {count}" in home
    page = as_bob.get(reverse("inbox")).content.decode()
    assert page.count("Unread</span>") == 2 and "Today" in page and "2 unread." in page
    assert "Carol set your take" in page and "A note on the sky" in page
    only = as_bob.get(reverse("inbox"), {"kind": "review"}).content.decode()
    assert "Carol set your take" in only and "A note on the sky" not in only
    review = Notification.objects.get(kind=Kind.REVIEW)
    assert (
        as_bob.post(reverse("inbox_read", args=[review.code]), {"kind": "review"})["Location"]
        == "/inbox/?kind=review#inbox-list"
    )
    note = Notification.objects.get(kind=Kind.COMMENT)
    opened = as_bob.get(reverse("inbox_open", args=[note.code]))
    assert opened["Location"].startswith(f"/k/{take.code}/?c=")
    assert not Notification.objects.filter(read_at=None).exists()
    assert "badge-count" not in as_bob.get(reverse("team_list")).content.decode()
    assert as_bob.get(reverse("for_you"))["Location"] == reverse("inbox")


def test_an_item_is_its_recipients_alone(take, bob, carol, as_carol):
    comments.comment_create(take=take, author=carol, body="Mine to write", frame=3)
    code = Notification.objects.get().code
    assert as_carol.get(reverse("inbox_open", args=[code])).status_code == 404
    assert as_carol.post(reverse("inbox_read", args=[code])).status_code == 404
    assert as_carol.get(reverse("inbox_read", args=[code])).status_code == 405
    assert Notification.objects.get().read_at is None


def test_the_top_bar_count_is_one_query_however_many_items(take, bob, carol, as_bob):
    with CaptureQueriesContext(connection) as none:
        as_bob.get(reverse("team_list"))
    for frame in range(12):
        comments.comment_create(take=take, author=carol, body=f"note {frame}", frame=frame)
    with CaptureQueriesContext(connection) as many:
        page = as_bob.get(reverse("team_list")).content.decode()
    assert '<span class="badge badge-count">12<' in page
    assert len(many.captured_queries) == len(none.captured_queries)
    assert sum("studio_notification" in q["sql"] for q in many.captured_queries) == 1


def test_the_inbox_page_asks_a_fixed_number_of_queries(take, bob, carol, as_bob):
    comments.comment_create(take=take, author=carol, body="one", frame=1)
    with CaptureQueriesContext(connection) as one:
        as_bob.get(reverse("inbox"))
    for frame in range(2, 12):
        comments.comment_create(take=take, author=carol, body=f"note {frame}", frame=frame)
    with CaptureQueriesContext(connection) as many:
        as_bob.get(reverse("inbox"))
    assert len(many.captured_queries) == len(one.captured_queries)


def test_just_now_instead_of_0_minutes_ago(take, bob, carol, as_bob, clock):
    comments.comment_create(take=take, author=carol, body="Fresh", frame=3)
    # Rows take their time from the real clock; the test's clock counts from it.
    Comment.objects.update(created_at=clock.now)
    Notification.objects.update(created_at=clock.now)
    page = as_bob.get(reverse("inbox")).content.decode()
    assert "just now" in page and "0 minutes ago" not in page
    clock.advance(5 * 60)
    # Django's timesince puts a no-break space between the number and the unit.
    later = as_bob.get(reverse("inbox")).content.decode().replace("\xa0", " ")
    assert "5 minutes ago" in later
    thread = as_bob.get(reverse("take_detail", args=[take.code])).content.decode()
    thread = thread.replace("\xa0", " ")
    assert "5 minutes ago" in thread and "0 minutes" not in thread


def test_the_migration_brings_every_mention_into_the_inbox(take, alice, bob, carol, clock):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("studio.migrations.0028_inbox")
    seen = comments.comment_create(take=take, author=bob, body="@Alice @Carol look", frame=3)
    comments.comment_create(take=take, author=carol, body="@Alice again", frame=4)
    Mention.objects.filter(comment=seen, user=carol).update(seen_at=clock.now)
    Notification.objects.all().delete()  # as before the inbox: mentions only
    migration.mentions_into_inbox(apps, None)
    migration.mentions_into_inbox(apps, None)  # run twice: still one item per mention
    made = Notification.objects.filter(kind=Kind.MENTION)
    assert made.count() == Mention.objects.count() == 3
    assert made.get(recipient=carol).read_at == clock.now
    assert made.filter(recipient=alice, read_at=None).count() == 2
    assert inbox.unread_count(alice) == 2
