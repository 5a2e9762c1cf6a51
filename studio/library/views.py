"""The library's pages and endpoints: clip upload, page, takes, player and removal; reference image
upload and removal."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import get_for_user
from accounts.http import AuthenticatedHttpRequest
from accounts.services import team_switch
from studio.core.errors import Refused
from studio.governance import budgets
from studio.library.access import clip_for
from studio.library.clips import clip_receive
from studio.library.references import reference_delete, reference_receive
from studio.library.trash import clip_dismiss, clip_impact, clip_trash
from studio.library.uploads import handle_upload
from studio.models import Clip, Reference
from studio.projects.models import TRASH_KEEP
from studio.review.versions import GRID_MAX, GRID_MIN, version_stack


@login_required
@require_POST
def clip_upload(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    return handle_upload(request, code, clip_receive, "video")


def _takes_context(request: AuthenticatedHttpRequest, clip: Clip) -> dict[str, Any]:
    """The version stack: the clip's takes as versions v1, v2, ... (studio.review.versions)."""
    versions, total = version_stack(clip=clip)
    return {
        "versions": versions,
        "versions_total": total,
        "approved": [version for version in versions if version.approved],
        "takes_active": any(version.take.is_active for version in versions),
        "grid_min": GRID_MIN,
        "grid_max": GRID_MAX,
    }


@login_required
@require_GET
def clip_detail(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    clip, membership = clip_for(request, code, trashed=True)
    team_switch(user=request.user, team=clip.project.team)
    if clip.is_trashed:  # an old link, or a comment's: say where it went
        messages.info(request, f"{clip.original_name} is in the trash.")
        return redirect("team_trash", code=clip.project.team.code)
    context = {"clip": clip, "project": clip.project, "membership": membership}
    if membership.can_edit:
        context |= _delete_context(clip)
    if membership.can_edit:
        context["budget_warnings"] = budgets.budgets_warnings_shown(
            project=clip.project, author=request.user
        )
    context["comment_panel"] = None
    if clip.is_ready:
        from studio.review.panels import comment_panel  # it reaches clips through this module

        context["comment_panel"] = comment_panel(request, clip=clip, membership=membership)
    return render(request, "library/clip_detail.html", context | _takes_context(request, clip))


@login_required
@require_GET
def clip_takes(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """The clip's takes, refreshed live while any of them is still being made."""
    clip, membership = clip_for(request, code)
    context = {"clip": clip, "project": clip.project, "membership": membership}
    context |= _takes_context(request, clip)
    return render(request, "library/clip_detail.html#takes", context)


@login_required
@require_GET
def clip_player(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """The part of the clip page that changes while the worker prepares the clip."""
    clip, membership = clip_for(request, code)
    context = {"clip": clip, "project": clip.project, "membership": membership}
    return render(request, "library/clip_detail.html#player", context)


@login_required
@require_GET
def clip_upload_status(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """An upload's row on the project page (checking, preparing, ready, rejected), polled by
    live.js until the clip is no longer pending."""
    clip, _ = clip_for(request, code)
    return render(request, "library/_upload_row.html", _upload_row(clip, "clip_upload_status"))


@login_required
@require_GET
def reference_upload_status(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """A reference image's upload row, as clip_upload_status."""
    reference, _ = get_for_user(
        request.user,
        Reference.objects.select_related("project__team"),
        team_path="project__team",
        code=code,
    )
    context = _upload_row(reference, "reference_upload_status")
    return render(request, "library/_upload_row.html", context)


def _upload_row(item: Clip | Reference, view: str) -> dict[str, Any]:
    return {
        "item": item,
        "is_clip": isinstance(item, Clip),
        "status_url": reverse(view, args=[item.code]),
        "percent": round(item.progress * 100),
    }


@login_required
@require_http_methods(["GET", "POST"])
def clip_remove(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """GET: what deleting the clip affects, asked on a page of its own (the clip page asks in a
    dialog, studio/js/dialog.js). POST: the clip and its takes go to the team's trash; an
    upload that was rejected or failed to prepare is dismissed, removed at once."""
    clip, membership = clip_for(request, code, need="edit")
    if request.method == "GET":
        context = {"clip": clip, "project": clip.project, "membership": membership}
        return render(request, "library/clip_delete.html", context | _delete_context(clip))
    try:
        if clip_dismiss(clip, request.user):
            messages.success(request, f"{clip.original_name} was dismissed.")
            return redirect("project_detail", code=clip.project.code)
        clip_trash(clip, request.user)
    except Refused as refused:
        messages.error(request, str(refused))
        return redirect("clip_detail", code=clip.code)
    messages.success(
        request,
        f"{clip.original_name} is in the trash with its takes. It can be restored from the "
        f"trash for {TRASH_KEEP.days} days.",
    )
    return redirect("project_detail", code=clip.project.code)


def _delete_context(clip: Clip) -> dict[str, Any]:
    return {"impact": clip_impact(clip), "keep_days": TRASH_KEEP.days}


@login_required
@require_POST
def reference_upload(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    return handle_upload(request, code, reference_receive, "image")


@login_required
@require_POST
def reference_remove(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    reference, _ = get_for_user(
        request.user,
        Reference.objects.select_related("project__team"),
        need="edit",
        team_path="project__team",
        code=code,
    )
    project = reference.project
    reference_delete(reference=reference)
    messages.success(request, f"{reference.original_name} was removed from the library.")
    return redirect("project_detail", code=project.code)
