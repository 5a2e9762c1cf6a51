"""The cuts' access helpers: a cut (or one of its windows) only through the person's membership."""

from __future__ import annotations

from django.http import Http404

from accounts.access import get_for_user
from accounts.http import AuthenticatedHttpRequest
from accounts.models import Membership
from studio.cuts.models import Cut, CutRender, CutWindow


def cut_for(
    request: AuthenticatedHttpRequest, code: str, need: str = "view"
) -> tuple[Cut, Membership]:
    return get_for_user(
        request.user,
        # A cut goes with its clip to the trash (studio.library.trash).
        Cut.objects.filter(clip__trashed_at__isnull=True).select_related("project__team", "clip"),
        need=need,
        team_path="project__team",
        code=code,
    )


def window_for(
    request: AuthenticatedHttpRequest, code: str, pk: int, need: str = "edit"
) -> tuple[CutWindow, Membership]:
    cut, membership = cut_for(request, code, need=need)
    window = cut.windows.filter(pk=pk).select_related("cut__clip", "cut__project").first()
    if window is None:
        raise Http404("No such window in this cut.")
    return window, membership


def render_for(
    request: AuthenticatedHttpRequest, code: str, number: int, need: str = "view"
) -> tuple[CutRender, Membership]:
    """Render v`number` of the cut `code`, through the cut's access check."""
    cut, membership = cut_for(request, code, need=need)
    render = (
        cut.renders.filter(number=number)
        .select_related("cut__clip", "cut__project__team", "created_by")
        .first()
    )
    if render is None:
        raise Http404("No such render of this cut.")
    return render, membership
