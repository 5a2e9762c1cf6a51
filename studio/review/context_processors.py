"""Page-wide review notices: how many mentions the person has not seen yet."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from django.http import HttpRequest


def for_you(request: HttpRequest) -> dict[str, Callable[[], int]]:
    """How many mentions the person has not seen yet (the top bar's "For you" link).

    A callable, so the count is asked only by pages that show the top bar, not by the live
    fragments that share this context."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    @cache
    def unread() -> int:
        from studio.review.mentions import mentions_for

        return mentions_for(user).filter(seen_at=None).count()

    return {"for_you_unread": unread}
