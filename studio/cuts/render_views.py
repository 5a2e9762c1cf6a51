"""A render's page: the full-length cut beside the source in the compare player, what it is
made of, and its download (its comments, review status and share links are the review
domain's, as a take's are)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.shortcuts import render as render_page
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedHttpRequest
from accounts.services import team_switch
from studio.core.errors import Refused
from studio.cuts import credentials, renders
from studio.cuts.access import render_for
from studio.cuts.pages import render_page_context


@login_required
@require_GET
def render_detail(request: AuthenticatedHttpRequest, code: str, number: int) -> HttpResponse:
    render, membership = render_for(request, code, number)
    team_switch(user=request.user, team=render.cut.project.team)
    context = render_page_context(request, render, membership)
    return render_page(request, "cuts/render_detail.html", context)


@login_required
@require_GET
def render_status(request: AuthenticatedHttpRequest, code: str, number: int) -> HttpResponse:
    """The render page's status, polled while the render is being made: once it is ready, it
    brings the compare player and the downloads (static/js/render.js then the share card)."""
    render, membership = render_for(request, code, number)
    context = render_page_context(request, render, membership)
    return render_page(request, "cuts/render_detail.html#status", context)


@login_required
@require_POST
def render_delete(request: AuthenticatedHttpRequest, code: str, number: int) -> HttpResponse:
    """Delete a render and its files (editors); the cut, its windows and takes stay."""
    render, _ = render_for(request, code, number, need="edit")
    try:
        renders.cut_render_delete(render=render)
    except Refused as refused:
        messages.error(request, str(refused))
        return redirect("render_detail", code, number)
    messages.success(
        request,
        f"v{number} and its files are deleted; its number is not given again. The cut, its "
        "windows and their takes are unchanged.",
    )
    return redirect(f"{reverse('cut_detail', args=[code])}#renders-title")


@login_required
@require_POST
def render_sign_again(request: AuthenticatedHttpRequest, code: str, number: int) -> HttpResponse:
    """Queue signing the render's file again when its content credentials are missing."""
    render, _ = render_for(request, code, number, need="edit")
    try:
        credentials.render_sign_again_request(render=render)
    except Refused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(
            request, "Cutroom is signing the render again; this page says when it is done."
        )
    return redirect("render_detail", code, number)


@login_required
@require_GET
def render_credentials_status(
    request: AuthenticatedHttpRequest, code: str, number: int
) -> HttpResponse:
    """The credentials notice of the render page, polled while the file is being signed."""
    render, membership = render_for(request, code, number)
    context = {"render": render, "cut": render.cut, "membership": membership}
    return render_page(request, "cuts/render_detail.html#credentials", context)
