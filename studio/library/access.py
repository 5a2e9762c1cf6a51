"""The library's access helpers: a clip (or reference) only through the person's membership."""

from __future__ import annotations

from accounts.access import get_for_user
from accounts.http import AuthenticatedHttpRequest
from studio.models import Clip


def clip_for(
    request: AuthenticatedHttpRequest, code: str, need: str = "view", *, trashed: bool = False
):
    """The clip and the membership; a clip in the trash only with `trashed` (else 404)."""
    clips = Clip.objects.all() if trashed else Clip.objects.kept()
    return get_for_user(
        request.user,
        clips.select_related("project__team", "uploaded_by", "trashed_by"),
        need=need,
        team_path="project__team",
        code=code,
    )
