"""The library's access helpers: a clip (or reference) only through the person's membership."""

from __future__ import annotations

from accounts.access import get_for_user
from accounts.http import AuthenticatedHttpRequest
from studio.models import Clip


def clip_for(request: AuthenticatedHttpRequest, code: str, need: str = "view"):
    return get_for_user(
        request.user,
        Clip.objects.select_related("project__team", "uploaded_by"),
        need=need,
        team_path="project__team",
        code=code,
    )
