"""Upload handling in the web process: stream to disk, hash and cap while the bytes arrive."""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import uuid
from collections.abc import Callable
from contextlib import suppress
from typing import Any, NoReturn

from django.conf import settings
from django.contrib import messages
from django.core.files.storage import default_storage
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse

from accounts.access import get_for_user
from studio.core.http import wants_json
from studio.library.forms import UploadForm
from studio.media.probe import MediaRejected
from studio.models import Project
from studio.storage import disks
from studio.storage.files import STORAGE_ERRORS, bucket_error, is_remote, safe_display_name

log = logging.getLogger(__name__)


class CappedUploadHandler(TemporaryFileUploadHandler):
    """Write each uploaded file to a temporary file in chunks, hashing it on the way.

    Past settings.MAX_UPLOAD_BYTES the upload stops at once: the partial file is deleted, the
    rest of the request body is read and discarded (memory stays flat), and the view finds
    `request.upload_too_large` set, so it can answer with a clear message. A temporary folder
    that cannot take the file (full, read-only) stops it the same way: the partial file is
    deleted and the view finds the error and the file's name in `request.upload_failed`.
    """

    # Django reads the body in the smallest chunk of its handlers (64 KiB by default), and
    # gunicorn's body reader copies what it has buffered (up to 1 MiB) again on every read: at
    # 64 KiB that copying was half the web worker's time. 1 MiB reads copy the buffer once.
    # Memory stays flat: one chunk is held at a time (bench/upload.py measures both).
    chunk_size = 1024 * 1024

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        self.received = 0
        self.digest = hashlib.sha256()
        try:
            super().new_file(*args, **kwargs)
        except OSError as error:
            self._failed(error)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > settings.MAX_UPLOAD_BYTES:
            self.file.close()  # a NamedTemporaryFile: closing deletes it
            self.request.upload_too_large = True  # type: ignore[union-attr]
            raise StopUpload(connection_reset=False)
        self.digest.update(raw_data)
        try:
            return super().receive_data_chunk(raw_data, start)
        except OSError as error:
            self._failed(error)

    def file_complete(self, file_size: int) -> Any:
        try:
            uploaded: Any = super().file_complete(file_size)  # flushes the last bytes
        except OSError as error:
            self._failed(error)
        uploaded.sha256 = self.digest.hexdigest()
        return uploaded

    def _failed(self, error: OSError) -> NoReturn:
        """Stop an upload the temporary folder cannot hold, deleting the part written."""
        if hasattr(self, "file"):
            # Closing deletes the temporary file, even when flushing what is buffered fails.
            with suppress(OSError):
                self.file.close()
        self.request.upload_failed = (error, self.file_name)  # type: ignore[union-attr]
        raise StopUpload(connection_reset=False)


NO_LENGTH = (
    "This upload was sent in chunks without its size (no Content-Length header), and this "
    "server cannot read such a body. Send the file with its size, as browsers and `curl -F` "
    "do, or run Cutroom under gunicorn (`make run`), which accepts chunked uploads."
)


class ChunkedUploadMiddleware:
    """Take in a multipart upload sent with `Transfer-Encoding: chunked` and no Content-Length.

    Django reads a WSGI body only up to Content-Length, so such an upload looked empty and was
    answered "This field is required." A server that removes the chunking and ends the body
    says so with `wsgi.input_terminated` (gunicorn, which `make run` and the Procfile use): then
    the body is read to its end, capped at the upload limit. Elsewhere (Django's development
    server hands the raw chunks on) nothing can be read safely, and 411 says what to do.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
        if chunked and not request.META.get("CONTENT_LENGTH"):
            multipart = request.content_type == "multipart/form-data"
            if not (multipart and request.META.get("wsgi.input_terminated")):
                return _length_required(request)
            limit = settings.MAX_UPLOAD_BYTES + settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            request._stream = EndedBody(request.META["wsgi.input"], limit, request)  # type: ignore[assignment]
            # Django's multipart parser reads nothing when the length is 0 or missing; the
            # body ends before this bound, which only has to be above the real length.
            request.META["CONTENT_LENGTH"] = str(limit)
        return self.get_response(request)


class EndedBody:
    """A request body that its server ends, read to its end but never past `limit` bytes.

    Past the limit the request is marked `upload_too_large`, which the upload views answer with
    413 (handle_upload, above), as they do when CappedUploadHandler stops a file.
    """

    def __init__(self, stream: Any, limit: int, request: HttpRequest) -> None:
        self.stream, self.remaining, self.request = stream, limit, request

    def read(self, size: int | None = -1) -> bytes:
        return self._take(self.stream.read, size)

    def readline(self, size: int | None = -1) -> bytes:
        return self._take(self.stream.readline, size)

    def _take(self, reader: Callable[[int], bytes], size: int | None) -> bytes:
        if self.remaining <= 0:
            if self.stream.read(1):
                self.request.upload_too_large = True  # type: ignore[attr-defined]
            return b""
        wanted = self.remaining if size is None or size < 0 else min(size, self.remaining)
        data = reader(wanted)
        self.remaining -= len(data)
        return data

    def close(self) -> None:
        pass  # the server owns the stream


def _length_required(request: HttpRequest) -> HttpResponse:
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"ok": False, "error": NO_LENGTH}, status=411)
    return HttpResponse(NO_LENGTH, status=411, content_type="text/plain; charset=utf-8")


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
    # studio.library.uploads.CappedUploadHandler stopped this upload at the cap while it streamed
    # in, or because the temporary folder could not hold it.
    if getattr(request, "upload_too_large", False):
        return refuse(request, project, too_large_message(), 413)
    failed = getattr(request, "upload_failed", None)
    if failed is not None:
        error, name = failed
        return not_kept(request, project, error, where="temporary", name=name)
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
    except STORAGE_ERRORS as error:
        # The receiving service stored nothing and made no row; the temporary file goes too.
        upload.close()
        where = "bucket" if is_remote(default_storage) else "media"
        return not_kept(request, project, error, where=where, name=upload.name or "")
    note = f"{item.original_name} uploaded; Cutroom is checking the {noun}."
    if not created:
        note = f"{item.original_name} was already uploaded."
    if wants_json(request):
        # The page follows the upload from here (checking, preparing, ready) at `status`.
        kind = "clip" if noun == "video" else "reference"
        status = reverse(f"{kind}_upload_status", args=[item.code])
        answer = {"ok": True, "code": item.code, "created": created, "message": note}
        return JsonResponse(answer | {"status": status}, status=201 if created else 200)
    messages.success(request, note)
    return redirect("project_detail", code=project.code)


# -- a disk or a bucket that cannot keep the upload -----------------------------------------
FULL = disks.DISK_FULL
NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)


def not_kept(
    request: HttpRequest, project: Project, error: BaseException, *, where: str, name: str = ""
) -> HttpResponse:
    """503: the upload was not kept, why, and what to do; nothing of it is left anywhere.

    `where` is "temporary" (the folder uploads stream into), "media" (the media folder) or
    "bucket" (object storage).
    """
    shown = safe_display_name(name, "the file")
    message = upload_problem(error, where=where, name=shown)
    log.error("an upload to project %s was not kept (%s): %r", project.code, where, error)
    if wants_json(request):
        return JsonResponse({"ok": False, "kept": False, "error": message}, status=503)
    context = {"project": project, "message": message}
    return render(request, "library/upload_not_kept.html", context, status=503)


def upload_problem(error: BaseException, *, where: str, name: str) -> str:
    """What went wrong with an upload, that it was not kept, and what the person can do."""
    if isinstance(error, OSError) and where != "bucket":
        # Named as /healthz and take reasons name them (studio/storage/disks.py).
        folder = disks.FOLDER_LABELS["uploads" if where == "temporary" else "media"]
        if error.errno in FULL:
            return (
                f"{folder[0].upper()}{folder[1:]} is full, so {name} was not kept (nothing of it "
                "is stored). Free space on the server, or ask an administrator to, then upload "
                "it again."
            )
        if error.errno in NOT_WRITABLE:
            why = os.strerror(error.errno).lower()
            return (
                f"Cutroom cannot write to {folder} ({why}), so {name} was not kept. An "
                "administrator must make it writable; then upload it again."
            )
        why = error.strerror or type(error).__name__
        return (
            f"Cutroom could not write to {folder} ({why}), so {name} was not kept. Upload it "
            "again in a few minutes; if this keeps happening, tell an administrator."
        )
    return (
        f"Cutroom could not store {name} in its storage bucket ({bucket_error(error)}), so it "
        "was not kept. Upload it again in a few minutes; if this keeps happening, tell an "
        "administrator."
    )
