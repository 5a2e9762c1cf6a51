"""The team trash page, and restoring, deleting for good and emptying from it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.access import get_team_for_user
from accounts.http import AuthenticatedHttpRequest
from accounts.services import team_switch
from studio.core.errors import Refused
from studio.library.access import clip_for
from studio.library.trash import clip_delete_for_good, clip_restore
from studio.projects.models import TRASH_KEEP
from studio.projects.trash import trash_empty, trash_items
from studio.takes.access import take_for
from studio.takes.trash import take_delete_for_good, take_label, take_restore


@login_required
@require_GET
def team_trash(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    membership = get_team_for_user(request.user, code)
    team = membership.team
    team_switch(user=request.user, team=team)
    context = {
        "team": team,
        "membership": membership,
        "items": trash_items(team=team, membership=membership),
        "keep_days": TRASH_KEEP.days,
    }
    return render(request, "projects/trash.html", context)


@login_required
@require_POST
def team_trash_empty(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    membership = get_team_for_user(request.user, code, need="edit")
    try:
        count = trash_empty(team=membership.team, by=request.user, membership=membership)
    except Refused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(
            request,
            f"The trash is empty: {count} item{'' if count == 1 else 's'} will be removed for "
            "good within a minute."
            if count
            else "The trash was already empty.",
        )
    return redirect("team_trash", code=membership.team.code)


def _trash_page(team_code: str) -> HttpResponse:
    return redirect("team_trash", code=team_code)


@login_required
@require_POST
def clip_restore_view(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    clip, membership = clip_for(request, code, need="edit", trashed=True)
    try:
        takes = clip_restore(clip=clip, by=request.user, membership=membership)
    except Refused as refused:
        messages.error(request, str(refused))
        return _trash_page(clip.project.team.code)
    messages.success(
        request,
        f"{clip.original_name} is back, with {takes} take{'' if takes == 1 else 's'}.",
    )
    return redirect("clip_detail", code=clip.code)


@login_required
@require_POST
def clip_delete_for_good_view(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    clip, membership = clip_for(request, code, need="edit", trashed=True)
    try:
        clip_delete_for_good(clip=clip, by=request.user, membership=membership)
    except Refused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"{clip.original_name} will be removed for good within a minute.")
    return _trash_page(clip.project.team.code)


@login_required
@require_POST
def take_restore_view(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    take, membership = take_for(request, code, need="edit", trashed=True)
    try:
        take_restore(take=take, by=request.user, membership=membership)
    except Refused as refused:
        messages.error(request, str(refused))
        return _trash_page(take.project.team.code)
    messages.success(request, f"The take {take_label(take)} is back.")
    return redirect("take_detail", code=take.code)


@login_required
@require_POST
def take_delete_for_good_view(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    take, membership = take_for(request, code, need="edit", trashed=True)
    try:
        take_delete_for_good(take=take, by=request.user, membership=membership)
    except Refused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(
            request, f"The take {take_label(take)} will be removed for good within a minute."
        )
    return _trash_page(take.project.team.code)
