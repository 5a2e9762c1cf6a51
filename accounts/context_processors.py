from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from accounts.services import current_team_for, signup_policy


def teams(request: HttpRequest) -> dict[str, Any]:
    """The signed-in user's teams and current team, for the navigation's team switcher."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    memberships = list(user.memberships.select_related("team").order_by("team__name"))
    current = current_team_for(user)
    return {
        "nav_memberships": memberships,
        "nav_team": current,
    }


def signup(request: HttpRequest) -> dict[str, Any]:
    """Who may sign up, for signed-out pages: they offer sign-up only when it is open to
    someone (docs/governance.md "Who may join"), and otherwise say how to get an invitation.
    Read only when a page asks."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return {}
    return {"signup_policy": SimpleLazyObject(signup_policy)}
