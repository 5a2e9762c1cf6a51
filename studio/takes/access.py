"""The takes' access helper: a take only through the person's membership."""

from __future__ import annotations

from accounts.access import get_for_user
from accounts.http import AuthenticatedHttpRequest
from studio.models import Take


def take_for(
    request: AuthenticatedHttpRequest, code: str, need: str = "view", *, trashed: bool = False
):
    """The take with this code and the user's membership, through the access helper; a take in
    the trash only with `trashed` (its page says so; nothing else reaches it)."""
    takes = Take.objects.all() if trashed else Take.objects.kept()
    return get_for_user(
        request.user,
        takes.select_related(
            "project__team", "clip__trashed_by", "created_by", "input_clip", "trashed_by"
        ),
        need=need,
        team_path="project__team",
        code=code,
    )
