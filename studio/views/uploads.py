"""Clip and reference-image uploads: one flow, answered as JSON (progress-bar uploads) or HTML."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat

from accounts.access import get_for_user
from studio.core.http import wants_json
from studio.forms import UploadForm
from studio.media.probe import MediaRejected
from studio.models import Project
from studio.storage.files import safe_display_name

Receive = Callable[..., tuple[Any, bool]]


def refuse(request: HttpRequest, project: Project, message: str, status: int) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"ok": False, "error": message}, status=status)
    messages.error(request, message)
    return redirect("project_detail", code=project.code)


def too_large_message() -> str:
    limit = filesizeformat(settings.MAX_UPLOAD_BYTES)
    return f"The file is larger than the upload limit of {limit}."


def handle_upload(request: HttpRequest, code: str, receive: Receive, noun: str) -> HttpResponse:
    project, _ = get_for_user(
        request.user, Project.objects.select_related("team"), need="edit", code=code
    )
    if project.is_archived:
        return refuse(request, project, "This project is archived; restore it to add files.", 409)
    form = UploadForm(request.POST, request.FILES)
    # studio.uploads.CappedUploadHandler stopped this upload at the cap while it streamed in.
    if getattr(request, "upload_too_large", False):
        return refuse(request, project, too_large_message(), 413)
    if not form.is_valid():
        error = form.errors.get("file") or form.errors.get("upload_key") or ["Choose a file."]
        return refuse(request, project, f"{error[0]}", 400)
    upload = form.cleaned_data["file"]
    try:
        item, created = receive(
            project=project,
            author=request.user,
            upload=upload,
            upload_key=form.cleaned_data["upload_key"] or uuid.uuid4(),
        )
    except MediaRejected as rejected:
        name = safe_display_name(upload.name or "", "upload")
        return refuse(request, project, f"{name}: {rejected.message}", 400)
    note = f"{item.original_name} uploaded; Cutroom is checking the {noun}."
    if not created:
        note = f"{item.original_name} was already uploaded."
    if wants_json(request):
        return JsonResponse(
            {"ok": True, "code": item.code, "created": created, "message": note},
            status=201 if created else 200,
        )
    messages.success(request, note)
    return redirect("project_detail", code=project.code)
