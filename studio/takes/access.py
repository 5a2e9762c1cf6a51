"""The takes' access helper: a take only through the person's membership."""

from __future__ import annotations

from accounts.access import get_for_user
from accounts.http import AuthenticatedHttpRequest
from studio.models import Take


def take_for(request: AuthenticatedHttpRequest, code: str, need: str = "view"):
    """The take with this code and the user's membership, through the access helper."""
    return get_for_user(
        request.user,
        Take.objects.select_related("project__team", "clip", "created_by", "input_clip"),
        need=need,
        team_path="project__team",
        code=code,
    )
