"""Review: a take's review status, comparing two versions of a clip, and the variation grid
(docs/review.md "Approvals, version stacks and the variation grid")."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timesince import timesince
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedHttpRequest
from accounts.services import team_switch
from studio.core.errors import Refused
from studio.core.http import wants_json
from studio.cuts.access import render_for
from studio.library.access import clip_for
from studio.models import Clip, CutRender, ReviewStatus, Take
from studio.review.comments import render_review_set, subject_fps, take_review_set
from studio.review.versions import (
    Version,
    compare_pair,
    grid_versions,
    version_index,
)
from studio.takes.access import take_for


def review_data(take: Take | CutRender) -> dict[str, Any]:
    """What a page's script shows after the review status changed."""
    by = take.review_changed_by
    return {
        "ok": True,
        "code": take.code,
        "status": take.review_status,
        "label": take.get_review_status_display(),
        "who": review_who(take),
        "by": by.display_name if by else "",
        "at": take.review_changed_at.isoformat() if take.review_changed_at else "",
    }


def review_who(take: Take | CutRender) -> str:
    """Who set the review status and when, as the take page and the grid print it."""
    if take.review_changed_at is None:
        return ""
    by = take.review_changed_by.display_name if take.review_changed_by else "someone"
    return f"Set by {by}, {timesince(take.review_changed_at)} ago"


@login_required
@require_POST
def take_review(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """Set a take's review status (editors and owners); the change goes in the team history."""
    take, _ = take_for(request, code, need="edit")
    status = request.POST.get("status", "")
    try:
        take_review_set(take=take, status=status, user=request.user)
    except Refused as refused:
        if wants_json(request):
            return JsonResponse({"ok": False, "error": str(refused)}, status=400)
        messages.error(request, str(refused))
    else:
        if wants_json(request):  # the page marks it in place
            return JsonResponse(review_data(take))
        messages.success(request, f"Review status: {take.get_review_status_display()}.")
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("take_detail", code=take.code)


@login_required
@require_POST
def render_review(request: AuthenticatedHttpRequest, code: str, number: int) -> HttpResponse:
    """Set a render's review status, as a take's (editors and owners)."""
    made, _ = render_for(request, code, number, need="edit")
    status = request.POST.get("status", "")
    try:
        render_review_set(render=made, status=status, user=request.user)
    except Refused as refused:
        if wants_json(request):
            return JsonResponse({"ok": False, "error": str(refused)}, status=400)
        messages.error(request, str(refused))
    else:
        if wants_json(request):
            return JsonResponse(review_data(made))
        messages.success(request, f"Review status: {made.get_review_status_display()}.")
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("render_detail", code=code, number=number)


@login_required
@require_GET
def clip_compare(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """Two versions chosen on the stack, in the take page's compare (the newer one's page)."""
    clip, _ = clip_for(request, code)
    try:
        older, newer = compare_pair(clip=clip, codes=request.GET.getlist("take"))
    except Refused as refused:
        messages.error(request, str(refused))
        return redirect(f"{reverse('clip_detail', args=[clip.code])}#clip-takes")
    return redirect(f"{reverse('take_detail', args=[newer.code])}?with={older.code}")


def _grid_context(clip: Clip, versions: list[Version], membership: Any) -> dict[str, Any]:
    first = versions[0].take
    return {
        "clip": clip,
        "project": clip.project,
        "membership": membership,
        "versions": versions,
        "fps": subject_fps(clip=clip),
        "fps_known": bool(clip.fps),
        # The source plays the part the first version edited; the part of each is labelled.
        "source_start": first.start_ms / 1000,
        "source_length": first.length_ms / 1000,
        "parts_differ": len({(v.take.start_ms, v.take.length_ms) for v in versions}) > 1,
        "duration": max(
            (v.take.result_duration or v.take.output_seconds for v in versions), default=0
        ),
        "review_choices": ReviewStatus.choices,
    }


@login_required
@require_GET
def clip_grid(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """The variation grid: 2-4 versions of the clip, synced, beside the source."""
    clip, membership = clip_for(request, code)
    team_switch(user=request.user, team=clip.project.team)
    batch = request.GET.get("batch", "")[:32]
    try:
        versions = grid_versions(clip=clip, codes=request.GET.getlist("take")[:50], batch=batch)
    except Refused as refused:
        messages.error(request, str(refused))
        return redirect(f"{reverse('clip_detail', args=[clip.code])}#clip-takes")
    context = _grid_context(clip, versions, membership)
    context["batch"] = batch
    context["grid_url"] = request.get_full_path()
    return render(request, "review/grid.html", context)


@login_required
@require_GET
def take_grid_cell(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """One cell of the grid, refreshed while its take is still being made."""
    take, membership = take_for(request, code)
    if take.clip is None:
        return HttpResponse(status=404)
    number = version_index(take.clip).get(take.pk, (0, ""))[0]
    context = {
        "version": Version(take=take, number=number),
        "membership": membership,
        "project": take.project,
        "grid_url": request.GET.get("next", ""),
    }
    return render(request, "review/_grid_cell.html", context)
