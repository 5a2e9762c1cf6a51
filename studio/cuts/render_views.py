"""A render's page: the full-length cut beside the source in the compare player, what it is
made of, and its download (its comments, review status and share links are the review
domain's, as a take's are)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render as render_page
from django.views.decorators.http import require_GET

from accounts.http import AuthenticatedHttpRequest
from accounts.services import team_switch
from studio.cuts.access import render_for
from studio.cuts.pages import render_page_context


@login_required
@require_GET
def render_detail(request: AuthenticatedHttpRequest, code: str, number: int) -> HttpResponse:
    render, membership = render_for(request, code, number)
    team_switch(user=request.user, team=render.cut.project.team)
    context = render_page_context(request, render, membership)
    return render_page(request, "cuts/render_detail.html", context)
