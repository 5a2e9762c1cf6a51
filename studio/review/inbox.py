"""The inbox: what a person should know about their work, made where it happens, read on the
inbox page, and mailed at once or in a daily digest (docs/review.md "Inbox").

Each notification is made in the transaction of its event (a comment, a review status, a take's
or render's last state, a budget's alert), for all its recipients with one bulk insert. Its
`key` names the event and the recipient, so an event handled twice (a task run again) inserts
nothing new. Nobody is told of their own action. Mail never leaves from a web request: the
instant mail is a django-q2 task after commit, and the digest a scheduled task, each claimed
before it is sent so a retry never mails twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.mail import can_send_mail
from accounts.models import Membership, Team, User
from studio.models import (
    Comment,
    Cut,
    CutRender,
    Email,
    InboxDigest,
    InboxSetting,
    Kind,
    Notification,
    Project,
    Take,
    TakeState,
)
from studio.review.timecodes import timecode, timecode_rate

log = logging.getLogger(__name__)

# (in the inbox, e-mail) for a kind nobody changed. Being named and a take of mine failing are
# worth a mail at once; comments on my work come in the daily digest; the rest waits in the
# inbox (budget warnings are mailed to owners by the budget alert itself).
DEFAULTS: dict[str, tuple[bool, str]] = {
    Kind.MENTION: (True, Email.INSTANT),
    Kind.COMMENT: (True, Email.DAILY),
    Kind.GUEST_COMMENT: (True, Email.DAILY),
    Kind.REVIEW: (True, Email.OFF),
    Kind.FINISHED: (True, Email.OFF),
    Kind.FAILED: (True, Email.INSTANT),
    Kind.UNCERTAIN: (True, Email.INSTANT),
    Kind.BUDGET: (True, Email.OFF),
}
# Kinds whose mail is sent by someone else: the settings page shows no e-mail choice for them.
MAILED_ELSEWHERE: dict[str, str] = {
    Kind.BUDGET: "Owners get the budget alert by e-mail when mail is set up."
}
TAKE_ENDINGS = {
    TakeState.SUCCEEDED: Kind.FINISHED,
    TakeState.FAILED: Kind.FAILED,
    TakeState.TIMED_OUT: Kind.FAILED,
    TakeState.EXPIRED: Kind.FAILED,
    TakeState.UNCERTAIN: Kind.UNCERTAIN,
}
PAGE_SIZE = 30


# -- settings ---------------------------------------------------------------------------------
def settings_for(recipients: dict[int, str]) -> dict[int, tuple[bool, str]]:
    """Each recipient's (in the inbox, e-mail) choice for their kind, defaults filled in; one
    query."""
    chosen = {
        (row.user_id, row.kind): (row.in_inbox, row.email)
        for row in InboxSetting.objects.filter(
            user_id__in=list(recipients), kind__in=set(recipients.values())
        )
    }
    return {uid: chosen.get((uid, kind), DEFAULTS[kind]) for uid, kind in recipients.items()}


def settings_of(user: User) -> dict[str, tuple[bool, str]]:
    chosen = {row.kind: (row.in_inbox, row.email) for row in user.inbox_settings.all()}
    return {kind: chosen.get(kind, DEFAULTS[kind]) for kind in Kind.values}


def inbox_settings_save(*, user: User, choices: dict[str, tuple[bool, str]]) -> None:
    """Keep a member's choices: a row only where one differs from the default."""
    with transaction.atomic():
        InboxSetting.objects.filter(user=user).delete()
        InboxSetting.objects.bulk_create(
            InboxSetting(user=user, kind=kind, in_inbox=in_inbox, email=email)
            for kind, (in_inbox, email) in choices.items()
            if (in_inbox, email) != DEFAULTS[kind]
        )


# -- making notifications ----------------------------------------------------------------------
def _notify(
    recipients: dict[int, str], *, event: str, actor_id: int | None, **fields: Any
) -> list[Notification]:
    """One notification for each recipient (user id: kind) but the actor, as their settings
    allow, in one insert; the instant mails are sent by a task after commit."""
    recipients = {uid: kind for uid, kind in recipients.items() if uid and uid != actor_id}
    if not recipients:
        return []
    chosen = settings_for(recipients)
    rows, instant = [], []
    for uid, kind in recipients.items():
        in_inbox, email = chosen[uid]
        if not in_inbox and email == Email.OFF:
            continue
        key = f"{kind}:{event}:{uid}"[:120]
        rows.append(
            Notification(
                recipient_id=uid, kind=kind, key=key, in_inbox=in_inbox, actor_id=actor_id, **fields
            )
        )
        if email == Email.INSTANT:
            instant.append(key)
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if instant and can_send_mail():
        transaction.on_commit(lambda: _mail_later(instant), robust=True)
    return rows


def _mail_later(keys: list[str]) -> None:
    from django_q.tasks import async_task

    async_task("studio.tasks.inbox_mail", keys, task_name=f"inbox:{keys[0]}"[:100])


def _members(team: Team, user_ids: Iterable[int | None]) -> set[int]:
    wanted = {uid for uid in user_ids if uid}
    return set(
        Membership.objects.filter(team=team, user_id__in=wanted).values_list("user_id", flat=True)
    )


def notify_comment(*, comment: Comment, team: Team, mentioned: Iterable[User]) -> None:
    """A new comment or reply: the take's or render's maker and whoever commented there
    already; the member who shared the link a guest wrote through; and those it names."""
    subject = Q(take_id=comment.take_id, clip_id=comment.clip_id, render_id=comment.render_id)
    earlier = (
        Comment.objects.filter(subject, author__isnull=False)
        .exclude(pk=comment.pk)
        .values_list("author_id", flat=True)
        .distinct()
    )
    maker = None
    if comment.take_id:
        maker = Take.objects.filter(pk=comment.take_id).values_list("created_by_id", flat=True)[0]
    elif comment.render_id:
        maker = CutRender.objects.filter(pk=comment.render_id).values_list(
            "created_by_id", flat=True
        )[0]
    sharer = comment.share_link.created_by_id if comment.share_link_id else None  # type: ignore[union-attr]
    named = {user.pk for user in mentioned}
    members = _members(team, [maker, sharer, *earlier, *named])
    kinds: dict[int, str] = {}
    for uid in [maker, *earlier]:
        if uid in members:
            kinds[uid] = Kind.COMMENT
    if sharer in members and comment.author_id is None:
        kinds[sharer] = Kind.GUEST_COMMENT
    for uid in named & members:
        kinds[uid] = Kind.MENTION
    _notify(
        kinds,
        event=f"comment:{comment.pk}",
        actor_id=comment.author_id,
        team=team,
        take_id=comment.take_id,
        render_id=comment.render_id,
        comment=comment,
        share_link_id=comment.share_link_id,
        guest_name=comment.guest_name,
        text=comment.body[:300],
    )


def notify_mentions(*, comment: Comment, team: Team, users: Iterable[User]) -> None:
    """Members a comment names after an edit (the key is a mention's of this comment, so
    naming someone again after taking their name out tells them nothing new)."""
    _notify(
        dict.fromkeys((u.pk for u in users), Kind.MENTION),
        event=f"comment:{comment.pk}",
        actor_id=comment.author_id,
        team=team,
        take_id=comment.take_id,
        render_id=comment.render_id,
        comment=comment,
        text=comment.body[:300],
    )


def notify_review(*, subject: Take | CutRender, user: User) -> None:
    """A take's or render's review status changed: its maker learns it."""
    is_take = isinstance(subject, Take)
    team = subject.project.team if isinstance(subject, Take) else subject.cut.project.team
    changed = subject.review_changed_at.isoformat() if subject.review_changed_at else ""
    _notify(
        {subject.created_by_id: Kind.REVIEW} if subject.created_by_id else {},
        event=f"review:{'take' if is_take else 'render'}:{subject.pk}:{changed}",
        actor_id=user.pk,
        team=team,
        take=subject if isinstance(subject, Take) else None,
        render=subject if isinstance(subject, CutRender) else None,
        text=subject.get_review_status_display(),
    )


def notify_take_ended(*, take: Take, event_id: int, **_: Any) -> None:
    """A take reached a last state that its maker should hear of (in fire()'s transaction)."""
    kind = TAKE_ENDINGS.get(take.state)  # type: ignore[call-overload]
    if kind is None or take.created_by_id is None:
        return
    # The team by id: loading take.project here would leave a stale copy on the caller's take.
    team_id = Project.objects.filter(pk=take.project_id).values_list("team_id", flat=True)[0]
    _notify(
        {take.created_by_id: kind},
        event=f"take:{event_id}",
        actor_id=None,
        team_id=team_id,
        take=take,
        text=(take.reason or take.get_state_display())[:300],
    )


def notify_render_ended(*, render: CutRender, state: str, reason: str, **_: Any) -> None:
    kind = Kind.FINISHED if state == "ready" else Kind.FAILED
    if render.created_by_id is None:
        return
    _notify(
        {render.created_by_id: kind},
        event=f"render:{render.pk}:{render.attempts}:{state}",
        actor_id=None,
        team_id=Cut.objects.filter(pk=render.cut_id).values_list("project__team_id", flat=True)[0],
        render=render,
        text=(reason or ("Ready" if state == "ready" else "Failed"))[:300],
    )


def notify_budget(
    *, team: Team, scope: str, key: str, name: str, level: int, percent: int, month: str
) -> None:
    """A budget of the team reached its warning threshold (`level` 80) or was used up (100):
    its owners, once per budget, level and month."""
    owners = Membership.objects.filter(team=team, role="owner", user__is_active=True)
    name = name[:1].upper() + name[1:]
    _notify(
        dict.fromkeys(owners.values_list("user_id", flat=True), Kind.BUDGET),
        event=f"budget:{scope}:{key}:{month}:{level}",
        actor_id=None,
        team=team,
        budget=f"{scope}:{key}",
        text=(f"{name} is used up." if level >= 100 else f"{name} is at {percent} %.")[:300],
    )


# -- reading ----------------------------------------------------------------------------------
def inbox_for(user: User) -> QuerySet[Notification]:
    """A person's inbox, newest first: in the teams they are still in."""
    teams = Membership.objects.filter(user=user).values("team_id")
    return Notification.objects.filter(recipient=user, in_inbox=True, team_id__in=teams)


def unread_count(user: User) -> int:
    return inbox_for(user).filter(read_at=None).count()


def mark_read(*, user: User, codes: Iterable[str] | None = None) -> int:
    rows = Notification.objects.filter(recipient=user, read_at=None)
    if codes is not None:
        rows = rows.filter(code__in=list(codes))
    return rows.update(read_at=timezone.now())


def mark_comment_read(*, user: User, comment: Comment) -> int:
    """Opening a comment on its page reads what the inbox said about its thread."""
    thread = [comment.pk, *comment.replies.values_list("pk", flat=True)]
    return Notification.objects.filter(recipient=user, read_at=None, comment_id__in=thread).update(
        read_at=timezone.now()
    )


def _comment_url(comment: Comment) -> str:
    if comment.take_id:
        url = reverse("take_detail", args=[comment.take.code])  # type: ignore[union-attr]
    elif comment.render_id:
        render = comment.render
        url = reverse("render_detail", args=[render.cut.code, render.number])  # type: ignore[union-attr]
    else:
        url = reverse("clip_detail", args=[comment.clip.code])  # type: ignore[union-attr]
    return f"{url}?c={comment.code}#c-{comment.code}"


def target_url(item: Notification) -> str:
    """Where an item leads: the comment at its frame, the take, the render or the usage."""
    if item.comment_id and item.comment is not None:
        return _comment_url(item.comment)
    if item.take_id and item.take is not None:
        return reverse("take_detail", args=[item.take.code])
    if item.render_id and item.render is not None:
        return reverse("render_detail", args=[item.render.cut.code, item.render.number])
    return reverse("team_usage", args=[item.team.code])


def _subject_words(item: Notification) -> str:
    if item.take is not None:
        return f"“{(item.take.title or item.take.prompt)[:60]}”"
    if item.render is not None:
        return item.render.title
    if item.comment is not None and item.comment.clip is not None:
        return f"the clip {item.comment.clip.original_name}"
    return ""


def _at(comment: Comment | None) -> str:
    """ " at 00:00:03:00": where a comment (or its thread) sits in what its page plays."""
    root = comment.parent if comment is not None and comment.parent_id else comment
    if root is None or root.frame is None or not root.fps:
        return ""
    return f" at {timecode(root.frame, timecode_rate(root.fps))}"


def headline(item: Notification) -> str:
    """What happened, as one sentence for the inbox and the mail."""
    who, what = item.who or "Someone", _subject_words(item) + _at(item.comment)
    reply = item.comment is not None and item.comment.parent_id is not None
    verb = "replied" if reply else "commented"
    mine = "your take" if item.take is not None else "your render"
    return {
        Kind.MENTION: f"{who} mentioned you on {what}",
        Kind.COMMENT: f"{who} {verb} on {what}",
        Kind.GUEST_COMMENT: f"{who} {verb} through your link on {what}",
        Kind.REVIEW: f"{who} set {mine} {what} to {item.text.lower()}",
        Kind.FINISHED: f"{mine.capitalize()} {what} is finished",
        Kind.FAILED: f"{mine.capitalize()} {what} did not finish",
        Kind.UNCERTAIN: f"Your take {what} may or may not have reached the provider",
        Kind.BUDGET: item.text,
    }.get(item.kind, item.text)  # type: ignore[call-overload]


RELATED = (
    "actor",
    "team",
    "take",
    "render__cut__clip",
    "comment__take",
    "comment__clip",
    "comment__render__cut",
    "comment__parent",
)


@dataclass(frozen=True)
class Day:
    day: datetime
    items: list[dict[str, Any]]


def inbox_days(items: Iterable[Notification]) -> list[Day]:
    """The page's items grouped by the day they came (in the site's time zone)."""
    days: list[Day] = []
    for item in items:
        day = timezone.localtime(item.created_at).date()
        row = {"item": item, "headline": headline(item), "url": target_url(item)}
        if not days or days[-1].day != day:
            days.append(Day(day=day, items=[]))  # type: ignore[arg-type]
        days[-1].items.append(row)
    return days


# -- mail -------------------------------------------------------------------------------------
def _absolute(path: str) -> str:
    return (settings.PUBLIC_URL + path) if settings.PUBLIC_URL else path


def _subject_line(item: Notification) -> str:
    if item.kind == Kind.MENTION:
        return f"{item.who} mentioned you in Cutroom"
    return f"Cutroom: {headline(item)}"[:150]


def inbox_mail(keys: list[str]) -> int:
    """Send the instant mails of these notifications, each once: claimed (emailed_at) before
    it is sent, so a task run again sends nothing; a mail server's failure is logged."""
    if not can_send_mail():
        return 0
    sent = 0
    rows = Notification.objects.filter(key__in=keys, emailed_at=None).select_related(
        "recipient", *RELATED
    )
    for item in rows:
        if not Notification.objects.filter(pk=item.pk, emailed_at=None).update(
            emailed_at=timezone.now()
        ):
            continue
        body = f"{headline(item)}:\n\n{item.text}\n\n{_absolute(target_url(item))}\n"
        try:
            send_mail(_subject_line(item), body, None, [item.recipient.email])
            sent += 1
        except Exception:  # the inbox still has it; a mail server's trouble stops nothing
            log.exception("inbox mail not sent")
    return sent


DIGEST_LOOKBACK = timedelta(days=1)


def _digest_items(user: User, since: datetime) -> list[Notification]:
    daily = [kind for kind, (_, email) in settings_of(user).items() if email == Email.DAILY]
    return list(
        Notification.objects.filter(
            recipient=user, read_at=None, kind__in=daily, created_at__gt=since
        ).select_related(*RELATED)
    )


def inbox_digests_send() -> int:
    """Mail each person who chose a daily digest the unread items since their last one, at
    most once a day (UTC): the day is claimed before the mail is sent."""
    if not can_send_mail():
        return 0
    now = timezone.now()
    today = now.date()
    waiting = Notification.objects.filter(
        read_at=None, emailed_at=None, created_at__gt=now - DIGEST_LOOKBACK * 2
    ).exclude(recipient__in=InboxDigest.objects.filter(day=today).values("user_id"))
    sent = 0
    for user in User.objects.filter(pk__in=waiting.values("recipient_id"), is_active=True):
        last = InboxDigest.objects.filter(user=user).order_by("-through").first()
        items = _digest_items(user, last.through if last else now - DIGEST_LOOKBACK)
        if not items:
            continue
        try:
            with transaction.atomic():
                InboxDigest.objects.create(
                    user=user,
                    day=today,
                    sent_at=now,
                    items=len(items),
                    through=max(item.created_at for item in items),
                )
        except IntegrityError:
            continue
        lines = [f"- {headline(i)}: {i.text[:120]}\n  {_absolute(target_url(i))}" for i in items]
        body = (
            f"{len(items)} unread in your Cutroom inbox:\n\n"
            + "\n".join(lines)
            + f"\n\nYour inbox: {_absolute(reverse('inbox'))}\n"
        )
        try:
            send_mail(f"Cutroom: {len(items)} unread in your inbox", body, None, [user.email])
            sent += 1
        except Exception:
            log.exception("inbox digest not sent")
    return sent
