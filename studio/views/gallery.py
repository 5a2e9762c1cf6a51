"""The team's take gallery, favourites, titles and notes, the activity feed."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.access import get_team_for_user
from accounts.http import AuthenticatedHttpRequest
from accounts.services import team_switch
from studio.core.http import wants_json
from studio.models import ReviewStatus, TakeState
from studio.parameters import Resolution
from studio.takes import gallery
from studio.views.takes import take_for


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
@require_GET
def team_gallery(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    membership = get_team_for_user(request.user, code)
    team = membership.team
    team_switch(user=request.user, team=team)
    get = request.GET
    filters = gallery.GalleryFilters(
        project=get.get("project", ""),
        member=get.get("member", ""),
        state=get.get("state", "") if get.get("state") in TakeState.values else "",
        review=get.get("review", "") if get.get("review") in ReviewStatus.values else "",
        resolution=get.get("resolution", "") if get.get("resolution") in Resolution.values else "",
        since=_date(get.get("since", "")),
        until=_date(get.get("until", "")),
        starred=get.get("starred") == "1",
        q=get.get("q", "").strip()[:200],
    )
    takes, next_cursor = gallery.gallery(
        team=team, user=request.user, filters=filters, before=get.get("before", "")
    )
    query = get.copy()
    query.pop("before", None)
    context = {
        "team": team,
        "membership": membership,
        "takes": takes,
        "filters": filters,
        "next_cursor": next_cursor,
        "query": query.urlencode(),
        "paged": bool(get.get("before")),
        "projects": team.projects.order_by("name"),
        "members": team.memberships.select_related("user").order_by("user__email"),
        "states": TakeState.choices,
        "resolutions": Resolution.choices,
    }
    return render(request, "studio/gallery.html", context)


@login_required
@require_POST
def take_star(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    take, _ = take_for(request, code)
    wanted = {"1": True, "0": False}.get(request.POST.get("starred", ""))
    starred = gallery.take_star(take=take, user=request.user, starred=wanted)
    if wants_json(request):  # the gallery stars in place
        return JsonResponse({"starred": starred})
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        # Without JavaScript the page reloads; the fragment brings the person back to the card.
        return redirect(f"{back.split('#', 1)[0]}#take-{take.code}")
    return redirect("take_detail", code=take.code)


@login_required
@require_POST
def take_describe(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    take, _ = take_for(request, code, need="edit")
    gallery.take_describe(
        take=take,
        title=request.POST.get("title", "")[:120],
        notes=request.POST.get("notes", "")[:4000],
    )
    return redirect("take_detail", code=take.code)


@login_required
@require_POST
def take_export(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    take, _ = take_for(request, code, need="edit")
    if gallery.take_export_request(take=take):
        messages.success(request, "The side-by-side video is being made; reload to get it.")
    return redirect("take_detail", code=take.code)
