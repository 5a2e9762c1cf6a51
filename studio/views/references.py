"""Reference images: upload into a project's library, delete."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts.access import get_for_user
from accounts.http import AuthenticatedHttpRequest
from studio.models import Reference
from studio.services import reference_delete, reference_receive
from studio.views.uploads import handle_upload


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
