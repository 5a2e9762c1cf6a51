from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts.services import current_team_for


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
