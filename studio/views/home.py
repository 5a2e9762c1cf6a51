"""The landing page and a team's home."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from accounts.access import get_team_for_user
from accounts.http import AuthenticatedHttpRequest
from accounts.models import Membership
from accounts.services import current_team_for, team_switch
from studio.forms import ProjectForm
from studio.models import Clip, MediaState


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "studio/landing.html")
    team = current_team_for(request.user)
    if team is None:
        return redirect("team_list")
    return redirect("team_detail", code=team.code)


@login_required
@require_GET
def team_detail(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    membership = get_team_for_user(request.user, code)
    team = membership.team
    team_switch(user=request.user, team=team)  # the navigation follows what is on screen
    return render_team_page(request, membership, ProjectForm())


def render_team_page(
    request: HttpRequest, membership: Membership, form: ProjectForm, status: int = 200
) -> HttpResponse:
    team = membership.team
    ready = Clip.objects.filter(project=OuterRef("pk"), state=MediaState.READY)
    projects: list[Any] = list(
        team.projects.select_related("created_by").annotate(
            clip_count=Count("clips", filter=~Q(clips__state=MediaState.REJECTED)),
            poster_clip=Subquery(
                ready.exclude(poster="").order_by("-created_at").values("code")[:1]
            ),
        )
    )
    # One query for the poster clips of all projects, for their thumbnails and sizes.
    posters = Clip.objects.in_bulk(
        [p.poster_clip for p in projects if p.poster_clip], field_name="code"
    )
    for project in projects:
        clip = posters.get(project.poster_clip)
        project.poster = clip.grid_poster if clip else None
    context = {
        "team": team,
        "membership": membership,
        "projects": [p for p in projects if not p.is_archived],
        "archived_projects": [p for p in projects if p.is_archived],
        "project_form": form,
        "member_count": team.memberships.count(),
    }
    return render(request, "studio/team_detail.html", context, status=status)
