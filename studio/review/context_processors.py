"""Page-wide review notices: how many items of the person's inbox are unread."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from django.http import HttpRequest


def inbox(request: HttpRequest) -> dict[str, Callable[[], int]]:
    """How many inbox items the person has not read (the top bar's "Inbox" link): one count.

    A callable, so the count is asked only by pages that show the top bar, not by the live
    fragments that share this context."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    @cache
    def unread() -> int:
        from studio.review.inbox import unread_count

        return unread_count(user)

    return {"inbox_unread": unread}
