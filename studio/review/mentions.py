"""Mentions: who can be @named in a comment, and the mentions made and seen (the inbox tells
and mails them: studio/review/inbox.py)."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Membership, User
from studio.models import Comment, Mention
from studio.review import inbox


def mention_candidates(team: Any) -> list[User]:
    return [m.user for m in Membership.objects.filter(team=team).select_related("user")]


def _named(text: str, name: str) -> bool:
    """Whether `text` has "@name" not followed by more of a word."""
    for match in re.finditer(re.escape("@" + name), text):
        after = text[match.end() : match.end() + 1]
        if not after or not (after.isalnum() or after == "_"):
            return True
    return False


def _mentioned(body: str, team: Any) -> list[User]:
    """Members named with @: by their name, the part of their e-mail before @, or the whole
    e-mail, ignoring case."""
    text = body.lower()
    return [
        user
        for user in mention_candidates(team)
        if any(
            _named(text, name)
            for name in {
                user.email.lower(),
                user.email.split("@")[0].lower(),
                user.display_name.lower(),
            }
            if name
        )
    ]


def mentions_add(comment: Comment, team: Any) -> list[User]:
    """The members `comment` names, each given a mention once (never its author). A guest's
    comment names nobody: a guest may not put a member's "For you" or inbox to work, nor have
    a mail sent with a member's name on it; the @ stays as they wrote it, as text."""
    if comment.author_id is None:
        return []
    users = [u for u in _mentioned(comment.body, team) if u.pk != comment.author_id]
    for user in users:
        Mention.objects.get_or_create(comment=comment, user=user)
    return users


def mentions_for(user: User) -> QuerySet[Mention]:
    """The "For you" list: where `user` was mentioned, newest first, in teams they are in.
    Mentions a guest's comment made before guests stopped mentioning are left out."""
    teams = Membership.objects.filter(user=user).values("team_id")
    return (
        Mention.objects.filter(user=user, comment__hidden_at=None, comment__deleted_at=None)
        .exclude(comment__author=None, comment__guest_name__gt="")
        .filter(
            Q(comment__take__project__team_id__in=teams)
            | Q(comment__clip__project__team_id__in=teams)
            | Q(comment__render__cut__project__team_id__in=teams)
        )
        .select_related("comment__author", "comment__take", "comment__clip", "comment__render")
    )


def mentions_seen(*, user: User, comment: Comment | None = None) -> int:
    """Mark the person's mentions seen (in `comment`'s thread, or all), and what the inbox
    said about that thread read."""
    rows = Mention.objects.filter(user=user, seen_at=None)
    if comment is not None:
        rows = rows.filter(comment__in=[comment, *comment.replies.all()])
        inbox.mark_comment_read(user=user, comment=comment)
    return rows.update(seen_at=timezone.now())
